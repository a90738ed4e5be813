/** Building report.json from an audit's evidence, reading it back for `gate`, and the terminal summary. */
import { readJsonFile, validate } from '../core/schema.js';
import { toolVersion } from '../core/version.js';
import type { AuditEvidence } from '../policy/evidence.js';
import type { LoadedPolicy } from '../policy/types.js';
import { decide, type Verdict } from '../policy/verdict.js';
import type { TargetDescriptor } from '../targets/target.js';
import { reasonRows, show } from './document.js';
import { reportSchema } from './schema.js';
import type { ManifestIntegrity, ProbeOptionsUsed, Report } from './types.js';

export interface ReportInput extends AuditEvidence {
  target: TargetDescriptor;
  backend: string;
  seed: string;
  startedAt: string;
  finishedAt: string;
  probeOptions?: ProbeOptionsUsed;
  manifestIntegrity?: ManifestIntegrity;
}

/** Decides the verdict and assembles the report (validated against its schema: a bug if not). */
export function buildReport(input: ReportInput, policy: LoadedPolicy): { report: Report; verdict: Verdict } {
  // Always recorded, so a report says whether the manifest was checked against the model (null: it was not).
  const binding = input.binding ?? { manifestOutputSha256: input.manifest.output.sha256, modelTrainingDataSha256: null };
  const evidence: AuditEvidence = {
    manifest: input.manifest,
    binding,
    results: input.results,
    failures: input.failures,
    ledger: input.ledger,
    ...(input.dpClaim ? { dpClaim: input.dpClaim } : {}),
  };
  const verdict = decide(evidence, policy);
  const { exitCode: _exit, ...recorded } = verdict;
  const report: Report = {
    version: 1,
    kind: 'memaudit-report',
    toolVersion,
    backend: input.backend,
    seed: input.seed,
    startedAt: input.startedAt,
    finishedAt: input.finishedAt,
    target: input.target,
    ...evidence,
    ...(input.probeOptions ? { probeOptions: input.probeOptions } : {}),
    policy: policy.policy,
    verdict: recorded,
    ...(input.manifestIntegrity ? { manifestIntegrity: input.manifestIntegrity } : {}),
  };
  // Round-trip through JSON so what is validated is what will be written (Infinity -> "Infinity").
  validate(reportSchema, JSON.parse(serializeReport(report)), 'report.json (memaudit bug: the report does not match its schema)');
  return { report, verdict };
}

/** JSON text of a report: Infinity/NaN become strings, as everywhere in memaudit's JSON. */
export function serializeReport(report: Report): string {
  return JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2) + '\n';
}

/** Reads and validates a report.json (gate); a bad file is one line naming it and the place. */
export function readReport(path: string): Report {
  return readJsonFile<Report>(path, reportSchema);
}

/** The evidence inside a report, for re-deciding with another policy. */
export function evidenceOf(report: Report): AuditEvidence {
  return {
    manifest: report.manifest,
    ...(report.binding ? { binding: report.binding } : {}),
    results: report.results,
    failures: report.failures,
    ledger: report.ledger,
    ...(report.dpClaim ? { dpClaim: report.dpClaim } : {}),
  };
}

/** Rows of the terminal summary table (header first): the verdict's reasons, then key figures. */
export function summaryRows(report: Report, verdict: Pick<Verdict, 'verdict' | 'reasons'> = report.verdict): string[][] {
  const rows: string[][] = [['outcome', 'probe', 'metric', 'value', 'pass if', 'why']];
  rows.push(...reasonRows(verdict.reasons).map((r) => r.map((c, i) => (i === 5 && c.length > 110 ? c.slice(0, 107) + '...' : c))));
  const ex = report.results.exposure;
  if (ex) for (const g of ex.byRepetitions) rows.push(['', 'exposure', `meanExposureBits@${g.repetitions}x`, show(g.meanExposureBits), '', `${g.count} canaries, max ${show(g.maxExposureBits)} bits`]);
  const mb = report.results.membership;
  if (mb) for (const a of mb.attacks) rows.push(['', 'membership', `auc:${a.name}`, show(a.auc), '', `TPR ${show(a.tprAtFpr['0.001'])} @ 0.1% FPR, ${show(a.tprAtFpr['0.01'])} @ 1%`]);
  if (report.ledger?.dp) rows.push(['', 'dp-ledger', 'epsilon', show(report.ledger.epsilon[report.ledger.accountant]), '', `delta ${report.ledger.delta}, ${report.ledger.accountant}`]);
  const claim = report.dpClaim;
  if (claim) {
    const fields = claim.mismatches.map((m) => m.field).join(', ');
    rows.push(['', 'dp-claim', 'recomputedEpsilon', show(claim.recomputedEpsilon), '', `ledger ${claim.ledgerVerified ? 'verified' : `NOT verified (${fields})`}; provenance ${claim.provenance}`]);
  }
  return rows;
}
