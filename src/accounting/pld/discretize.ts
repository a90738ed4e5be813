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
import { SubsampledGaussianLoss, type Direction } from './privacyLoss.js';
import { logNormalCdf } from '../logmath.js';

/** dp_accounting's log_mass_truncation_bound: the grid covers all but ~e^-50 of the P-mass on each side. */
const LOG_MASS_TRUNCATION = -50;

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
  const probs = new Float64Array(n);
  const factor = 1 / -Math.expm1(-h); // 1 / (1 - e^{-h})

  // Everything at or below the lowest grid point sits on it.
  probs[0] = loss.intervalMasses(-Infinity, first * h).p;
  for (let k = 0; k < n - 1; k++) {
    const lo = (first + k) * h;
    const { p, q: qMass } = loss.intervalMasses(lo, lo + h);
    if (p === 0) continue;
    const up = Math.min(p, Math.max(0, (p - Math.exp(lo) * qMass) * factor));
    probs[k + 1] += up;
    probs[k] += p - up;
  }
  const infinityMass = loss.intervalMasses(last * h, Infinity).p;
  return { h, offset: first, probs, infinityMass };
}
