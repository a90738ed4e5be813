/**
 * Pessimistic "connect-the-dots" discretization of one step's privacy loss (Doroshenko, Ghazi,
 * Kamath, Kumar, Manurangsi 2022, "Connect the Dots: Tighter Discrete Approximations of Privacy
 * Loss Distributions"; google dp_accounting's default).
 *
 * Each loss interval (l_k, l_{k+1}] on the grid l_k = k h has masses P_k and Q_k. Its mass is
 * split between the two grid points so that BOTH masses are preserved:
 *   Q-mass a at l_k and b at l_{k+1}, a + b = Q_k, a e^{l_k} + b e^{l_{k+1}} = P_k,
 *   i.e. P-mass at l_{k+1} = (P_k - e^{l_k} Q_k) / (1 - e^{-h}), the rest at l_k.
 * The discrete delta(eps) then equals the exact one at every grid point and interpolates it
 * linearly in e^eps in between; the exact curve is convex in e^eps, so the discrete one lies above
 * it: an upper bound for every eps. Outside the grid: P-mass below the lowest point is moved up
 * onto it, P-mass above the highest point goes to +Infinity (both only raise delta).
 */
import type { LossPmf } from './pmf.js';
import { SubsampledGaussianLoss, normalLower, normalUpper, type Direction } from './privacyLoss.js';
import { logNormalCdf } from '../logmath.js';
import { UsageError } from '../../core/errors.js';

/** dp_accounting's log_mass_truncation_bound: the grid covers all but ~e^-50 of the P-mass on each side. */
const LOG_MASS_TRUNCATION = -50;

/** Memory guard: one step's grid beyond this (~128 MB) means sigma is far too small for the grid. */
const MAX_GRID_POINTS = 1 << 24;

/** Extra +Infinity mass covering round-off in the interval masses (far below any delta of interest). */
const ROUNDING_SLACK = 1e-15;

/** z with log Phi(-z) = LOG_MASS_TRUNCATION, by bisection (once). */
const TAIL_Z = (() => {
  let lo = 0;
  let hi = 40;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (logNormalCdf(-mid) > LOG_MASS_TRUNCATION) lo = mid;
    else hi = mid;
  }
  return hi;
})();

export function discretizeSubsampledGaussian(q: number, sigma: number, direction: Direction, h: number): LossPmf {
  const loss = new SubsampledGaussianLoss(q, sigma, direction);
  // Outcome range holding all but e^-50 of the P-mass (P is N(0) or the mixture of N(0) and N(1)).
  const xLo = -sigma * TAIL_Z;
  const xHi = (direction === 'remove' ? 1 : 0) + sigma * TAIL_Z;
  const lossAtLo = loss.loss(xLo);
  const lossAtHi = loss.loss(xHi);
  const lMin = Math.min(lossAtLo, lossAtHi);
  const lMax = Math.max(lossAtLo, lossAtHi);
  const first = Math.floor(lMin / h);
  const last = Math.max(first + 1, Math.ceil(lMax / h));
  const n = last - first + 1;
  if (n > MAX_GRID_POINTS) {
    throw new UsageError(
      `PLD: noise multiplier ${sigma} would need ${n} grid points at value discretization ${h}; ` +
        'use a larger noise multiplier or the rdp accountant',
    );
  }
  const probs = new Float64Array(n);
  const factor = 1 / -Math.expm1(-h); // 1 / (1 - e^{-h})

  // Normal tails at every grid boundary, computed once and shared by the two intervals it bounds.
  // The loss is monotone in the outcome x: increasing for remove, decreasing for add.
  const sign = direction === 'remove' ? 1 : -1;
  const at = (k: number) => boundaryTails(loss.gInverse(sign * (first + k) * h), sigma);
  const massBetween = direction === 'remove' ? (a: Tails, b: Tails) => masses(a, b, q) : (a: Tails, b: Tails) => swap(masses(b, a, q));

  // Everything at or below the lowest grid point sits on it.
  let prev = at(0);
  probs[0] = massBetween(direction === 'remove' ? MINUS_INFINITY : PLUS_INFINITY, prev).p;
  for (let k = 0; k < n - 1; k++) {
    const next = at(k + 1);
    const { p, q: qMass } = massBetween(prev, next);
    prev = next;
    if (p === 0) continue;
    const lo = (first + k) * h;
    const up = Math.min(p, Math.max(0, (p - Math.exp(lo) * qMass) * factor));
    probs[k + 1] += up;
    probs[k] += p - up;
  }
  // At grid points the discrete delta equals the exact one, so float round-off alone could put it a
  // hair below; ROUNDING_SLACK at +Infinity keeps it an upper bound.
  const infinityMass = massBetween(prev, direction === 'remove' ? PLUS_INFINITY : MINUS_INFINITY).p + ROUNDING_SLACK;
  return { h, offset: first, probs, infinityMass };
}

/** Standard normal lower/upper tails at x/s (the N(0, s^2) component) and (x-1)/s (the N(1, s^2) one). */
interface Tails {
  z0: number;
  lower0: number;
  upper0: number;
  z1: number;
  lower1: number;
  upper1: number;
}

function boundaryTails(x: number, s: number): Tails {
  const z0 = x / s;
  const z1 = (x - 1) / s;
  return { z0, lower0: normalLower(z0), upper0: normalUpper(z0), z1, lower1: normalLower(z1), upper1: normalUpper(z1) };
}

const MINUS_INFINITY: Tails = { z0: -Infinity, lower0: 0, upper0: 1, z1: -Infinity, lower1: 0, upper1: 1 };
const PLUS_INFINITY: Tails = { z0: Infinity, lower0: 1, upper0: 0, z1: Infinity, lower1: 1, upper1: 0 };

/** P(za < Z <= zb) from cached tails, subtracting whichever tails are small (no cancellation). */
function between(za: number, lowerA: number, upperA: number, zb: number, lowerB: number, upperB: number): number {
  if (!(zb > za)) return 0;
  if (za >= 0) return Math.max(0, upperA - upperB);
  if (zb <= 0) return Math.max(0, lowerB - lowerA);
  return Math.max(0, 1 - lowerA - upperB);
}

/** Masses of x in (a, b] under the remove pair: P = (1-q) N(0) + q N(1), Q = N(0). */
function masses(a: Tails, b: Tails, q: number): { p: number; q: number } {
  const base = between(a.z0, a.lower0, a.upper0, b.z0, b.lower0, b.upper0);
  const shifted = between(a.z1, a.lower1, a.upper1, b.z1, b.lower1, b.upper1);
  return { p: (1 - q) * base + q * shifted, q: base };
}

/** The add pair is the remove pair with P and Q exchanged. */
function swap(m: { p: number; q: number }): { p: number; q: number } {
  return { p: m.q, q: m.p };
}
