/**
 * Renyi DP of the Poisson-subsampled Gaussian mechanism (add-or-remove-one adjacency) and its
 * conversion to (epsilon, delta).
 *
 * rdp(alpha) = log(A_alpha) / (alpha - 1) with A_alpha = E_{z~N(0,s^2)}[((1-q) + q e^{(2z-1)/(2s^2)})^alpha]
 * (Mironov, Talwar, Zhang 2019, "Renyi DP of the Sampled Gaussian Mechanism", Sec. 3.3), computed
 * - at integer orders by the binomial expansion (exact finite sum), and
 * - at fractional orders by the two half-line series split at z0 = s^2 log(1/q - 1) + 1/2,
 * all in log space, so orders up to 1024 and tiny q neither overflow nor underflow. The exponents
 * (i^2 - i)/(2 s^2) are formed without s^2, which overflows for s > 1.3e154 (docs/SCIENCE.md#rdp-at-extreme-noise).
 */
import type { Conversion, FractionalSeries } from './types.js';
import { logAdd, logErfc, logSub } from './logmath.js';

/** A fractional series stops once both new terms are below e^-30 (as TF Privacy, Opacus, dp_accounting). */
const SERIES_LOG_TOLERANCE = -30;
/** Hard stop, as dp_accounting: an order whose series has not converged by then is reported as +Infinity. */
const SERIES_MAX_TERMS = 10_000;

/** log binom(n, k) for integer 0 <= k <= n, through log-gamma. */
function logBinomInt(n: number, k: number, lgam: Float64Array): number {
  return lgam[n]! - lgam[k]! - lgam[n - k]!;
}

/** (i^2 - i) / (2 s^2) without forming s^2: dividing by s twice underflows gracefully to 0 as s grows. */
function pairExponent(i: number, sigma: number): number {
  return (i * i - i) / sigma / sigma / 2;
}

/** log(e^c - 1) for c = exp(logC), kept finite when c underflows (log(e^c - 1) = log c + c/2 + O(c^2)). */
function logExpm1FromLog(logC: number): number {
  const c = Math.exp(logC);
  if (c > 1) return c + Math.log1p(-Math.exp(-c));
  return c < 1e-10 ? logC + c / 2 : Math.log(Math.expm1(c));
}

/** log(k!) for k = 0..n, summed exactly enough for n <= a few thousand (relative error ~ n * 1e-16). */
function logFactorials(n: number): Float64Array {
  const out = new Float64Array(n + 1);
  for (let k = 2; k <= n; k++) out[k] = out[k - 1]! + Math.log(k);
  return out;
}

let factorialCache = logFactorials(1024);
function logFactorialTable(n: number): Float64Array {
  if (n >= factorialCache.length) factorialCache = logFactorials(Math.max(n, 2 * factorialCache.length));
  return factorialCache;
}

/**
 * log(A_alpha - 1) for integer alpha >= 2 and 0 < q < 1. Since the binomial weights sum to 1,
 * A_alpha - 1 = sum_{i>=2} binom(alpha, i) q^i (1-q)^(alpha-i) expm1((i^2 - i)/(2 s^2)): every term
 * is positive, so tiny q keeps full relative precision (summing A_alpha itself, as the reference
 * libraries do, loses it to the leading 1).
 */
function logAMinusOneInt(q: number, sigma: number, alpha: number): number {
  const lgam = logFactorialTable(alpha);
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  // log(1 / (2 s^2)) from log s: finite for every positive finite s.
  const logHalfOverSigma2 = -Math.LN2 - 2 * Math.log(sigma);
  // Terms rise then fall; log-sum-exp against the maximum keeps every exp in range.
  const terms = new Float64Array(alpha + 1);
  let max = -Infinity;
  for (let i = 2; i <= alpha; i++) {
    const logExpm1 = logExpm1FromLog(Math.log(i * i - i) + logHalfOverSigma2);
    const t = logBinomInt(alpha, i, lgam) + i * logQ + (alpha - i) * log1mQ + logExpm1;
    terms[i] = t;
    if (t > max) max = t;
  }
  // An infinite term (s so small that e^c overflows) makes A_alpha infinite: no privacy at this order.
  if (max === Infinity) return Infinity;
  let sum = 0;
  for (let i = 2; i <= alpha; i++) sum += Math.exp(terms[i]! - max);
  return max + Math.log(sum);
}

/** log(1 + e^x) without overflow. */
function log1pExp(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/**
 * log A_alpha for fractional alpha > 1 and 0 < q < 1: the series of Mironov et al. (2019) Sec. 3.3.
 * The generalized binomial coefficient binom(alpha, i) changes sign for i > alpha + 1; `exact`
 * adds and subtracts by that sign, `magnitude-sum` adds |terms| (an upper bound).
 */
function logAFrac(q: number, sigma: number, alpha: number, series: FractionalSeries): number {
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  // s^2 may overflow here: z0 is then +-Infinity, the right limit of the split point.
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const sqrt2Sigma = Math.SQRT2 * sigma;
  // binom(alpha, i) carried multiplicatively: binom(alpha, i+1) = binom(alpha, i) (alpha - i)/(i + 1).
  let logCoef = 0;
  let coefPositive = true;
  for (let i = 0; i < SERIES_MAX_TERMS; i++) {
    const j = alpha - i;
    const logT0 = logCoef + i * logQ + j * log1mQ;
    const logT1 = logCoef + j * logQ + i * log1mQ;
    const logE0 = Math.log(0.5) + logErfc((i - z0) / sqrt2Sigma);
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / sqrt2Sigma);
    const logS0 = logT0 + pairExponent(i, sigma) + logE0;
    const logS1 = logT1 + pairExponent(j, sigma) + logE1;
    if (coefPositive || series === 'magnitude-sum') {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < SERIES_LOG_TOLERANCE) return logAdd(logA0, logA1);
    const factor = (alpha - i) / (i + 1);
    logCoef += Math.log(Math.abs(factor));
    if (factor < 0) coefPositive = !coefPositive;
  }
  return Infinity;
}

/**
 * The signed series subtracts; should rounding ever drive a partial sum negative (TF Privacy and
 * Opacus raise there), fall back to the magnitude sum, an upper bound, so epsilon is never understated.
 */
function logAFracSafe(q: number, sigma: number, alpha: number, series: FractionalSeries): number {
  try {
    return logAFrac(q, sigma, alpha, series);
  } catch (e) {
    if (e instanceof RangeError) return logAFrac(q, sigma, alpha, 'magnitude-sum');
    throw e;
  }
}

export interface RdpOptions {
  fractionalSeries?: FractionalSeries;
}

/**
 * RDP at `order` of ONE step of the Poisson-subsampled Gaussian with sampling rate q and noise
 * multiplier sigma. q = 1 is the plain Gaussian, alpha / (2 sigma^2).
 */
export function rdpSubsampledGaussian(q: number, sigma: number, order: number, options: RdpOptions = {}): number {
  if (q === 0) return 0;
  if (order === Infinity) return Infinity;
  if (q === 1) return order / sigma / sigma / 2;
  if (order === 1) return NaN; // KL is not computed for q < 1; the conversion skips order 1 anyway
  if (!(order > 1)) throw new RangeError(`RDP order must be >= 1, got ${order}`);
  const logA = Number.isInteger(order) ? log1pExp(logAMinusOneInt(q, sigma, order)) : logAFracSafe(q, sigma, order, options.fractionalSeries ?? 'exact');
  // A_alpha >= 1 in exact arithmetic; rounding can give a hair below, which is 0 divergence.
  return Math.max(0, logA / (order - 1));
}

/** The RDP curve of one step over `orders`. */
export function rdpCurve(q: number, sigma: number, orders: readonly number[], options: RdpOptions = {}): Float64Array {
  const out = new Float64Array(orders.length);
  for (let k = 0; k < orders.length; k++) out[k] = rdpSubsampledGaussian(q, sigma, orders[k]!, options);
  return out;
}

export interface RdpConversion {
  epsilon: number;
  optimalOrder: number;
  /** Index of the optimal order in the grid. */
  optimalIndex: number;
}

/**
 * Smallest epsilon over the orders for the composed RDP curve `rdp` at `delta`.
 * improved: eps = rdp(a) + log1p(-1/a) - (log(delta) + log(a)) / (a - 1)   (Balle et al. 2020 Thm 21)
 * classic:  eps = rdp(a) - log(delta) / (a - 1)                              (Mironov 2017 Prop. 3)
 * Orders <= 1 and NaN values are skipped; epsilon is clamped at 0.
 */
export function rdpToEpsilon(rdp: ArrayLike<number>, orders: readonly number[], delta: number, conversion: Conversion = 'improved'): RdpConversion {
  const logDelta = Math.log(delta);
  let best = Infinity;
  let bestIndex = -1;
  for (let k = 0; k < orders.length; k++) {
    const a = orders[k]!;
    const r = rdp[k]!;
    if (!(a > 1) || Number.isNaN(r)) continue;
    const eps = conversion === 'improved' ? r + Math.log1p(-1 / a) - (logDelta + Math.log(a)) / (a - 1) : r - logDelta / (a - 1);
    if (eps < best || bestIndex < 0) {
      best = eps;
      bestIndex = k;
    }
  }
  if (bestIndex < 0) return { epsilon: Infinity, optimalOrder: NaN, optimalIndex: -1 };
  return { epsilon: Math.max(0, best), optimalOrder: orders[bestIndex]!, optimalIndex: bestIndex };
}

/**
 * Smallest delta over the orders at `epsilon` (the inverse of the improved conversion):
 * log delta = (a - 1)(rdp(a) - eps + log1p(-1/a)) - log(a); classic: (a - 1)(rdp(a) - eps).
 */
export function rdpToDelta(rdp: ArrayLike<number>, orders: readonly number[], epsilon: number, conversion: Conversion = 'improved'): { delta: number; optimalOrder: number } {
  let best = Infinity;
  let bestOrder = NaN;
  for (let k = 0; k < orders.length; k++) {
    const a = orders[k]!;
    const r = rdp[k]!;
    if (!(a > 1) || Number.isNaN(r)) continue;
    const logDelta = conversion === 'improved' ? (a - 1) * (r - epsilon + Math.log1p(-1 / a)) - Math.log(a) : (a - 1) * (r - epsilon);
    if (logDelta < best) {
      best = logDelta;
      bestOrder = a;
    }
  }
  return { delta: Math.min(1, Math.exp(best)), optimalOrder: bestOrder };
}
