/** Uniform random subsets of index ranges, in memory proportional to the subset, not the range. */
import type { Rng } from './rng.js';

/**
 * k distinct indices drawn uniformly from [0, n), ascending: every k-subset is equally likely.
 * Floyd's algorithm (Bentley & Floyd, "A sample of brilliance", CACM 30(9), 1987): for j = n-k..n-1
 * draw t uniform in [0, j]; add t, or j if t is already chosen. By induction on j each step yields
 * every subset of [0, j] of the current size with equal probability, and only k numbers are held
 * (Rng.sampleIndices materializes [0, n) when k is a large fraction of n).
 */
export function uniformSubset(n: number, k: number, rng: Rng): number[] {
  if (!Number.isInteger(n) || !Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`uniformSubset: need 0 <= k <= n, got k=${k}, n=${n}`);
  const chosen = new Set<number>();
  for (let j = n - k; j < n; j++) {
    const t = rng.int(j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((a, b) => a - b);
}
