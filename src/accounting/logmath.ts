/** Log-space helpers for the accountants: sums of exponentials without overflow or underflow. */
import normalLogCdf from '@stdlib/stats-base-dists-normal-logcdf';

/** log(exp(a) + exp(b)). */
export function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const hi = Math.max(a, b);
  return hi + Math.log1p(Math.exp(Math.min(a, b) - hi));
}

/** log(exp(a) - exp(b)) for a >= b; -Infinity when they are equal. */
export function logSub(a: number, b: number): number {
  if (b === -Infinity) return a;
  if (a < b) throw new RangeError(`logSub: the result would be negative (log ${a} - log ${b})`);
  if (a === b) return -Infinity;
  const d = b - a;
  // log(1 - e^d): expm1 near 0, log1p(-e^d) far from 0 (both accurate in their range).
  return a + (d > -Math.LN2 ? Math.log(-Math.expm1(d)) : Math.log1p(-Math.exp(d)));
}

/** log(erfc(x)), accurate far into both tails: erfc(x) = 2 Phi(-x sqrt 2). */
export function logErfc(x: number): number {
  return Math.LN2 + normalLogCdf(-x * Math.SQRT2, 0, 1);
}

/** log(Phi(z)) for the standard normal. */
export function logNormalCdf(z: number): number {
  return normalLogCdf(z, 0, 1);
}
