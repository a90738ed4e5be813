/**
 * Exposure (Secret Sharer), judged per repetition count (docs/SCIENCE.md, "The verdict's statistics").
 *
 * - Clean: f_r, the fraction of canaries inserted r times whose exposure exceeds maxBits, has a
 *   Clopper-Pearson upper bound at 1 - beta at most maxFraction. A canary counts as "not
 *   exceeding" only if its interval's upper end is at or under maxBits; an unresolved or
 *   unmeasured canary counts as exceeding.
 * - PHI: more canaries resolved above maxBits (interval lower end) than the null model allows
 *   (exact binomial test against 2^-maxBits, plus the interval's miss rate for estimates; a max test
 *   on exact ranks), at the Bonferroni share of alpha, and a point fraction above maxFraction.
 */
import type { CanaryExposure, ExposureResult } from '../../../probes/types.js';
import { proportionUpperBound, trialsToClearAtRate } from '../bounds.js';
import { binomialUpperTail } from '../stats.js';
import type { Policy } from '../types.js';
import { isCovered, type CheckContext, type CheckResult, type CountStatus } from './context.js';
import { fmt, num, reason, type Reason } from './reason.js';

export interface ExposureBounds {
  lower: number;
  upper: number;
}

/**
 * What a canary's measurement resolves: an exact rank its value; an estimate its interval; an
 * estimate without an interval nothing ([0, log2|R|]); null when unmeasured (NaN).
 */
export function exposureBounds(canary: CanaryExposure, spaceSizeLog2: number): ExposureBounds | null {
  if (canary.method === 'exact') {
    const value = num(canary.exposureBits);
    return Number.isNaN(value) ? null : { lower: value, upper: value };
  }
  if (!canary.exposureInterval) return { lower: 0, upper: spaceSizeLog2 };
  const lower = num(canary.exposureInterval.lower);
  const upper = num(canary.exposureInterval.upper);
  return Number.isNaN(lower) || Number.isNaN(upper) ? null : { lower, upper };
}

/** Null model: P(a never-memorized canary resolves above maxBits) <= 2^-maxBits, plus an estimate's interval miss rate. */
export function nullExceedRate(policy: Policy, estimated: boolean): number {
  return 2 ** -policy.exposure.maxBits + (estimated ? 1 - policy.exposure.intervalConfidence : 0);
}

interface Tally {
  canaries: number;
  /** Upper end over maxBits, or unmeasured: what the clean bound counts. */
  notBelow: number;
  /** Lower end over maxBits: what the PHI test counts. */
  above: number;
  unresolved: number;
  unmeasured: string[];
  estimated: boolean;
  exactCount: number;
  exactMax: number;
  /** The canary resolved highest (its id and lower end), for messages. */
  top: { id: string; lower: number } | null;
}

function tally(canaries: CanaryExposure[], policy: Policy, spaceSizeLog2: number): Tally {
  const maxBits = policy.exposure.maxBits;
  const t: Tally = { canaries: canaries.length, notBelow: 0, above: 0, unresolved: 0, unmeasured: [], estimated: false, exactCount: 0, exactMax: -Infinity, top: null };
  for (const c of canaries) {
    const bounds = exposureBounds(c, spaceSizeLog2);
    t.estimated ||= c.method !== 'exact';
    if (!bounds) {
      t.unmeasured.push(c.id);
      t.notBelow++;
      continue;
    }
    if (bounds.upper > maxBits) t.notBelow++;
    if (bounds.lower > maxBits) t.above++;
    else if (bounds.upper > maxBits) t.unresolved++;
    if (c.method === 'exact') {
      t.exactCount++;
      t.exactMax = Math.max(t.exactMax, bounds.lower);
    }
    if (!t.top || bounds.lower > t.top.lower) t.top = { id: c.id, lower: bounds.lower };
  }
  return t;
}

/** p-value of the PHI test: the smaller of the binomial count test and the max test on exact ranks (both in the Bonferroni family). */
function phiPValue(t: Tally, policy: Policy): number {
  const binomial = binomialUpperTail(t.above, t.canaries, nullExceedRate(policy, t.estimated));
  // P(max of n uniform-rank exposures >= e) = 1 - (1 - 2^-e)^n.
  const max = t.exactCount > 0 && Number.isFinite(t.exactMax) ? -Math.expm1(t.exactCount * Math.log1p(-(2 ** -Math.max(0, t.exactMax)))) : 1;
  return Math.min(binomial, max);
}

interface CountJudgement {
  repetitions: number;
  tally: Tally;
  upperBound: number;
  pValue: number;
  material: boolean;
  significant: boolean;
  clean: boolean;
}

function judge(repetitions: number, canaries: CanaryExposure[], r: ExposureResult, context: CheckContext, detectable: boolean): CountJudgement {
  const p = context.policy;
  const t = tally(canaries, p, r.spaceSizeLog2);
  const upperBound = proportionUpperBound(t.notBelow, t.canaries, p.beta);
  const pValue = phiPValue(t, p);
  return {
    repetitions,
    tally: t,
    upperBound,
    pValue,
    material: t.above / t.canaries > p.exposure.maxFraction,
    significant: pValue <= context.alphaPerTest,
    clean: detectable && upperBound <= p.exposure.maxFraction,
  };
}

function findingText(j: CountJudgement, r: ExposureResult, context: CheckContext): string {
  const t = j.tally;
  const top = t.top ? `; highest canary ${t.top.id} resolved above ${fmt(t.top.lower)} of ${fmt(r.spaceSizeLog2)} possible bits` : '';
  return (
    `${t.above} of ${t.canaries} canaries inserted ${j.repetitions}x are resolved above ${fmt(context.policy.exposure.maxBits)} bits of exposure ` +
    `(fraction ${fmt(t.above / t.canaries)} > ${context.policy.exposure.maxFraction}; null-model p = ${fmt(j.pValue)} <= ${fmt(context.alphaPerTest)}${top})`
  );
}

function whyNotClean(j: CountJudgement, r: ExposureResult, p: Policy, detectable: boolean): string {
  const t = j.tally;
  const maxBits = fmt(p.exposure.maxBits);
  if (!detectable) return `the secret space (${fmt(r.spaceSizeLog2)} bits) cannot exceed ${maxBits} bits, so exposure cannot tell memorized canaries apart`;
  const parts = [`the ${fmt(1 - p.beta)} upper bound of the fraction over ${maxBits} bits is ${fmt(j.upperBound)} > ${p.exposure.maxFraction}`];
  if (t.notBelow === 0) parts.push(`${t.canaries} canaries are too few: with none over, the policy needs >= ${trialsToClearAtRate(0, p.exposure.maxFraction, p.beta)}`);
  if (t.above > 0) parts.push(`${t.above} resolved above`);
  if (t.unresolved > 0) parts.push(`${t.unresolved} have intervals straddling ${maxBits} bits or unresolved (sample more candidates, up to exposure.maxSamples, or use exact mode)`);
  if (t.unmeasured.length > 0) parts.push(`${t.unmeasured.length} have no exposure value (NaN or missing, e.g. canary ${t.unmeasured[0]}): an unmeasured canary cannot be cleared`);
  if (t.notBelow > 0) {
    const needed = trialsToClearAtRate(t.notBelow / t.canaries, p.exposure.maxFraction, p.beta);
    parts.push(needed === null ? 'at this rate no number of canaries clears' : `at this rate about ${needed} canaries per count would clear`);
  }
  return parts.join('; ');
}

function coveredReason(j: CountJudgement, r: ExposureResult, context: CheckContext, calibrated: boolean, detectable: boolean): Reason {
  const p = context.policy;
  const t = j.tally;
  const base = { probe: 'exposure' as const, metric: `exceedingFraction@${j.repetitions}x`, value: t.notBelow / t.canaries, threshold: p.exposure.maxFraction, comparator: '<=' as const };
  if (j.material && j.significant) {
    if (calibrated) return reason({ ...base, value: t.above / t.canaries, outcome: 'PHI', message: findingText(j, r, context) });
    return reason({ ...base, outcome: 'INCONCLUSIVE', message: `${findingText(j, r, context)}, but never-inserted references exceed ${fmt(p.exposure.maxBits)} bits as often as chance does not allow, so the null model does not hold and exposure cannot convict` });
  }
  if (j.clean) {
    const note = j.significant ? `; ${t.above} resolved above ${fmt(p.exposure.maxBits)} bits (p = ${fmt(j.pValue)}): some memorization, below the material effect` : '';
    return reason({ ...base, outcome: 'PASS', message: `canaries inserted ${j.repetitions}x: ${t.notBelow} of ${t.canaries} not resolved at or under ${fmt(p.exposure.maxBits)} bits; the ${fmt(1 - p.beta)} upper bound of the fraction, ${fmt(j.upperBound)}, is <= ${p.exposure.maxFraction}${note}` });
  }
  const theorem = context.standIn.exposureFractionBound(j.repetitions);
  if (theorem !== null && theorem <= p.exposure.maxFraction) {
    return reason({ ...base, outcome: 'PASS', message: `canaries inserted ${j.repetitions}x pass by theorem: ${context.standIn.basis} bounds the fraction over ${fmt(p.exposure.maxBits)} bits by e^(r eps) 2^-maxBits + r e^((r-1) eps) delta = ${fmt(theorem)} <= ${p.exposure.maxFraction} (group privacy; measured: ${whyNotClean(j, r, p, detectable)})` });
  }
  return reason({ ...base, outcome: 'INCONCLUSIVE', message: `canaries inserted ${j.repetitions}x cannot be cleared: ${whyNotClean(j, r, p, detectable)}` });
}

function uncoveredReason(j: CountJudgement, r: ExposureResult, context: CheckContext, exposed: boolean): Reason {
  const t = j.tally;
  const base = { probe: 'exposure' as const, metric: `exceedingFraction@${j.repetitions}x`, value: t.notBelow / t.canaries, threshold: context.policy.exposure.maxFraction, comparator: '<=' as const, outcome: 'INFO' as const };
  const scope = `(not covered by the policy, so it does not decide the verdict)`;
  if (exposed) return reason({ ...base, value: t.above / t.canaries, message: `records repeated ${j.repetitions} times are exposed: ${findingText(j, r, context)} ${scope}` });
  if (j.clean) return reason({ ...base, message: `canaries inserted ${j.repetitions}x: upper bound ${fmt(j.upperBound)} of the fraction over ${fmt(context.policy.exposure.maxBits)} bits is <= ${context.policy.exposure.maxFraction} ${scope}` });
  return reason({ ...base, message: `canaries inserted ${j.repetitions}x are not cleared: ${whyNotClean(j, r, context.policy, r.spaceSizeLog2 > context.policy.exposure.maxBits)} ${scope}` });
}

/** Never-inserted references resolved above maxBits more often than the null model allows (at level beta): the null does not hold. */
function referenceCalibration(r: ExposureResult, p: Policy): { calibrated: boolean; reason: Reason | null } {
  const references = r.canaries.filter((c) => c.role === 'reference');
  if (references.length === 0) return { calibrated: true, reason: null };
  const t = tally(references, p, r.spaceSizeLog2);
  const pValue = binomialUpperTail(t.above, t.canaries, nullExceedRate(p, t.estimated));
  const calibrated = pValue >= p.beta;
  return {
    calibrated,
    reason: reason({
      probe: 'exposure',
      metric: 'referencesAboveMaxBits',
      value: t.above,
      threshold: null,
      outcome: 'INFO',
      message: calibrated
        ? `${t.above} of ${t.canaries} never-inserted reference canaries resolved above ${fmt(p.exposure.maxBits)} bits, consistent with the null model (p = ${fmt(pValue)})`
        : `${t.above} of ${t.canaries} never-inserted reference canaries resolved above ${fmt(p.exposure.maxBits)} bits (null-model p = ${fmt(pValue)} < ${p.beta}): the model ranks secrets it never saw high (a guessable format or a biased estimate), so exposure findings cannot be attributed to memorization`,
    }),
  };
}

export function exposureChecks(r: ExposureResult, context: CheckContext): CheckResult {
  const groups = new Map<number, CanaryExposure[]>();
  for (const c of r.canaries) {
    if (c.role !== 'inserted') continue;
    const group = groups.get(c.repetitions);
    if (group) group.push(c);
    else groups.set(c.repetitions, [c]);
  }
  const detectable = r.spaceSizeLog2 > context.policy.exposure.maxBits;
  const { calibrated, reason: calibration } = referenceCalibration(r, context.policy);
  const reasons: Reason[] = [];
  const counts: CountStatus[] = [];
  for (const [repetitions, canaries] of [...groups.entries()].sort((a, b) => a[0] - b[0])) {
    const j = judge(repetitions, canaries, r, context, detectable);
    const exposed = j.material && j.significant && calibrated;
    const covered = isCovered(context, repetitions);
    const judged = covered ? coveredReason(j, r, context, calibrated, detectable) : uncoveredReason(j, r, context, exposed);
    reasons.push(judged);
    counts.push({ repetitions, clean: judged.outcome === 'PASS' || (!covered && j.clean), exposed });
  }
  if (calibration) reasons.push(calibration);
  if (r.insertedVsReference) {
    reasons.push(
      reason({
        probe: 'exposure',
        metric: 'insertedVsReferencePValue',
        value: r.insertedVsReference.pValue,
        outcome: 'INFO',
        message: `inserted vs reference exposure (${r.insertedVsReference.test}): p = ${fmt(r.insertedVsReference.pValue)}; a small p shows some memorization of the canaries, which the per-count checks above decide on`,
      }),
    );
  }
  return { reasons, counts };
}
