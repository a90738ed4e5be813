/**
 * `memaudit plan`'s sizing (docs/SCIENCE.md, "Sizing an audit"): how many canaries per covered
 * repetition count, references, holdout records (non-members) and members an audit needs so that a
 * model that memorized nothing comes out NOT_PHI with probability >= 0.95 under the policy, and how
 * likely a model at the policy's material effect is called PHI. Pure: exact binomial and
 * negative-hypergeometric sums, no sampling.
 */
import { clopperPearson } from '../../probes/metrics.js';
import { clearableCounter, fewestTrialsToClear } from './bounds.js';
import { dpStandIn } from './checks/dp.js';
import type { DpStandIn } from './checks/context.js';
import { nullExceedRate } from './checks/exposure.js';
import { hedgedNonMemberRank, membershipPValue } from './checks/membership.js';
import { binomialUpperTail, membersAboveCdf } from './stats.js';
import type { AuditEvidence } from './evidence.js';
import type { Policy } from './types.js';

/** The chance a null model must clear with (an overall P(NOT_PHI | memorized nothing)). */
export const planTargetNotPhi = 0.95;

export interface PlanRequest {
  policy: Policy;
  /** Records in the training data before canaries (members and the holdout come from it). */
  datasetSize: number;
  /** The repetition counts to plant and cover. */
  repetitions: number[];
  /** log2 of the pack's secret space. */
  spaceSizeLog2: number;
  /** exact: ranks enumerated (small spaces); estimated: sampled, with intervals. */
  exposureMode: 'exact' | 'estimated';
  /** The DP guarantee the model will be trained with (verified ledger, trusted provenance): checks it implies pass by theorem. */
  dp?: { epsilon: number; delta: number };
}

/** Which checks a planned DP guarantee passes by theorem (the verdict's own stand-in rule). */
export interface PlanStandIn {
  epsilon: number;
  delta: number;
  /** e^eps fpr + delta <= maxTpr: every membership attack. */
  membership: boolean;
  /** Repetition counts whose group-privacy exposure bound is <= maxFraction. */
  repetitions: number[];
}

export interface Plan {
  /** Inserted canaries per repetition count. */
  canaries: Record<string, number>;
  references: number;
  /** Records withheld from training: the membership non-members. */
  holdout: number;
  /** Training records scored as membership members. */
  members: number;
  /** P(NOT_PHI) for a model that memorized nothing (a lower bound: union bound over membership attacks). */
  pNotPhiNull: number;
  /** P(PHI) for a model at the policy's material effect in one check (the least detectable check). */
  pPhiAtEffect: number;
  /** Present when the request names a DP guarantee: what it passes by theorem (those checks get only the sizes that let a finding still convict). */
  standIn?: PlanStandIn;
}

/** A request that cannot be met (exit 2 with the reason). */
export class ImpossiblePlan extends Error {}

/**
 * Exposure interval of an estimated canary as a sampling estimator gives it: `beating` of
 * `samples` uniform candidates score above the secret; Clopper-Pearson on that fraction at
 * `confidence`, exposure = -log2(fraction), log2|R| when no sample beat it.
 */
export function sampledExposureInterval(beating: number, samples: number, confidence: number, spaceSizeLog2: number): { lower: number; upper: number } {
  const fraction = clopperPearson(beating, samples, confidence);
  return {
    lower: Math.min(spaceSizeLog2, -Math.log2(fraction.upper)),
    upper: fraction.lower > 0 ? Math.min(spaceSizeLog2, -Math.log2(fraction.lower)) : spaceSizeLog2,
  };
}

/**
 * P(a never-memorized canary is not resolved at or under maxBits). Exact ranks: 2^-maxBits.
 * Estimated at maxSamples: the rank fraction U is uniform, so the count of samples beating the
 * secret is uniform on 0..M (a beta-binomial(1, 1)); count the counts whose interval reaches over.
 */
export function nullUnresolvedRate(p: Policy, mode: 'exact' | 'estimated', spaceSizeLog2: number): number {
  if (mode === 'exact') return 2 ** -p.exposure.maxBits;
  const samples = p.exposure.maxSamples;
  let unresolved = 0;
  for (let k = 0; k <= samples; k++) {
    if (sampledExposureInterval(k, samples, p.exposure.intervalConfidence, spaceSizeLog2).upper > p.exposure.maxBits) unresolved++;
    else break; // the upper end falls as more samples beat the secret
  }
  return unresolved / (samples + 1);
}

/** P(a covered count with n canaries does not clear) for a null model. */
export function exposureFailure(n: number, unresolvedRate: number, p: Policy, clearableOf = clearableCounter(p.exposure.maxFraction, p.beta)): number {
  const clearable = clearableOf(n);
  return clearable < 0 ? 1 : binomialUpperTail(clearable + 1, n, unresolvedRate);
}

/** P(one attack does not clear) for exchangeable scores with m members and nm non-members (read at the hedged threshold). */
export function membershipFailure(members: number, nonMembers: number, p: Policy, clearableOf = clearableCounter(p.membership.maxTpr, p.beta / 2)): number {
  const fpr = Number(p.membership.fpr);
  if (nonMembers < Math.ceil(1 / fpr)) return 1;
  const clearable = clearableOf(members);
  if (clearable < 0) return 1;
  return Math.max(0, 1 - membersAboveCdf(clearable, hedgedNonMemberRank(fpr, nonMembers, p.beta / 2), members, nonMembers));
}

/**
 * Smallest n >= start with failure(n) <= budget. Failure is not monotone in n (the clearable count
 * steps up unevenly), so after a coarse step finds one, every n in the last step is tried.
 */
function smallestWithin(start: number, limit: number, budget: number, failure: (n: number) => number): number | null {
  const step = Math.max(1, Math.ceil(start / 8));
  let high = start;
  while (high <= limit && failure(high) > budget) high += step;
  if (high > limit) return null;
  for (let n = Math.max(start, high - step + 1); n < high; n++) if (failure(n) <= budget) return n;
  return high;
}

function canariesPerCount(p: Policy, unresolvedRate: number, budget: number): number {
  const clearableOf = clearableCounter(p.exposure.maxFraction, p.beta);
  const n = smallestWithin(fewestTrialsToClear(p.exposure.maxFraction, p.beta), 100_000, budget, (k) => exposureFailure(k, unresolvedRate, p, clearableOf));
  if (n === null) throw new ImpossiblePlan(`no number of canaries clears exposure.maxFraction ${p.exposure.maxFraction} at beta ${p.beta} with a null exceed rate of ${unresolvedRate}`);
  return n;
}

/** Members and non-members with the fewest records in all: non-members a multiple of 1/fpr (the FPR read exactly). */
function membershipSizes(p: Policy, budget: number): { members: number; nonMembers: number } {
  const unit = Math.ceil(1 / Number(p.membership.fpr));
  const start = fewestTrialsToClear(p.membership.maxTpr, p.beta / 2);
  let best: { members: number; nonMembers: number } | null = null;
  for (let multiple = 1; multiple <= 5; multiple++) {
    const nonMembers = unit * multiple;
    const clearableOf = clearableCounter(p.membership.maxTpr, p.beta / 2);
    const members = smallestWithin(start, 50_000, budget, (m) => membershipFailure(m, nonMembers, p, clearableOf));
    if (members !== null && (!best || members + nonMembers < best.members + best.nonMembers)) best = { members, nonMembers };
  }
  if (!best) throw new ImpossiblePlan(`no membership sample up to 50000 members clears maxTpr ${p.membership.maxTpr} at ${p.membership.fpr} FPR`);
  return best;
}

/** Smallest count above `from` whose p-value is at most the level (p-values fall as the count grows); null if none. */
function firstSignificant(from: number, to: number, alphaPerTest: number, pValue: (count: number) => number): number | null {
  for (let count = from; count <= to; count++) if (pValue(count) <= alphaPerTest) return count;
  return null;
}

/** P(PHI) for canaries at the material effect: each resolved above maxBits with probability maxFraction. */
export function exposurePhiAtEffect(n: number, p: Policy, alphaPerTest: number, estimated: boolean): number {
  const rate = nullExceedRate(p, estimated);
  const first = firstSignificant(Math.floor(n * p.exposure.maxFraction) + 1, n, alphaPerTest, (x) => binomialUpperTail(x, n, rate));
  return first === null ? 0 : binomialUpperTail(first, n, p.exposure.maxFraction);
}

/** P(PHI) for an attack at the material effect: each member above the threshold with probability maxTpr. */
export function membershipPhiAtEffect(members: number, nonMembers: number, p: Policy, alphaPerTest: number): number {
  const fpr = Number(p.membership.fpr);
  const first = firstSignificant(Math.floor(members * p.membership.maxTpr) + 1, members, alphaPerTest, (t) => membershipPValue(t / members, fpr, members, nonMembers));
  return first === null ? 0 : binomialUpperTail(first, members, p.membership.maxTpr);
}

function checkFeasible(r: PlanRequest): void {
  const p = r.policy;
  if (r.spaceSizeLog2 <= p.exposure.maxBits) {
    throw new ImpossiblePlan(`the secret space (${r.spaceSizeLog2.toFixed(2)} bits) cannot exceed the policy's exposure.maxBits (${p.exposure.maxBits}): exposure could never tell a memorized canary apart; use a pack with a larger secret space`);
  }
  if (r.spaceSizeLog2 < p.power.minSecretSpaceBits) {
    throw new ImpossiblePlan(`the secret space (${r.spaceSizeLog2.toFixed(2)} bits) is below the policy's power.minSecretSpaceBits (${p.power.minSecretSpaceBits}); use a pack with a larger secret space`);
  }
  if (r.repetitions.length === 0) throw new ImpossiblePlan('no repetition count to plan for');
}

/**
 * The stand-in the verdict will apply (checks/dp.ts `dpStandIn`, the same function) for a claim
 * that verifies and is bound to the weights by trusted provenance, which is what training as
 * planned (`train --dp ... --sign-key`, `audit --trust-key`) gives.
 */
export function plannedStandIn(p: Policy, dp: { epsilon: number; delta: number }): DpStandIn {
  const evidence = {
    ledger: { version: 1, dp: true, epsilon: { rdp: dp.epsilon, pld: dp.epsilon }, accountant: 'rdp', delta: dp.delta, noiseSource: 'csprng', steps: 0 },
    dpClaim: { ledgerVerified: true, mismatches: [], recomputedEpsilon: dp.epsilon, provenance: 'trusted' },
  } as unknown as AuditEvidence;
  return dpStandIn(evidence, p);
}

function standInCoverage(p: Policy, r: PlanRequest): PlanStandIn | undefined {
  if (!r.dp) return undefined;
  const standIn = plannedStandIn(p, r.dp);
  const passes = (bound: number | null) => bound !== null && bound <= p.exposure.maxFraction;
  return {
    ...r.dp,
    membership: standIn.membershipTprBound !== null && standIn.membershipTprBound <= p.membership.maxTpr,
    repetitions: r.repetitions.filter((count) => passes(standIn.exposureFractionBound(count))),
  };
}

/**
 * Sizes an audit for the policy: every covered count and every required attack that must clear
 * empirically share the 5% null failure budget (union bound). A check a planned DP guarantee passes
 * by theorem cannot fail for a null model: when every count does, they keep the policy's floor of canaries; membership
 * keeps 1/fpr non-members and as many members (the least with which the attack reads the policy's
 * FPR, so a finding still convicts).
 */
export function planAudit(r: PlanRequest): Plan {
  checkFeasible(r);
  const p = r.policy;
  const standIn = standInCoverage(p, r);
  const attacks = p.requiredProbes.includes('membership') ? p.membership.attacks.length : 0;
  const empiricalAttacks = standIn?.membership ? 0 : attacks;
  const exposureCounts = p.requiredProbes.includes('exposure') ? r.repetitions.length : 0;
  const empiricalCounts = exposureCounts === 0 ? [] : r.repetitions.filter((count) => !standIn?.repetitions.includes(count));
  const budget = (1 - planTargetNotPhi) / Math.max(1, empiricalCounts.length + empiricalAttacks);
  const unresolvedRate = nullUnresolvedRate(p, r.exposureMode, r.spaceSizeLog2);
  const floor = p.power.minCanariesPerRepetition;
  const perCount = empiricalCounts.length > 0 ? Math.max(floor, canariesPerCount(p, unresolvedRate, budget)) : floor;
  const byTheoremHoldout = Math.ceil(1 / Number(p.membership.fpr));
  const { members, nonMembers } =
    attacks === 0 ? { members: 0, nonMembers: 0 } : empiricalAttacks === 0 ? { members: byTheoremHoldout, nonMembers: byTheoremHoldout } : membershipSizes(p, budget);
  if (members + nonMembers > r.datasetSize) {
    throw new ImpossiblePlan(`the dataset (${r.datasetSize} records) is too small for the holdout (${nonMembers} records withheld as non-members) plus ${members} members the policy's membership test needs`);
  }
  const alphaPerTest = p.alpha / Math.max(1, 2 * r.repetitions.length + attacks + 1);
  const exposureFail = empiricalCounts.length > 0 ? exposureFailure(perCount, unresolvedRate, p) : 0;
  const membershipFail = empiricalAttacks > 0 ? membershipFailure(members, nonMembers, p) : 0;
  const pNotPhiNull = (1 - exposureFail) ** empiricalCounts.length * Math.max(0, 1 - empiricalAttacks * membershipFail);
  const exposureEffect = exposureCounts > 0 ? exposurePhiAtEffect(perCount, p, alphaPerTest, r.exposureMode === 'estimated') : null;
  const membershipEffect = attacks > 0 ? membershipPhiAtEffect(members, nonMembers, p, alphaPerTest) : null;
  // The least detectable check among those that must clear empirically (all of them when the theorem covers everything).
  const empirical = [...(empiricalCounts.length > 0 ? [exposureEffect] : []), ...(empiricalAttacks > 0 ? [membershipEffect] : [])];
  const effects = (empirical.length > 0 ? empirical : [exposureEffect, membershipEffect]).filter((x): x is number => x !== null);
  return {
    // `canary insert` deals inserted canaries round-robin over the counts, so every count gets the most any count needs.
    canaries: Object.fromEntries(r.repetitions.map((count) => [String(count), perCount])),
    references: p.power.minReferenceCanaries,
    holdout: nonMembers,
    members,
    pNotPhiNull,
    pPhiAtEffect: effects.length > 0 ? Math.min(...effects) : 0,
    ...(standIn ? { standIn } : {}),
  };
}
