/**
 * The audit log checked against signed heads. Anyone who can write the log can recompute its
 * whole chain, so the chain alone proves nothing to a verifier. Each `audit` signs, in its
 * attestation, the head that includes its own entry (`auditLogCheckpoint`); a log is trusted only
 * where it reproduces those signed heads, and an `audit` entry no given attestation signs is
 * treated as forged (docs/SCIENCE.md#audit-log-integrity).
 */
import type { KeyObject } from 'node:crypto';
import { inTotoPayloadType, verifyEnvelope, type DsseEnvelope } from './dsse.js';
import type { AuditLogEntry, AuditLogVerification } from './audit-log.js';
import type { PrivacyAuditPredicate } from './predicate.js';
import { privacyAuditPredicateType, type Statement } from './statement.js';

export interface AnchorSource {
  /** Where the attestation came from, for messages. */
  name: string;
  envelope: DsseEnvelope;
}

export interface AnchorCheck {
  ok: boolean;
  /** The first problem, naming the attestation or the log line. */
  problem: string | null;
  /** Seqs of the entries a valid signature vouches for. */
  anchoredSeqs: number[];
  /** Entries after the last signed head: intact as a chain, but vouched for by no signature. */
  unanchoredTail: number;
}

/** The signed head an attestation names, or the reason it cannot serve as an anchor. */
function signedHead(source: AnchorSource, publicKey: KeyObject): { seq: number; hash: string } | string {
  const sig = verifyEnvelope(source.envelope, publicKey);
  if (!sig.ok) return `${source.name}: ${sig.problem}`;
  if (source.envelope.payloadType !== inTotoPayloadType) return `${source.name}: payloadType is not ${inTotoPayloadType}`;
  let statement: Statement<PrivacyAuditPredicate>;
  try {
    statement = JSON.parse(sig.body.toString('utf8')) as Statement<PrivacyAuditPredicate>;
  } catch {
    return `${source.name}: the signed payload is not JSON`;
  }
  if (statement?.predicateType !== privacyAuditPredicateType) return `${source.name}: not a memaudit audit attestation`;
  const checkpoint = statement.predicate?.auditLogCheckpoint;
  if (!checkpoint || !Number.isInteger(checkpoint.seq) || typeof checkpoint.headHash?.sha256 !== 'string') {
    return `${source.name}: names no audit log head (the audit ran without a log)`;
  }
  return { seq: checkpoint.seq, hash: checkpoint.headHash.sha256 };
}

/**
 * Checks a verified chain (`chain`, the entries of an intact log) against the heads signed in
 * `sources` under `publicKey`. Fails on a bad signature, a signed head the log does not reproduce
 * (rewritten or truncated log), or an `audit` entry no attestation signs (forged entry).
 */
export function checkAuditLogAnchors(verification: AuditLogVerification, chain: AuditLogEntry[], sources: AnchorSource[], publicKey: KeyObject): AnchorCheck {
  const anchored = new Set<number>();
  const fail = (problem: string): AnchorCheck => ({ ok: false, problem, anchoredSeqs: [...anchored].sort((a, b) => a - b), unanchoredTail: 0 });
  if (!verification.ok) return fail(`the chain is broken at line ${verification.problem!.line}`);
  for (const source of sources) {
    const head = signedHead(source, publicKey);
    if (typeof head === 'string') return fail(head);
    const entry = chain[head.seq - 1];
    if (!entry) return fail(`${source.name} signs entry ${head.seq}, but the log has only ${chain.length} entries (entries were removed)`);
    if (entry.hash !== head.hash) return fail(`line ${head.seq}: the entry is not the one ${source.name} signs (the log was rewritten)`);
    anchored.add(head.seq);
  }
  const forged = chain.find((e) => e.command === 'audit' && !anchored.has(e.seq));
  if (forged) return fail(`line ${forged.seq}: an audit entry that no given attestation signs (forged, or its attestation was not given)`);
  const last = Math.max(0, ...anchored);
  return { ok: true, problem: null, anchoredSeqs: [...anchored].sort((a, b) => a - b), unanchoredTail: chain.length - last };
}
