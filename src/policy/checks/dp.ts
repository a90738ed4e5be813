/**
 * The DP claim: the ledger against the policy's ceilings, the empirical dp-audit and the trainer's
 * white-box self-audit (a refutation at confidence >= 1 - alpha is PHI), the claim's verification
 * (ledger recomputed, signed provenance), and what a verified claim proves by theorem
 * (docs/SCIENCE.md, "DP as a stand-in").
 */
import type { DpAuditResult } from '../../../probes/types.js';
import { claimedEpsilon, type AuditEvidence, type DpClaimEvidence, type LedgerEvidence } from '../evidence.js';
import type { Policy } from '../types.js';
import type { DpStandIn } from './context.js';
import { fmt, num, reason, type Reason } from './reason.js';

function ledgerProblems(ledger: Extract<LedgerEvidence, { dp: true }>, p: Policy): string[] {
  const claimed = claimedEpsilon(ledger)!;
  const problems: string[] = [];
  if (!(claimed <= p.dp.maxEpsilon)) problems.push(`epsilon ${fmt(claimed)} > ${p.dp.maxEpsilon}`);
  if (!(ledger.delta <= p.dp.maxDelta)) problems.push(`delta ${ledger.delta} > ${p.dp.maxDelta}`);
  if (ledger.noiseSource === 'seeded' && !p.dp.acceptSeededNoise) problems.push('the DP noise was seeded (reproducible, not for production)');
  return problems;
}

export function ledgerChecks(ledger: LedgerEvidence | null, p: Policy): Reason[] {
  const claimed = claimedEpsilon(ledger);
  const base = { probe: 'dp-ledger' as const, metric: 'epsilon', value: claimed, threshold: p.dp.maxEpsilon, comparator: '<=' as const };
  if (!ledger || !ledger.dp) {
    const what = ledger ? 'the model was trained without DP' : 'no DP ledger is available for this target';
    return [reason({ ...base, outcome: p.dp.required ? 'PHI' : 'INFO', message: p.dp.required ? `${what}, and the policy requires DP training with epsilon <= ${p.dp.maxEpsilon}` : what })];
  }
  const problems = ledgerProblems(ledger, p);
  const claim = `the model claims (epsilon ${fmt(claimed!)}, delta ${ledger.delta})-DP (${ledger.accountant} accountant, ${ledger.steps} steps, ${ledger.noiseSource} noise)`;
  if (problems.length === 0) return [reason({ ...base, outcome: p.dp.required ? 'PASS' : 'INFO', message: claim })];
  return [reason({ ...base, outcome: p.dp.required ? 'PHI' : 'INFO', message: `${claim}; ${p.dp.required ? 'the policy requires' : 'note:'} ${problems.join(', ')}` })];
}

/** A refutation is PHI only at the policy's confidence: a 95% bound would call PHI on a correct implementation one time in twenty. */
function refutedAtPolicyConfidence(confidence: number, p: Policy): boolean {
  return confidence >= 1 - p.alpha - 1e-12;
}

export function dpAuditChecks(r: DpAuditResult, ledger: LedgerEvidence | null, p: Policy): Reason[] {
  const claimed = r.claimedEpsilon ?? claimedEpsilon(ledger);
  const lower = num(r.epsilonLowerBound);
  const base = { probe: 'dp-audit' as const, metric: 'epsilonLowerBound', value: lower, threshold: claimed, comparator: '<=' as const };
  if (claimed === null) {
    return [reason({ ...base, outcome: 'INFO', message: `empirical epsilon lower bound ${fmt(lower)} at ${r.confidence} confidence (${r.method}, ${r.canaries} canaries; the largest bound they could give is ${fmt(num(r.ceiling))}); no DP claim to test` })];
  }
  if (lower > claimed || r.refuted) {
    if (!refutedAtPolicyConfidence(r.confidence, p)) {
      const needed = 1 - p.alpha;
      return [reason({ ...base, outcome: 'INCONCLUSIVE', message: `the empirical epsilon lower bound ${fmt(lower)} exceeds the claimed epsilon ${fmt(claimed)} at ${r.confidence} confidence, but the policy calls a DP claim refuted only at ${fmt(needed)} confidence (1 - alpha ${p.alpha}); rerun the audit with --probe-option dp-audit.confidence=${fmt(needed)}` })];
    }
    return [reason({ ...base, outcome: 'PHI', message: `DP claim refuted: the empirical epsilon lower bound ${fmt(lower)} (${r.method}, ${r.confidence} confidence, ${r.canaries} canaries) exceeds the claimed epsilon ${fmt(claimed)}; the DP implementation or its accounting is wrong` })];
  }
  return [reason({ ...base, outcome: 'INFO', message: `empirical epsilon lower bound ${fmt(lower)} <= claimed ${fmt(claimed)} (${r.method}, ${r.canaries} canaries): not refuted. A low lower bound is not evidence of privacy: ${r.canaries} canaries could never show more than ${fmt(num(r.ceiling))}` })];
}

function verificationReason(claim: DpClaimEvidence, p: Policy): Reason {
  const base = { probe: 'dp-ledger' as const, metric: 'ledgerVerified', value: claim.mismatches.length, threshold: 0, comparator: '<=' as const };
  if (claim.ledgerVerified) {
    const recomputed = claim.recomputedEpsilon === null ? '' : ` (epsilon recomputed: ${fmt(claim.recomputedEpsilon)})`;
    return reason({ ...base, outcome: 'INFO', message: `the DP ledger recomputes from its mechanism parameters and matches the training config${recomputed}` });
  }
  const fields = claim.mismatches.map((m) => `${m.field} (ledger ${m.ledger}, expected ${m.expected})`).join('; ') || 'the ledger could not be recomputed';
  const consequence = p.dp.required ? 'the policy requires a valid DP claim' : 'the claim is invalid and cannot help clear the model';
  return reason({ ...base, outcome: p.dp.required ? 'PHI' : 'INFO', message: `the DP claim does not verify: ${fields}; ${consequence}` });
}

function provenanceReason(claim: DpClaimEvidence): Reason {
  const key = claim.provenanceKeyId ? ` (key ${claim.provenanceKeyId})` : '';
  const problem = claim.provenanceProblem ? `: ${claim.provenanceProblem}` : '';
  const meaning = {
    trusted: 'signed by a trusted key over the current weight files',
    untrusted: 'signed, but not by a key the audit trusts',
    unsigned: 'no signed training provenance',
    invalid: 'the signature does not hold or does not cover the current weights',
  }[claim.provenance];
  return reason({ probe: 'dp-ledger', metric: 'provenance', outcome: 'INFO', message: `training provenance ${claim.provenance}${key}: ${meaning}${problem}` });
}

function selfAuditReason(claim: DpClaimEvidence, p: Policy): Reason | null {
  const audit = claim.selfAudit;
  if (!audit) return null;
  const base = { probe: 'dp-ledger' as const, metric: 'selfAuditEpsilonLowerBound', value: num(audit.epsilonLowerBound), threshold: audit.claimedEpsilon, comparator: '<=' as const };
  const figures = `${audit.method}, ${audit.canaries} audit canaries, ${audit.correct}/${audit.guesses} correct guesses, ${audit.confidence} confidence`;
  if (audit.refuted && refutedAtPolicyConfidence(audit.confidence, p)) {
    return reason({ ...base, outcome: 'PHI', message: `DP claim refuted by the trainer's white-box self-audit: epsilon lower bound ${fmt(num(audit.epsilonLowerBound))} > claimed ${fmt(audit.claimedEpsilon)} (${figures})` });
  }
  if (audit.refuted) {
    return reason({ ...base, outcome: 'INCONCLUSIVE', message: `the trainer's white-box self-audit bound ${fmt(num(audit.epsilonLowerBound))} exceeds the claimed epsilon ${fmt(audit.claimedEpsilon)} at ${audit.confidence} confidence, below the policy's ${fmt(1 - p.alpha)} (${figures})` });
  }
  return reason({ ...base, outcome: 'INFO', message: `the trainer's white-box self-audit does not refute the claim: lower bound ${fmt(num(audit.epsilonLowerBound))} <= ${fmt(audit.claimedEpsilon)} (${figures}; a low lower bound is not evidence of privacy)` });
}

export function dpClaimChecks(claim: DpClaimEvidence | undefined, ledger: LedgerEvidence | null, p: Policy): Reason[] {
  if (!ledger || !ledger.dp || !claim) return [];
  const selfAudit = selfAuditReason(claim, p);
  return [verificationReason(claim, p), provenanceReason(claim), ...(selfAudit ? [selfAudit] : [])];
}

/** Why a DP claim cannot stand in for an empirical test, or null when it can. */
function standInObstacle(e: AuditEvidence, p: Policy): string | null {
  if (!p.dp.standIn) return 'the policy does not let a DP guarantee stand in for an empirical test';
  if (!e.ledger || !e.ledger.dp) return 'the model claims no DP';
  if (!e.dpClaim) return 'the DP claim was not verified (no ledger recomputation or provenance check in the evidence)';
  if (!e.dpClaim.ledgerVerified) return 'the DP ledger does not verify';
  if (e.dpClaim.provenance !== 'trusted') return `the DP claim is not bound to these weights by trusted provenance (${e.dpClaim.provenance})`;
  if (e.ledger.noiseSource === 'seeded' && !p.dp.acceptSeededNoise) return 'the DP noise was seeded';
  if (e.dpClaim.selfAudit?.refuted) return "the trainer's self-audit bound exceeds the claim";
  return null;
}

/**
 * Group privacy: (eps, delta)-DP gives a record inserted r times (r eps, r e^((r-1) eps) delta)-DP,
 * so the chance its exposure exceeds b, 2^-b for a model that never saw it, is at most
 * e^(r eps) 2^-b + r e^((r-1) eps) delta.
 */
export function groupPrivacyExposureBound(epsilon: number, delta: number, repetitions: number, maxBits: number): number {
  return Math.exp(repetitions * epsilon) * 2 ** -maxBits + repetitions * Math.exp((repetitions - 1) * epsilon) * delta;
}

/** What the model's DP claim proves by theorem, if it may stand in (hypothesis-testing bound TPR <= e^eps FPR + delta). */
export function dpStandIn(e: AuditEvidence, p: Policy): DpStandIn {
  const obstacle = standInObstacle(e, p);
  const ledger = e.ledger;
  if (obstacle !== null || !ledger || !ledger.dp) {
    return { usable: false, epsilon: NaN, delta: NaN, basis: obstacle ?? 'no DP claim', membershipTprBound: null, exposureFractionBound: () => null };
  }
  const epsilon = claimedEpsilon(ledger)!;
  const delta = ledger.delta;
  return {
    usable: true,
    epsilon,
    delta,
    basis: `the verified (epsilon ${fmt(epsilon)}, delta ${delta})-DP guarantee`,
    membershipTprBound: Math.exp(epsilon) * Number(p.membership.fpr) + delta,
    exposureFractionBound: (r) => groupPrivacyExposureBound(epsilon, delta, r, p.exposure.maxBits),
  };
}

/** An INFO line saying whether the DP claim can stand in, so a reader knows why a check did or did not pass by theorem. */
export function standInReason(e: AuditEvidence, standIn: DpStandIn): Reason | null {
  if (!e.ledger || !e.ledger.dp) return null;
  return reason({
    probe: 'dp-ledger',
    metric: 'standsIn',
    outcome: 'INFO',
    message: standIn.usable
      ? `${standIn.basis} may stand in for empirical checks it implies (membership: TPR <= ${fmt(standIn.membershipTprBound!)} at the policy FPR); findings still count`
      : `the DP claim cannot stand in for an empirical test: ${standIn.basis}`,
  });
}
