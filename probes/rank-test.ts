/**
 * One-sided Mann-Whitney U (Wilcoxon rank-sum) test that the values of `x` tend to exceed those of
 * `y`: used by exposure to test inserted canaries against the reference canaries, which need no
 * distributional assumption. Exact null distribution when there are no ties and the samples are
 * small; otherwise the normal approximation with tie and continuity corrections (as
 * scipy.stats.mannwhitneyu with method "exact" / "asymptotic").
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';

export interface RankTestResult {
  test: 'mann-whitney-u exact' | 'mann-whitney-u normal';
  /** U statistic of x: pairs (x_i, y_j) with x_i > y_j, ties counting one half. */
  statistic: number;
  /** P(U >= observed) under the null of identical distributions. */
  pValue: number;
}

const EXACT_MAX_TOTAL = 200;

/** Mid-ranks (1-based) of the pooled values, and the tie group sizes. */
function midRanks(values: number[]): { ranks: number[]; ties: number[] } {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  const ties: number[] = [];
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = rank;
    if (j > i) ties.push(j - i + 1);
    i = j + 1;
  }
  return { ranks, ties };
}

/** P(U >= u) without ties: counts the n1-subsets of ranks 1..n by their rank sum. */
function exactUpperTail(n1: number, n2: number, u: number): number {
  const n = n1 + n2;
  const maxSum = (n1 * (2 * n - n1 + 1)) / 2;
  // ways[k][s] = number of k-subsets of {1..r} with rank sum s, updated for r = 1..n.
  const ways = Array.from({ length: n1 + 1 }, () => new Float64Array(maxSum + 1));
  ways[0]![0] = 1;
  for (let r = 1; r <= n; r++) {
    for (let k = Math.min(r, n1); k >= 1; k--) {
      const row = ways[k]!;
      const prev = ways[k - 1]!;
      for (let s = maxSum; s >= r; s--) row[s]! += prev[s - r]!;
    }
  }
  const minSum = (n1 * (n1 + 1)) / 2;
  let total = 0;
  let tail = 0;
  for (let s = minSum; s <= maxSum; s++) {
    const w = ways[n1]![s]!;
    total += w;
    if (s - minSum >= u) tail += w;
  }
  return tail / total;
}

export function mannWhitneyGreater(x: readonly number[], y: readonly number[]): RankTestResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('mannWhitneyGreater: both samples need at least one value');
  const { ranks, ties } = midRanks([...x, ...y]);
  let rankSum = 0;
  for (let i = 0; i < n1; i++) rankSum += ranks[i]!;
  const u = rankSum - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  if (ties.length === 0 && n <= EXACT_MAX_TOTAL) {
    return { test: 'mann-whitney-u exact', statistic: u, pValue: Math.min(1, exactUpperTail(n1, n2, u)) };
  }
  const mean = (n1 * n2) / 2;
  const tieTerm = ties.reduce((s, t) => s + t ** 3 - t, 0);
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return { test: 'mann-whitney-u normal', statistic: u, pValue: 1 };
  const z = (u - mean - 0.5) / Math.sqrt(variance);
  return { test: 'mann-whitney-u normal', statistic: u, pValue: Math.min(1, 1 - normalCdf(z, 0, 1)) };
}
