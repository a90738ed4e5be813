/**
 * The clean direction's bounds (docs/SCIENCE.md, "The verdict's statistics"): a check clears when
 * the Clopper-Pearson upper bound at 1 - beta of its effect (a fraction of canaries, a TPR) is at
 * most the policy's material effect. Shared by the verdict and by `plan`'s sizing.
 */
import { clopperPearson } from '../../probes/metrics.js';

const upperBounds = new Map<string, number>();

/** One-sided Clopper-Pearson upper bound at 1 - beta of a proportion seen k times in n (memoized: plan and gate ask for the same few). */
export function proportionUpperBound(k: number, n: number, beta: number): number {
  const key = `${k}/${n}/${beta}`;
  let bound = upperBounds.get(key);
  if (bound === undefined) {
    if (upperBounds.size > 100_000) upperBounds.clear();
    bound = clopperPearson(k, n, 1 - beta, 'upper').upper;
    upperBounds.set(key, bound);
  }
  return bound;
}

/** The most events out of n whose upper bound still clears `maxRate`; -1 when even 0 cannot (too few trials). */
export function largestClearableCount(n: number, maxRate: number, beta: number): number {
  let k = -1;
  while (k + 1 <= n && proportionUpperBound(k + 1, n, beta) <= maxRate) k++;
  return k;
}

/** largestClearableCount for a rising n, each call starting from the last answer (it never falls as n grows). */
export function clearableCounter(maxRate: number, beta: number): (n: number) => number {
  let lastN = 0;
  let lastK = -1;
  return (n) => {
    let k = n >= lastN ? lastK : -1;
    while (k + 1 <= n && proportionUpperBound(k + 1, n, beta) <= maxRate) k++;
    lastN = n;
    lastK = k;
    return k;
  };
}

/** Fewest trials with which 0 events clears `maxRate`: 1 - beta^(1/n) <= maxRate. */
export function fewestTrialsToClear(maxRate: number, beta: number): number {
  let n = Math.max(1, Math.ceil(Math.log(beta) / Math.log1p(-maxRate)) - 1);
  while (proportionUpperBound(0, n, beta) > maxRate) n++;
  return n;
}

/**
 * Fewest trials with which a true rate `rate` would typically clear `maxRate` (its expected count's
 * bound at most maxRate); null when rate >= maxRate (no number of trials clears it).
 */
export function trialsToClearAtRate(rate: number, maxRate: number, beta: number): number | null {
  if (rate <= 0) return fewestTrialsToClear(maxRate, beta);
  if (rate >= maxRate) return null;
  const clears = (n: number) => proportionUpperBound(Math.min(n, Math.ceil(rate * n)), n, beta) <= maxRate;
  let high = fewestTrialsToClear(maxRate, beta);
  while (!clears(high)) {
    high *= 2;
    if (high > 1e9) return null;
  }
  let low = Math.floor(high / 2);
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (clears(mid)) high = mid;
    else low = mid;
  }
  return high;
}
