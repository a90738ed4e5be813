/**
 * The predicate of our attestation: the verdict and its evidence in compact form. Field names of
 * in-toto's test-result predicate (`result`, `configuration`) are mirrored so generic verifiers
 * can read pass/fail without knowing ours; the rest are extension fields (monotonic: ignoring
 * them never turns a FAILED into a PASSED).
 */
import type { AuditLogHead } from './audit-log.js';
import { buildStatement, privacyAuditPredicateType, subjectsFor, type Statement } from './statement.js';
import type { Reason, VerdictName } from '../policy/verdict.js';
import type { DpClaimEvidence, LedgerEvidence } from '../policy/evidence.js';
import type { ManifestIntegrity, Report } from '../report/types.js';

export interface PrivacyAuditPredicate {
  verdict: VerdictName;
  /** test-result compatible: NOT_PHI passes, PHI fails, INCONCLUSIVE warns. */
  result: 'PASSED' | 'FAILED' | 'WARNED';
  reasons: Reason[];
  figures: Record<string, unknown>;
  configuration: { name: string; digest: { sha256: string } }[];
  policy: { name: string; digest: string };
  manifest: { digest: string; inputDataset: { sha256: string; records: number }; outputDataset: { sha256: string; records: number } };
  /** The manifest's output dataset against the model's recorded training data; null model digest: unverified (API, foreign model). */
  manifestBinding: { manifestOutputSha256: string; modelTrainingDataSha256: string | null };
  /** The manifest's signature and its roles against the training data; null: not checked by this memaudit (older reports). */
  manifestIntegrity: ManifestIntegrity | null;
  target: { target: string; kind: string; task: string; digest: string; model?: string };
  dpLedger: LedgerEvidence | null;
  /** The DP claim as the audit checked it (ledger recomputed, provenance verified); absent without a DP claim. */
  dpClaim?: DpClaimEvidence;
  report: { sha256: string };
  toolVersion: string;
  backend: string;
  seed: string;
  timeStarted: string;
  timeFinished: string;
  /**
   * The audit log's head including this audit's own entry: the signed anchor `audit-log verify
   * --attestation` checks the log against, so a rewritten, truncated or forged log is caught.
   */
  auditLogCheckpoint: { seq: number; headHash: { sha256: string } } | null;
}

const results: Record<VerdictName, PrivacyAuditPredicate['result']> = { NOT_PHI: 'PASSED', PHI: 'FAILED', INCONCLUSIVE: 'WARNED' };

/** Key figures only: group statistics and counts, never per-canary lists. */
function figures(report: Report): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const ex = report.results.exposure;
  if (ex) out.exposure = { spaceSizeLog2: ex.spaceSizeLog2, byRepetitions: ex.byRepetitions, reference: ex.reference };
  const xt = report.results.extraction;
  if (xt) out.extraction = { attempted: xt.targeted.attempted, extracted: xt.targeted.extracted, byRepetitions: xt.targeted.byRepetitions, untargetedSamples: xt.untargeted.samples };
  const mb = report.results.membership;
  if (mb) out.membership = mb.attacks.map((a) => ({ name: a.name, members: a.members, nonMembers: a.nonMembers, auc: a.auc, tprAtFpr: a.tprAtFpr }));
  const da = report.results['dp-audit'];
  if (da) out.dpAudit = { method: da.method, epsilonLowerBound: da.epsilonLowerBound, confidence: da.confidence, ceiling: da.ceiling, claimedEpsilon: da.claimedEpsilon, refuted: da.refuted, canaries: da.canaries };
  return out;
}

export function privacyAuditStatement(report: Report, reportSha256: string, checkpoint: AuditLogHead | null): Statement<PrivacyAuditPredicate> {
  const v = report.verdict;
  const { epsilonHistory: _history, ...ledger } = (report.ledger ?? {}) as Record<string, unknown>;
  const predicate: PrivacyAuditPredicate = {
    verdict: v.verdict,
    result: results[v.verdict],
    reasons: v.reasons,
    figures: figures(report),
    configuration: [
      { name: `policy:${v.policy.name}`, digest: { sha256: v.policy.digest } },
      { name: 'manifest', digest: { sha256: report.manifest.digest } },
    ],
    policy: { name: v.policy.name, digest: v.policy.digest },
    manifest: { digest: report.manifest.digest, inputDataset: report.manifest.input, outputDataset: report.manifest.output },
    manifestBinding: report.binding ?? { manifestOutputSha256: report.manifest.output.sha256, modelTrainingDataSha256: null },
    manifestIntegrity: report.manifestIntegrity ?? null,
    target: { target: report.target.target, kind: report.target.kind, task: report.target.task, digest: report.target.digest, ...(report.target.model ? { model: report.target.model } : {}) },
    dpLedger: report.ledger === null ? null : (ledger as unknown as LedgerEvidence),
    ...(report.dpClaim ? { dpClaim: report.dpClaim } : {}),
    report: { sha256: reportSha256 },
    toolVersion: report.toolVersion,
    backend: report.backend,
    seed: report.seed,
    timeStarted: report.startedAt,
    timeFinished: report.finishedAt,
    auditLogCheckpoint: checkpoint ? { seq: checkpoint.seq, headHash: { sha256: checkpoint.hash } } : null,
  };
  return buildStatement(subjectsFor(report.target), privacyAuditPredicateType, predicate);
}
