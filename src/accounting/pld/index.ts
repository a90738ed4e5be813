/**
 * PLD accountant for the Poisson-subsampled Gaussian under add-or-remove-one adjacency:
 * connect-the-dots pessimistic discretization, FFT composition of every segment, both the remove
 * and the add direction composed separately and the larger epsilon (delta) taken, as google
 * dp_accounting's PLDAccountant. Every step only raises delta, so epsilon is an upper bound.
 */
import type { Segment } from '../types.js';
import { composePmfs, type PmfPower } from './compose.js';
import { discretizeSubsampledGaussian } from './discretize.js';
import { pmfDeltaForEpsilon, pmfEpsilonForDelta, type LossPmf } from './pmf.js';
import type { Direction } from './privacyLoss.js';

export { SubsampledGaussianLoss, type Direction } from './privacyLoss.js';
export { discretizeSubsampledGaussian } from './discretize.js';
export { composePmfs } from './compose.js';
export { pmfDeltaForEpsilon, pmfEpsilonForDelta, type LossPmf } from './pmf.js';

/** dp_accounting's default value_discretization_interval. */
export const DEFAULT_VALUE_DISCRETIZATION = 1e-4;

export interface PldOptions {
  valueDiscretization?: number;
}

/** The composed PLD of all segments in one direction. */
export function composedPld(segments: readonly Segment[], direction: Direction, options: PldOptions = {}): LossPmf {
  const h = options.valueDiscretization ?? DEFAULT_VALUE_DISCRETIZATION;
  const factors: PmfPower[] = segments
    .filter((s) => s.steps > 0)
    .map((s) => ({ pmf: discretizeSubsampledGaussian(s.samplingRate, s.noiseMultiplier, direction, h), times: s.steps }));
  if (factors.length === 0) return { h, offset: 0, probs: Float64Array.of(1), infinityMass: 0 };
  return composePmfs(factors);
}

/** Both directions; with q = 1 everywhere they coincide and are computed once. */
function directions(segments: readonly Segment[]): Direction[] {
  return segments.every((s) => s.samplingRate === 1) ? ['remove'] : ['remove', 'add'];
}

export function pldEpsilon(segments: readonly Segment[], delta: number, options: PldOptions = {}): number {
  let eps = 0;
  for (const d of directions(segments)) eps = Math.max(eps, pmfEpsilonForDelta(composedPld(segments, d, options), delta));
  return eps;
}

export function pldDelta(segments: readonly Segment[], epsilon: number, options: PldOptions = {}): number {
  let delta = 0;
  for (const d of directions(segments)) delta = Math.max(delta, pmfDeltaForEpsilon(composedPld(segments, d, options), epsilon));
  return delta;
}
