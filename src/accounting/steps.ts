/**
 * Dataset size / batch size / epochs -> (sampling rate, steps), as TF Privacy's
 * compute_dp_sgd_privacy: q = B / N and steps = ceil(E * N / B). (Opacus differs: int(E / q).)
 */
import { UsageError } from '../core/errors.js';

export function samplingRateFor(datasetSize: number, batchSize: number): number {
  if (batchSize > datasetSize) throw new UsageError(`batch size ${batchSize} exceeds dataset size ${datasetSize}`);
  return batchSize / datasetSize;
}

export function stepsFor(datasetSize: number, batchSize: number, epochs: number): number {
  // Exact integer arithmetic when E * N is an integer, so ceil does not round up a float error.
  const numerator = epochs * datasetSize;
  const exact = numerator / batchSize;
  const rounded = Math.round(exact);
  return Math.abs(exact - rounded) < 1e-9 * Math.max(1, rounded) ? rounded : Math.ceil(exact);
}

/** The trainer's delta when none is given: min(1e-5, 1 / (10 N)), well below 1/N (src/train/loop.ts uses the same rule). */
export function defaultDelta(datasetSize: number): number {
  return Math.min(1e-5, 1 / (10 * datasetSize));
}
