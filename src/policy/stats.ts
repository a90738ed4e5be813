/** Small exact tests the verdict needs beyond probes/metrics.ts (which holds Clopper-Pearson). */
import binomcoefln from '@stdlib/math-base-special-binomcoefln';

/**
 * One-sided Fisher exact test: P(X >= a) for X hypergeometric, the number of successes among
 * group 1 (a of n1) given the total successes a + c over n1 + n2 trials. Small p: group 1's rate
 * is above group 2's (c of n2).
 */
export function fisherExactGreater(a: number, n1: number, c: number, n2: number): number {
  const successes = a + c;
  const total = n1 + n2;
  const logDenominator = binomcoefln(total, n1);
  let p = 0;
  for (let x = a; x <= Math.min(n1, successes); x++) {
    if (successes - x > n2) continue;
    p += Math.exp(binomcoefln(successes, x) + binomcoefln(total - successes, n1 - x) - logDenominator);
  }
  return Math.min(1, p);
}
