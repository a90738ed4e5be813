/**
 * `attest show`: an attestation or training provenance as a compliance reader reads it. The DSSE
 * payload is decoded and summarized (subjects, verdict, reasons with their numbers, policy, ledger,
 * signer, time); the summary holds digests, counts and figures only, as the statement does.
 */
import { InputError } from '../core/errors.js';
import type { Reason } from '../policy/checks/reason.js';
import type { LedgerEvidence } from '../policy/evidence.js';
import { decodeBase64, type DsseEnvelope } from './dsse.js';
import type { PrivacyAuditPredicate } from './predicate.js';
import type { TrainingProvenancePredicate } from './provenance.js';
import { privacyAuditPredicateType, provenancePredicateType, statementType, type Statement } from './statement.js';

/** The envelope's statement, decoded without checking the signature (the caller says whether it did). */
export function decodeStatement(envelope: DsseEnvelope, path: string): Statement {
  const body = decodeBase64(envelope.payload);
  if (body === null) throw new InputError(`${path}: the DSSE payload is not base64`);
  let statement: Statement;
  try {
    statement = JSON.parse(body.toString('utf8')) as Statement;
  } catch {
    throw new InputError(`${path}: the DSSE payload is not JSON`);
  }
  if (statement?._type !== statementType || !Array.isArray(statement.subject) || typeof statement.predicateType !== 'string') {
    throw new InputError(`${path}: the payload is not an in-toto Statement v1`);
  }
  return statement;
}

function compared(r: Reason): string {
  if (r.value === null) return '';
  const value = Number.isFinite(r.value) ? String(Number(r.value.toPrecision(4))) : String(r.value);
  return r.comparator === null || r.threshold === null ? ` = ${value}` : ` = ${value} (pass: ${r.comparator} ${r.threshold})`;
}

/** One line per reason: outcome, the check, its value against the threshold, and the message. */
export function reasonLines(reasons: readonly Reason[]): string[] {
  return reasons.map((r) => `  ${r.outcome.padEnd(12)} ${r.probe} ${r.metric}${compared(r)}: ${r.message}`);
}

function digest(sha256: string | null | undefined): string {
  return sha256 ? `sha256 ${sha256.slice(0, 16)}...` : 'none';
}

/** A DP ledger as one line: epsilon at delta by its accountant, steps, noise. */
export function ledgerLine(ledger: LedgerEvidence | { dp: false } | null | undefined): string {
  if (!ledger) return 'none (no DP ledger)';
  if (!ledger.dp) return 'not DP-trained';
  const eps = ledger.epsilon[ledger.accountant];
  const noise = ledger.noiseMultiplier === undefined ? '' : `, noise multiplier ${ledger.noiseMultiplier}`;
  return `epsilon ${Number(eps.toPrecision(4))} at delta ${ledger.delta} (${ledger.accountant}), ${ledger.steps} steps${noise}, ${ledger.noiseSource} noise`;
}

function subjectLines(statement: Statement): string[] {
  return statement.subject.map((s) => `  ${s.name}  ${digest(s.digest?.sha256)}`);
}

function auditSummary(p: PrivacyAuditPredicate): [string, string][] {
  const checkpoint = p.auditLogCheckpoint;
  return [
    ['verdict', `${p.verdict} (${p.result})`],
    ['target', `${p.target.target} (${p.target.kind}, ${p.target.task}), ${digest(p.target.digest)}`],
    ['policy', `${p.policy.name}, ${digest(p.policy.digest)}`],
    ['manifest', `${digest(p.manifest.digest)}; dataset ${p.manifest.outputDataset.records} records, ${digest(p.manifest.outputDataset.sha256)}`],
    ['DP ledger', ledgerLine(p.dpLedger)],
    ['audit log', checkpoint ? `entry ${checkpoint.seq}, head ${digest(checkpoint.headHash.sha256)}` : 'not recorded'],
    ['time', `${p.timeStarted} to ${p.timeFinished}`],
    ['tool', `memaudit ${p.toolVersion}, backend ${p.backend}, seed ${p.seed}`],
    ['report', digest(p.report.sha256)],
  ];
}

function provenanceSummary(p: TrainingProvenancePredicate): [string, string][] {
  const s = p.selfAudit;
  const selfAudit = s
    ? `${s.canaries} canaries: epsilon >= ${Number(s.epsilonLowerBound.toPrecision(4))} at ${s.confidence} confidence (at most ${Number(s.ceiling.toPrecision(4))} possible), claim ${s.refuted ? 'REFUTED' : 'not refuted'}`
    : 'none';
  return [
    ['training data', `${p.trainingData.file}: ${p.trainingData.records} records, ${digest(p.trainingData.sha256)}`],
    ['model', `${p.architecture} (${p.task})`],
    ['DP ledger', ledgerLine(p.ledger as LedgerEvidence)],
    ['self-audit', selfAudit],
    ['signer key', p.signer.keyid],
    ['time', p.createdAt],
    ['tool', `memaudit ${p.toolVersion}, backend ${p.backend}, seed ${p.seed ?? 'none (CSPRNG)'}`],
  ];
}

function kind(statement: Statement): string {
  if (statement.predicateType === privacyAuditPredicateType) return 'privacy audit attestation';
  if (statement.predicateType === provenancePredicateType) return 'training provenance';
  return `unknown predicate ${statement.predicateType}`;
}

/** The human summary of a statement; `signature` says whether and how the signature was checked. */
export function describeStatement(statement: Statement, signature: string, keyid: string | undefined): string {
  const rows: [string, string][] = [
    ['statement', kind(statement)],
    ['signature', signature],
    ['signer keyid', keyid ?? 'not given'],
  ];
  let reasons: string[] = [];
  if (statement.predicateType === privacyAuditPredicateType) {
    const p = statement.predicate as PrivacyAuditPredicate;
    rows.push(...auditSummary(p));
    reasons = ['', 'Reasons (outcome, check = value (pass condition): why):', ...reasonLines(p.reasons ?? [])];
  } else if (statement.predicateType === provenancePredicateType) {
    rows.push(...provenanceSummary(statement.predicate as TrainingProvenancePredicate));
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    ...rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`),
    '',
    `Subjects (${statement.subject.length}):`,
    ...subjectLines(statement),
    ...reasons,
  ].join('\n');
}
