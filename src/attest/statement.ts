/**
 * in-toto Attestation Framework Statement v1 (in-toto/attestation spec/v1/statement.md): subjects
 * matched purely by digest, our own versioned predicate type, and a DSSE envelope around it.
 */
import type { TargetDescriptor } from '../targets/target.js';

export const statementType = 'https://in-toto.io/Statement/v1';
/** Our predicate type; the major version is part of the URI (in-toto parsing rules). */
export const privacyAuditPredicateType = 'urn:memaudit:attestation:privacy-audit:v1';
/** The predicate type of signed training provenance (provenance.dsse.json, src/attest/provenance.ts). */
export const provenancePredicateType = 'urn:memaudit:provenance:training:v1';

export interface ResourceDescriptor {
  name: string;
  digest: { sha256: string };
  annotations?: Record<string, string>;
}

export interface Statement<P = unknown> {
  _type: typeof statementType;
  subject: ResourceDescriptor[];
  predicateType: string;
  predicate: P;
}

/**
 * Subjects of a target: every model file with its sha256 for a local model; for a model behind
 * an API (no immutable bytes), one subject whose digest is that of the canonical endpoint
 * descriptor, with the endpoint and model id as annotations.
 */
export function subjectsFor(target: TargetDescriptor): ResourceDescriptor[] {
  if (target.files && target.files.length > 0) {
    return target.files.map((f) => ({ name: f.name, digest: { sha256: f.sha256 } }));
  }
  const annotations: Record<string, string> = { kind: target.kind, endpoint: target.target };
  if (target.model) annotations.model = target.model;
  return [{ name: `model:${target.model ?? target.target}`, digest: { sha256: target.digest }, annotations }];
}

export function buildStatement<P>(subject: ResourceDescriptor[], predicateType: string, predicate: P): Statement<P> {
  if (subject.length === 0) throw new Error('an in-toto statement needs at least one subject');
  return { _type: statementType, subject, predicateType, predicate };
}
