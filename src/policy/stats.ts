/**
 * Small exact tests the verdict and `plan` need beyond probes/metrics.ts (which holds
 * Clopper-Pearson). Derivations: docs/SCIENCE.md, "The verdict's statistics".
 */
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

/** log P(X = k) for X ~ Binomial(n, p). */
export function binomialLogPmf(k: number, n: number, p: number): number {
  if (p <= 0) return k === 0 ? 0 : -Infinity;
  if (p >= 1) return k === n ? 0 : -Infinity;
  return binomcoefln(n, k) + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/** P(X >= k) for X ~ Binomial(n, p): the one-sided exact binomial test's p-value. Terms by their ratio, in log space. */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const logOdds = Math.log(p) - Math.log1p(-p);
  let logTerm = binomialLogPmf(k, n, p);
  let tail = 0;
  for (let x = k; x <= n; x++) {
    const term = Math.exp(logTerm);
    tail += term;
    // Past the mode the terms fall geometrically: stop once they no longer move the sum.
    if (x > n * p && term <= tail * 1e-17) break;
    logTerm += Math.log((n - x) / (x + 1)) + logOdds;
  }
  return Math.min(1, tail);
}

/**
 * log P(T_s = t): in a uniformly random order of `members` members and `nonMembers` non-members
 * (exchangeable membership scores, sorted high to low), T_s is the number of members ranked above
 * the s-th non-member (a negative hypergeometric count).
 */
export function membersAboveLogPmf(t: number, s: number, members: number, nonMembers: number): number {
  return binomcoefln(t + s - 1, t) + binomcoefln(members - t + nonMembers - s, members - t) - binomcoefln(members + nonMembers, members);
}

/** log P(T_s = t + 1) - log P(T_s = t). */
function membersAboveLogRatio(t: number, s: number, members: number, nonMembers: number): number {
  return Math.log(((t + s) / (t + 1)) * ((members - t) / (members - t + nonMembers - s)));
}

/** P(T_s >= t) under exchangeable scores: the exact p-value of "members score above chance at this threshold". */
export function membersAboveUpperTail(t: number, s: number, members: number, nonMembers: number): number {
  const from = Math.max(0, t);
  if (from > members) return 0;
  let logTerm = membersAboveLogPmf(from, s, members, nonMembers);
  let tail = 0;
  for (let x = from; x <= members; x++) {
    const term = Math.exp(logTerm);
    tail += term;
    // Past the mode (about s members per non-member rank) the terms fall geometrically.
    if (x > (s * members) / (nonMembers + 1) && term <= tail * 1e-17) break;
    if (x < members) logTerm += membersAboveLogRatio(x, s, members, nonMembers);
  }
  return Math.min(1, tail);
}

/** P(T_s <= t) under exchangeable scores. */
export function membersAboveCdf(t: number, s: number, members: number, nonMembers: number): number {
  let logTerm = membersAboveLogPmf(0, s, members, nonMembers);
  let sum = 0;
  for (let x = 0; x <= Math.min(t, members); x++) {
    sum += Math.exp(logTerm);
    if (x < members) logTerm += membersAboveLogRatio(x, s, members, nonMembers);
  }
  return Math.min(1, sum);
}
