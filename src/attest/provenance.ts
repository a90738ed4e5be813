/**
 * Signed training provenance (docs/FORMATS.md "provenance.dsse.json"): `train --sign-key` signs an
 * in-toto Statement whose subjects are the weight files (model.json and its weightsManifest paths),
 * memaudit.json and privacy.json, and whose predicate is the training record (data digest, config,
 * DP ledger, noise source, self-audit). It binds the DP claim to these exact weights
 * (docs/SCIENCE.md "Verifying a DP claim"); `audit --trust-key` and `attest verify` check it.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PrivacyFile, SelfAuditRecord } from '../accounting/privacyFile.js';
import { writeJsonAtomic } from '../core/atomic.js';
import { InputError } from '../core/errors.js';
import { META_JSON, modelFiles, readModelMeta, readPrivacyRecord, type TrainingDataDigest } from '../models/model-dir.js';
import { attestStatement } from './attestation.js';
import { decodeBase64, verifyEnvelope, type DsseEnvelope } from './dsse.js';
import { keyAlgorithm, keyIdOf, publicKeyPemOf, type LoadedPrivateKey } from './keys.js';
import { buildStatement, provenancePredicateType, type ResourceDescriptor, type Statement } from './statement.js';
import { readEnvelope, verifyAttestation } from './verify.js';

export const provenanceFileName = 'provenance.dsse.json';
export { provenancePredicateType };

export interface TrainingProvenancePredicate {
  /** The training data by digest and record count (memaudit.json trainingData): never its contents. */
  trainingData: TrainingDataDigest;
  task: string;
  architecture: string;
  /** The training configuration as memaudit.json records it; null when absent. */
  config: Record<string, unknown> | null;
  /** privacy.json as written: the DP ledger, or {version: 1, dp: false}. */
  ledger: PrivacyFile;
  noiseSource: 'csprng' | 'seeded' | null;
  /** The trainer's white-box self-audit, when it ran. */
  selfAudit: SelfAuditRecord | null;
  toolVersion: string;
  backend: string;
  seed: string | null;
  createdAt: string;
  /**
   * The signer's public key (SPKI PEM) and its keyid: lets any verifier tell a valid signature by an
   * untrusted key from a forged one. Trust comes only from the keys the verifier is given.
   */
  signer: { keyid: string; publicKey: string };
}

/** The files provenance must cover: the weight files the loader reads, memaudit.json and privacy.json (modelFiles). */
export function provenanceFileNames(dir: string): string[] {
  const names = modelFiles(dir).map((f) => f.name);
  if (!names.includes(META_JSON)) throw new InputError(`${dir}: ${META_JSON} not found (training provenance covers the training record)`);
  return names;
}

export async function provenanceStatement(dir: string, signer: KeyObject): Promise<Statement<TrainingProvenancePredicate>> {
  const meta = readModelMeta(dir);
  const ledger = readPrivacyRecord(dir);
  const subjects: ResourceDescriptor[] = modelFiles(dir).map(({ name, sha256 }) => ({ name, digest: { sha256 } }));
  const predicate: TrainingProvenancePredicate = {
    trainingData: meta.trainingData,
    task: meta.task,
    architecture: meta.architecture,
    config: meta.training ?? null,
    ledger,
    noiseSource: ledger.dp ? ledger.noiseSource : null,
    selfAudit: ledger.dp ? (ledger.selfAudit ?? null) : null,
    toolVersion: meta.toolVersion,
    backend: meta.backend,
    seed: meta.seed,
    createdAt: meta.createdAt,
    signer: { keyid: keyIdOf(signer), publicKey: publicKeyPemOf(signer) },
  };
  return buildStatement(subjects, provenancePredicateType, predicate);
}

/**
 * Signs the provenance of a model directory into DIR/provenance.dsse.json (atomic). `train` calls it
 * on the directory before it is published, so the model never appears without its provenance.
 */
export async function writeProvenance(dir: string, key: LoadedPrivateKey): Promise<{ path: string; keyid: string }> {
  const statement = await provenanceStatement(dir, key.key);
  const { envelope, keyid } = attestStatement(statement, key);
  const path = join(dir, provenanceFileName);
  writeJsonAtomic(path, envelope);
  return { path, keyid: keyid! };
}

/**
 * Why a verified statement does not vouch for the directory's current weights as provenance, or
 * null: it must be a provenance statement and name every file the loader reads (its digests are
 * checked by verifyAttestation).
 */
export function provenanceCoverageProblem(statement: Statement, dir: string): string | null {
  if (statement.predicateType !== provenancePredicateType) return `predicateType is ${JSON.stringify(statement.predicateType)}, not ${provenancePredicateType}`;
  let required: string[];
  try {
    required = provenanceFileNames(dir);
  } catch (e) {
    return (e as Error).message;
  }
  const named = new Set(statement.subject.map((s) => s.name));
  const missing = required.filter((name) => !named.has(name));
  return missing.length === 0 ? null : `the signed provenance does not cover ${missing.join(', ')}`;
}

export interface ProvenanceCheck {
  provenance: 'trusted' | 'untrusted' | 'unsigned' | 'invalid';
  keyId?: string;
  problem?: string;
  predicate?: TrainingProvenancePredicate;
}

/** The signer key the (not yet verified) payload names; verification with it proves only self-consistency. */
function namedSigner(envelope: DsseEnvelope): KeyObject | null {
  try {
    const body = decodeBase64(envelope.payload);
    const pem = (JSON.parse(body?.toString('utf8') ?? '') as Statement<TrainingProvenancePredicate>).predicate?.signer?.publicKey;
    if (typeof pem !== 'string') return null;
    const key = createPublicKey({ key: pem, format: 'pem' });
    keyAlgorithm(key); // throws for a key type we do not verify with
    return key;
  } catch {
    return null;
  }
}

/** Signature holds under `key`: the statement must cover the current files with their digests. */
async function checkWithKey(envelope: DsseEnvelope, key: KeyObject, dir: string, trusted: boolean): Promise<ProvenanceCheck> {
  const keyId = keyIdOf(key);
  const v = await verifyAttestation(envelope, key, dir);
  const problem = v.problem ?? (v.statement ? provenanceCoverageProblem(v.statement, dir) : 'the signed payload is not a statement');
  if (problem) return { provenance: 'invalid', keyId, problem };
  const predicate = v.statement!.predicate as TrainingProvenancePredicate;
  if (trusted) return { provenance: 'trusted', keyId, predicate };
  return { provenance: 'untrusted', keyId, problem: `signed by keyid ${keyId}, which is not a trusted key (--trust-key)`, predicate };
}

/**
 * Verifies DIR/provenance.dsse.json against the trusted public keys and the files on disk:
 * trusted (a trusted key signed it and it covers the current weights), untrusted (a valid signature
 * by the key it names, not a trusted one), unsigned (no file or no signature), invalid (otherwise).
 */
export async function verifyProvenance(dir: string, trustedKeys: readonly KeyObject[]): Promise<ProvenanceCheck> {
  const path = join(dir, provenanceFileName);
  if (!existsSync(path)) return { provenance: 'unsigned', problem: `no ${provenanceFileName} in the model directory (train --sign-key writes it)` };
  let envelope: DsseEnvelope;
  try {
    envelope = readEnvelope(path);
  } catch (e) {
    return { provenance: 'invalid', problem: (e as Error).message };
  }
  if (envelope.signatures.length === 0) return { provenance: 'unsigned', problem: `${provenanceFileName} carries no signature` };
  for (const key of trustedKeys) if (verifyEnvelope(envelope, key).ok) return checkWithKey(envelope, key, dir, true);
  const signer = namedSigner(envelope);
  if (signer && verifyEnvelope(envelope, signer).ok) return checkWithKey(envelope, signer, dir, false);
  return { provenance: 'invalid', problem: 'no signature verifies, with a trusted key or with the key the provenance names (altered, or forged)' };
}
