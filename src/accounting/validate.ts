/** Parameter checks shared by every accountant entry point: one clear line, exit 2. */
import { UsageError } from '../core/errors.js';
import type { Segment } from './types.js';

export function checkSamplingRate(q: number, where = 'sampling rate'): void {
  if (!(Number.isFinite(q) && q > 0 && q <= 1)) throw new UsageError(`${where} must be in (0, 1], got ${q}`);
}

export function checkNoiseMultiplier(sigma: number, where = 'noise multiplier'): void {
  if (!(Number.isFinite(sigma) && sigma > 0)) throw new UsageError(`${where} must be > 0, got ${sigma}`);
}

export function checkSteps(steps: number, where = 'steps'): void {
  if (!(Number.isSafeInteger(steps) && steps >= 0)) throw new UsageError(`${where} must be a non-negative integer, got ${steps}`);
}

export function checkDelta(delta: number): void {
  if (!(Number.isFinite(delta) && delta > 0 && delta < 1)) throw new UsageError(`delta must be in (0, 1), got ${delta}`);
}

export function checkEpsilon(epsilon: number, where = 'epsilon'): void {
  if (!(Number.isFinite(epsilon) && epsilon > 0)) throw new UsageError(`${where} must be > 0, got ${epsilon}`);
}

export function checkOrders(orders: readonly number[]): void {
  if (orders.length === 0) throw new UsageError('RDP orders must not be empty');
  // Order 1 (KL) is accepted as in dp_accounting but plays no part in the conversion.
  for (const a of orders) if (!(a >= 1) || Number.isNaN(a)) throw new UsageError(`RDP orders must all be >= 1, got ${a}`);
}

export function checkSegments(segments: readonly Segment[]): void {
  segments.forEach((s, i) => {
    const where = segments.length > 1 ? `segment ${i + 1}: ` : '';
    checkSamplingRate(s.samplingRate, `${where}sampling rate`);
    checkNoiseMultiplier(s.noiseMultiplier, `${where}noise multiplier`);
    checkSteps(s.steps, `${where}steps`);
  });
}
