/**
 * `attest verify`: the envelope's signature under a given public key, the statement's shape, and
 * (with a model directory) that every subject file still has the attested sha256.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { confinedModelPath, modelFiles } from '../models/model-files.js';
import { sha256File } from '../core/hash.js';
import { readJsonFile, type JsonSchema } from '../core/schema.js';
import { inTotoPayloadType, verifyEnvelope, type DsseEnvelope } from './dsse.js';
import type { KeyObject } from 'node:crypto';
import { statementType, type Statement } from './statement.js';

export const envelopeSchema: JsonSchema = {
  type: 'object',
  required: ['payload', 'payloadType', 'signatures'],
  properties: {
    payload: { type: 'string' },
    payloadType: { type: 'string' },
    signatures: {
      type: 'array',
      items: { type: 'object', required: ['sig'], properties: { sig: { type: 'string' }, keyid: { type: 'string' } } },
    },
  },
};

export function readEnvelope(path: string): DsseEnvelope {
  return readJsonFile<DsseEnvelope>(path, envelopeSchema);
}

export interface SubjectCheck {
  name: string;
  expected: string;
  actual: string | null;
  ok: boolean;
}

export interface AttestationVerification {
  ok: boolean;
  /** The first reason verification failed, or null. */
  problem: string | null;
  keyid?: string;
  statement?: Statement;
  subjects: SubjectCheck[];
}

/** A subject name's file, inside the model directory (no "..", absolute path or symlink out), else null. */
function safeSubjectPath(dir: string, name: string): string | null {
  try {
    return confinedModelPath(dir, name, 'subject');
  } catch (e) {
    if (e instanceof InputError) return null;
    throw e;
  }
}

/** A file the loader would read from the directory that no subject covers, or null (then the attestation covers the model whole). */
function unattestedFile(dir: string, subjects: SubjectCheck[]): string | null {
  const attested = new Set(subjects.map((s) => s.name));
  const missing = modelFiles(dir).find((f) => !attested.has(f.name));
  return missing ? missing.name : null;
}

export async function verifyAttestation(envelope: DsseEnvelope, publicKey: KeyObject, modelDir?: string): Promise<AttestationVerification> {
  const fail = (problem: string, extra: Partial<AttestationVerification> = {}): AttestationVerification => ({ ok: false, problem, subjects: [], ...extra });
  const sig = verifyEnvelope(envelope, publicKey);
  if (!sig.ok) return fail(sig.problem);
  // Only after the signature holds: check the type and parse the exact verified bytes.
  if (envelope.payloadType !== inTotoPayloadType) return fail(`payloadType is ${JSON.stringify(envelope.payloadType)}, not ${inTotoPayloadType}`);
  let statement: Statement;
  try {
    statement = JSON.parse(sig.body.toString('utf8')) as Statement;
  } catch {
    return fail('the signed payload is not JSON');
  }
  if (statement?._type !== statementType || !Array.isArray(statement.subject) || statement.subject.length === 0) {
    return fail(`the payload is not an in-toto Statement v1 with subjects`);
  }
  const subjects: SubjectCheck[] = [];
  if (modelDir !== undefined) {
    if (!existsSync(modelDir)) throw new InputError(`${modelDir}: model directory not found`);
    for (const s of statement.subject) {
      const expected = s.digest?.sha256;
      const path = safeSubjectPath(modelDir, s.name);
      if (!expected || path === null) return fail(`subject ${JSON.stringify(s.name)} is not a model file with a sha256 digest (an API target cannot be checked with --model)`, { statement, keyid: sig.keyid });
      const actual = existsSync(path) ? await sha256File(path) : null;
      subjects.push({ name: s.name, expected, actual, ok: actual === expected });
    }
    const bad = subjects.find((s) => !s.ok);
    const extra = bad ? null : unattestedFile(modelDir, subjects);
    if (extra !== null) {
      return { ok: false, problem: `${join(modelDir, extra)} is read when the model loads but is not an attested subject`, keyid: sig.keyid, statement, subjects };
    }
    if (bad) {
      return {
        ok: false,
        problem: bad.actual === null ? `${join(modelDir, bad.name)} is missing (attested subject)` : `${join(modelDir, bad.name)} was modified: sha256 ${bad.actual} is not the attested ${bad.expected}`,
        keyid: sig.keyid,
        statement,
        subjects,
      };
    }
  }
  return { ok: true, problem: null, keyid: sig.keyid, statement, subjects };
}
