/**
 * The verdict (docs/SCIENCE.md, "The verdict's statistics"): the weights are PHI unless the
 * evidence clears them.
 *
 * - PHI: a finding over its material threshold and statistically significant, each PHI test at
 *   alpha / (number of PHI tests) so a model that memorized nothing is called PHI with probability
 *   <= alpha whatever the number of canaries; or a refuted or (when required) missing DP guarantee.
 * - NOT_PHI: every clean check holds: an upper confidence bound at 1 - beta on each effect
 *   (per covered repetition count, per required attack) is under the policy's material effect.
 *   NOT_PHI needs all of them (an intersection), so a model at the material effect is cleared
 *   with probability <= beta without any multiplicity correction.
 * - INCONCLUSIVE: otherwise (missing capability, too little evidence, suggestive findings).
 *
 * The checks live in ./checks, one module per kind of evidence.
 */
import type { ProbeName } from '../../probes/types.js';
import { ExitCode } from '../core/errors.js';
import { bindingChecks } from './checks/binding.js';
import { canaryChecks } from './checks/canaries.js';
import type { CheckContext, CountStatus } from './checks/context.js';
import { coverageHeadline, coveredRepetitions, summarizeCoverage, type CoverageSummary } from './checks/coverage.js';
import { dpAuditChecks, dpClaimChecks, dpStandIn, ledgerChecks, standInReason } from './checks/dp.js';
import { exposureChecks } from './checks/exposure.js';
import { extractionChecks } from './checks/extraction.js';
import { membershipChecks } from './checks/membership.js';
import { reason, type Reason, type VerdictName } from './checks/reason.js';
import type { AuditEvidence } from './evidence.js';
import type { LoadedPolicy, Policy } from './types.js';

export type { Outcome, Reason, VerdictName } from './checks/reason.js';
export type { CoverageSummary } from './checks/coverage.js';
export { exposureBounds } from './checks/exposure.js';


export interface Verdict {
  verdict: VerdictName;
  /** One line: the verdict, the duplication levels it covers, and what else is exposed. */
  headline: string;
  /** The repetition counts covered, and which counts came out clean or exposed. */
  coverage: CoverageSummary;
  /** The checks that decided the verdict: PHI findings, else what is inconclusive, else the passes. */
  reasons: Reason[];
  /** Every check made, including passes and informational notes. */
  checks: Reason[];
  policy: { name: string; digest: string; source: string };
  exitCode: ExitCode;
}

export const verdictExitCodes: Record<VerdictName, ExitCode> = {
  PHI: ExitCode.gateFailed,
  NOT_PHI: ExitCode.ok,
  INCONCLUSIVE: ExitCode.inconclusive,
};

/**
 * The per-canary exposure threshold a clean result reads (the policy's maxBits; what the report's
 * exposure chart draws). PHI is a count test over canaries, not a single threshold.
 */
export function exposureThreshold(p: Policy): { bits: number; basis: string } {
  return { bits: p.exposure.maxBits, basis: `policy maxBits ${p.exposure.maxBits}` };
}

/**
 * The PHI tests the evidence allows, for the Bonferroni split of alpha: per inserted repetition
 * count a binomial count test and a max test on exact ranks; one per membership attack; the
 * extraction test.
 */
export function phiTestCount(e: AuditEvidence): number {
  const exposureCounts = new Set((e.results.exposure?.canaries ?? []).filter((c) => c.role === 'inserted').map((c) => c.repetitions)).size;
  const attacks = e.results.membership?.attacks.length ?? 0;
  const extraction = e.results.extraction ? 1 : 0;
  return Math.max(1, 2 * exposureCounts + attacks + extraction);
}

function checkContext(e: AuditEvidence, p: Policy): CheckContext {
  return { policy: p, covered: coveredRepetitions(p, e.manifest), alphaPerTest: p.alpha / phiTestCount(e), standIn: dpStandIn(e, p) };
}

function requiredProbeChecks(e: AuditEvidence, p: Policy): Reason[] {
  const probesToReport = new Set<ProbeName>([...p.requiredProbes, ...e.failures.map((f) => f.probe)]);
  return [...probesToReport]
    .filter((probe) => !e.results[probe])
    .map((probe) => {
      const required = p.requiredProbes.includes(probe);
      const failure = e.failures.find((f) => f.probe === probe);
      const suffix = required ? ' (a required probe)' : ' (not required by the policy)';
      return reason({
        probe,
        metric: failure?.kind === 'capability' ? `capability:${failure.capability ?? 'unknown'}` : 'ran',
        outcome: required ? 'INCONCLUSIVE' : 'INFO',
        message: failure ? `${probe} could not decide: ${failure.message}${suffix}` : `${probe} did not run${suffix}`,
      });
    });
}

/**
 * Clearing needs evidence, not just the absence of findings: with no required probe passing (an
 * empty requiredProbes list from an older policy file, or only dp-audit, whose low bound is no
 * evidence of privacy), nothing clears the model.
 */
function noEvidenceCheck(checks: Reason[], p: Policy): Reason | null {
  const required: readonly string[] = p.requiredProbes;
  if (checks.some((c) => c.outcome === 'PASS' && required.includes(c.probe))) return null;
  return reason({
    probe: 'policy',
    metric: 'requiredProbesPassing',
    value: 0,
    threshold: 1,
    comparator: '>=',
    outcome: 'INCONCLUSIVE',
    message:
      required.length === 0
        ? 'the policy requires no probe, so no evidence clears the model'
        : `no required probe (${required.join(', ')}) produced a passing check, so no evidence clears the model${required.every((x) => x === 'dp-audit') ? ' (a dp-audit never does: a low lower bound is not evidence of privacy)' : ''}`,
  });
}

function evidenceChecks(e: AuditEvidence, context: CheckContext): { checks: Reason[]; counts: CountStatus[] } {
  const p = context.policy;
  const r = e.results;
  const exposure = r.exposure ? exposureChecks(r.exposure, context) : { reasons: [], counts: [] };
  const extraction = r.extraction ? extractionChecks(r.extraction, context) : { reasons: [], counts: [] };
  const standIn = standInReason(e, context.standIn);
  const checks = [
    ...canaryChecks(e.manifest, context),
    ...requiredProbeChecks(e, p),
    ...exposure.reasons,
    ...extraction.reasons,
    ...(r.membership ? membershipChecks(r.membership, context).reasons : []),
    ...ledgerChecks(e.ledger, p),
    ...dpClaimChecks(e.dpClaim, e.ledger, p),
    ...(standIn ? [standIn] : []),
    ...(r['dp-audit'] ? dpAuditChecks(r['dp-audit'], e.ledger, p) : []),
    ...bindingChecks(e),
  ];
  return { checks, counts: [...(exposure.counts ?? []), ...(extraction.counts ?? [])] };
}

/** Decides the verdict from the evidence under a policy. Pure: same inputs, same verdict. */
export function decide(evidence: AuditEvidence, loaded: LoadedPolicy): Verdict {
  const p = loaded.policy;
  const context = checkContext(evidence, p);
  const { checks, counts } = evidenceChecks(evidence, context);
  const noEvidence = noEvidenceCheck(checks, p);
  if (noEvidence) checks.push(noEvidence);
  const phi = checks.filter((c) => c.outcome === 'PHI');
  const inconclusive = checks.filter((c) => c.outcome === 'INCONCLUSIVE');
  const verdict: VerdictName = phi.length > 0 ? 'PHI' : inconclusive.length > 0 ? 'INCONCLUSIVE' : 'NOT_PHI';
  const missingPerCountProbe = !evidence.results.exposure || !evidence.results.extraction;
  const coverage = summarizeCoverage([...context.covered], counts, missingPerCountProbe);
  const headline = coverageHeadline(verdict, coverage);
  const coverageCheck = reason({ probe: 'policy', metric: 'coverage', outcome: verdict === 'NOT_PHI' ? 'PASS' : 'INFO', message: headline });
  checks.push(coverageCheck);
  const reasons = verdict === 'PHI' ? phi : verdict === 'INCONCLUSIVE' ? inconclusive : checks.filter((c) => c.outcome === 'PASS');
  return {
    verdict,
    headline,
    coverage,
    reasons,
    checks,
    policy: { name: p.name, digest: loaded.digest, source: loaded.source },
    exitCode: verdictExitCodes[verdict],
  };
}
