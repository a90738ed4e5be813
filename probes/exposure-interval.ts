/**
 * What sampled candidates resolve about a canary's exposure (docs/SCIENCE.md#exposure-intervals-and-adaptive-sampling;
 * Carlini et al. 2019, "The Secret Sharer", section 4 for exposure and its estimation by sampling).
 *
 * With rank(s) = |{r in R : Px(r) <= Px(s)}| (the secret counts itself) and p = rank(s) / |R|, a
 * candidate drawn uniformly from R is at least as likely as the secret with probability exactly p,
 * so the count k of such candidates among M independent uniform draws is Binomial(M, p). A
 * Clopper-Pearson interval [pL, pU] on p is an interval on exposure = -log2 p:
 *
 *   [ -log2 pU , min(log2|R|, -log2 pL) ],   k = 0 gives pL = 0: the upper end is log2|R| (unresolved).
 *
 * Adaptive sampling looks at the count after each doubling of M, and stops once the interval no
 * longer straddles the policy's maxBits; each look's interval is at confidence 1 - (1 - c) / looks
 * (Bonferroni over the planned looks), so the interval reported when sampling stops holds at c
 * whatever the stopping rule did.
 */
import betaQuantile from '@stdlib/stats-base-dists-beta-quantile';
import { clopperPearson } from './metrics.js';
import type { Interval } from './types.js';

/** k of M uniform candidates scored at least as likely as the secret. */
export interface RankCount {
  atLeastAsLikely: number;
  samples: number;
}

export interface SamplingPlan {
  /** Uniform candidates drawn first. */
  samples: number;
  /** Budget: no more candidates than this per canary (at least `samples` are always drawn). */
  maxSamples: number;
  /** The policy's exposure threshold: an interval resolves when it lies wholly on one side. */
  maxBits: number;
  /** Confidence of the reported interval. */
  confidence: number;
  log2Size: number;
}

/** Exposure interval from a rank count at `confidence` (two-sided Clopper-Pearson on p = rank / |R|). */
export function exposureInterval(count: RankCount, log2Size: number, confidence: number): Interval {
  const p = clopperPearson(count.atLeastAsLikely, count.samples, confidence, 'two-sided');
  const upper = p.lower > 0 ? Math.min(log2Size, -Math.log2(p.lower)) : log2Size;
  const lower = Math.min(upper, Math.max(0, -Math.log2(p.upper)));
  return { lower, upper, confidence };
}

/**
 * Median-unbiased exposure from a rank count: the midpoint of the one-sided 50% Clopper-Pearson
 * bounds on p (Birnbaum), 1 - 2^(-1/M) when k = 0, the point used where no sample beat the secret.
 */
export function medianUnbiasedExposure(count: RankCount, log2Size: number): number {
  const { atLeastAsLikely: k, samples: m } = count;
  const lo = k === 0 ? 0 : betaQuantile(0.5, k, m - k + 1);
  const hi = k === m ? 1 : betaQuantile(0.5, k + 1, m - k);
  const p = k === 0 ? hi : k === m ? lo : (lo + hi) / 2;
  return Math.min(log2Size, Math.max(0, -Math.log2(p)));
}

/** Whether an interval leaves it open which side of maxBits the exposure is on (lower <= maxBits < upper). */
export function straddles(interval: Interval, maxBits: number): boolean {
  return interval.lower <= maxBits && maxBits < interval.upper;
}

/** Sample sizes looked at: samples, then doubling, the last one clipped to maxSamples. */
export function plannedSampleSizes(samples: number, maxSamples: number): number[] {
  const sizes = [samples];
  while (sizes[sizes.length - 1]! < maxSamples) sizes.push(Math.min(2 * sizes[sizes.length - 1]!, maxSamples));
  return sizes;
}

export interface AdaptiveOutcome {
  count: RankCount;
  interval: Interval;
}

/**
 * Draws uniform candidates until the interval resolves against maxBits or the budget is spent.
 * `draw(n)` scores n fresh uniform candidates and returns how many are at least as likely as the
 * secret; earlier draws are kept, each round adds as many as were drawn before (doubling).
 */
export async function sampleUntilResolved(draw: (count: number) => Promise<number>, plan: SamplingPlan): Promise<AdaptiveOutcome> {
  const sizes = plannedSampleSizes(plan.samples, plan.maxSamples);
  const perLook = 1 - (1 - plan.confidence) / sizes.length;
  const count: RankCount = { atLeastAsLikely: 0, samples: 0 };
  let interval: Interval | undefined;
  for (const size of sizes) {
    count.atLeastAsLikely += await draw(size - count.samples);
    count.samples = size;
    interval = exposureInterval(count, plan.log2Size, perLook);
    if (!straddles(interval, plan.maxBits)) break;
  }
  return { count, interval: { ...interval!, confidence: plan.confidence } };
}

/**
 * The reported point exposure of a sampled canary: the estimator's value inside the interval. An
 * estimate claiming rank < 2 (nothing found beating the secret, or a fitted tail beyond the space)
 * is not evidence of rank 1, which only enumeration shows: the median-unbiased value stands in.
 */
export function pointExposure(estimateBits: number, count: RankCount, interval: Interval, log2Size: number): number {
  const value = estimateBits > log2Size - 1 ? medianUnbiasedExposure(count, log2Size) : estimateBits;
  return Math.min(interval.upper, Math.max(interval.lower, value));
}
