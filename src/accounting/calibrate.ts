/**
 * Noise calibration: the smallest noise multiplier whose epsilon is <= the target. Bisection keeps
 * the invariant eps(lo) > target >= eps(hi) and returns hi, so the answer never exceeds the budget
 * (unlike a root finder that may land on either side); the bracket is closed to 1e-3 in sigma for
 * PLD (each evaluation costs an FFT composition) and much tighter for RDP.
 */
import { UsageError } from '../core/errors.js';
import { computeEpsilon } from './epsilon.js';
import type { AccountantName, EpsilonOptions } from './types.js';
import { checkDelta, checkEpsilon, checkSamplingRate, checkSteps } from './validate.js';

export interface CalibrationRequest {
  samplingRate: number;
  steps: number;
  delta: number;
  targetEpsilon: number;
  accountant?: AccountantName;
}

export interface CalibrationOptions extends Omit<EpsilonOptions, 'accountant'> {
  /** Bracket width at which to stop (default 1e-3 * min(1, sigma) for PLD, 1e-6 * sigma for RDP). */
  tolerance?: number;
}

const SIGMA_MAX = 2 ** 20;
const SIGMA_MIN = 2 ** -20;

export function calibrateNoise(a: CalibrationRequest, options: CalibrationOptions = {}): { noiseMultiplier: number; epsilon: number } {
  checkSamplingRate(a.samplingRate);
  checkSteps(a.steps);
  if (a.steps < 1) throw new UsageError(`steps must be >= 1 to calibrate noise, got ${a.steps}`);
  checkDelta(a.delta);
  checkEpsilon(a.targetEpsilon, 'target epsilon');
  const accountant = a.accountant ?? 'rdp';
  const eps = (sigma: number) =>
    computeEpsilon([{ samplingRate: a.samplingRate, noiseMultiplier: sigma, steps: a.steps }], a.delta, { ...options, accountant }).epsilon;

  // Bracket. For PLD, the RDP answer is a good upper end: PLD epsilon is below RDP's.
  let hi = accountant === 'pld' ? calibrateNoise({ ...a, accountant: 'rdp' }, { ...options, tolerance: undefined }).noiseMultiplier : 1;
  let epsHi = eps(hi);
  while (epsHi > a.targetEpsilon) {
    if (hi >= SIGMA_MAX) {
      throw new UsageError(`target epsilon ${a.targetEpsilon} is not reachable: even noise multiplier ${SIGMA_MAX} gives epsilon ${epsHi}`);
    }
    hi *= 2;
    epsHi = eps(hi);
  }
  let lo = accountant === 'pld' ? hi * 0.75 : hi / 2;
  for (let epsLo = eps(lo); epsLo <= a.targetEpsilon; epsLo = eps(lo)) {
    hi = lo;
    epsHi = epsLo;
    if (lo <= SIGMA_MIN) return { noiseMultiplier: hi, epsilon: epsHi };
    lo /= 2;
  }
  const tolerance = options.tolerance ?? (accountant === 'pld' ? 1e-3 * Math.min(1, hi) : 1e-6 * hi);
  while (hi - lo > tolerance) {
    const mid = (lo + hi) / 2;
    const e = eps(mid);
    if (e <= a.targetEpsilon) {
      hi = mid;
      epsHi = e;
    } else {
      lo = mid;
    }
  }
  return { noiseMultiplier: hi, epsilon: epsHi };
}
