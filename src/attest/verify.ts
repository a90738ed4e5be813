/**
 * `attest verify`: the envelope's signature under a given public key, the statement's shape, and
 * (with a model directory) that every subject file still has the attested sha256.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { InputError } from '../core/errors.js';
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

/** A subject name that stays inside the model directory. */
function safeSubjectPath(dir: string, name: string): string | null {
  const norm = normalize(name);
  if (isAbsolute(norm) || norm.startsWith('..')) return null;
  return join(dir, norm);
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
