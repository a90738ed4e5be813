/**
 * Noise calibration: the smallest noise multiplier whose epsilon is <= the target. Bisection keeps
 * the invariant eps(lo) > target >= eps(hi) and returns hi, so the answer never exceeds the budget
 * (unlike a root finder that may land on either side); the bracket is closed to 1e-3 in sigma for
 * PLD (each evaluation costs an FFT composition) and much tighter for RDP.
 */
import { UsageError } from '../core/errors.js';
import { computeEpsilon } from './epsilon.js';
import { DEFAULT_VALUE_DISCRETIZATION } from './pld/index.js';
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

  // Bracket. For PLD, first solve on a 10x coarser grid (cheap): a coarser connect-the-dots grid is
  // a subset of the finer one, so its epsilon is at least as large and its sigma is an upper end
  // for the fine problem (checked below all the same). The coarse pass starts from the RDP answer,
  // since PLD epsilon is below RDP's.
  const h = options.valueDiscretization ?? DEFAULT_VALUE_DISCRETIZATION;
  let hi: number;
  let lowerFraction: number;
  if (accountant === 'rdp') {
    hi = 1;
    lowerFraction = 0.5;
  } else if (h < 1e-3) {
    hi = calibrateNoise(a, { ...options, valueDiscretization: h * 10, tolerance: undefined }).noiseMultiplier;
    lowerFraction = 0.99;
  } else {
    hi = calibrateNoise({ ...a, accountant: 'rdp' }, { ...options, tolerance: undefined }).noiseMultiplier;
    lowerFraction = 0.75;
  }
  let epsHi = eps(hi);
  while (epsHi > a.targetEpsilon) {
    if (hi >= SIGMA_MAX) {
      throw new UsageError(`target epsilon ${a.targetEpsilon} is not reachable: even noise multiplier ${SIGMA_MAX} gives epsilon ${epsHi}`);
    }
    hi *= 2;
    epsHi = eps(hi);
  }
  let lo = hi * lowerFraction;
  for (let epsLo = eps(lo); epsLo <= a.targetEpsilon; epsLo = eps(lo)) {
    hi = lo;
    epsHi = epsLo;
    if (lo <= SIGMA_MIN) return { noiseMultiplier: hi, epsilon: epsHi };
    lo = hi * lowerFraction;
    lowerFraction = Math.min(lowerFraction, 0.5);
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
