/** Noise calibration: the returned sigma meets the target, and 1e-3 less would not. */
import { describe, expect, it } from 'vitest';
import { calibrateNoise, computeEpsilon } from '../../src/accounting/index.js';

describe('calibrateNoise', () => {
  it('RDP: smallest sigma with epsilon <= target, to 1e-3', () => {
    for (const [q, steps, target] of [
      [0.01, 1000, 2],
      [0.004, 10_000, 1],
      [1, 1, 8],
      [0.2, 100, 20],
    ] as const) {
      const r = calibrateNoise({ samplingRate: q, steps, delta: 1e-5, targetEpsilon: target });
      expect(r.epsilon).toBeLessThanOrEqual(target);
      expect(computeEpsilon([{ samplingRate: q, noiseMultiplier: r.noiseMultiplier, steps }], 1e-5).epsilon).toBe(r.epsilon);
      expect(computeEpsilon([{ samplingRate: q, noiseMultiplier: r.noiseMultiplier - 1e-3, steps }], 1e-5).epsilon).toBeGreaterThan(target);
    }
  });

  it('PLD: sigma below the RDP one, epsilon <= target, and 1e-3 less would exceed it', () => {
    const request = { samplingRate: 0.05, steps: 100, delta: 1e-5, targetEpsilon: 3 };
    const options = { valueDiscretization: 1e-3 };
    const pld = calibrateNoise({ ...request, accountant: 'pld' }, options);
    const rdp = calibrateNoise(request);
    expect(pld.noiseMultiplier).toBeLessThan(rdp.noiseMultiplier);
    expect(pld.epsilon).toBeLessThanOrEqual(3);
    const below = computeEpsilon([{ samplingRate: 0.05, noiseMultiplier: pld.noiseMultiplier - 1e-3, steps: 100 }], 1e-5, { accountant: 'pld', ...options });
    expect(below.epsilon).toBeGreaterThan(3);
  });

  it('rejects bad requests with a clear line', () => {
    expect(() => calibrateNoise({ samplingRate: 0.01, steps: 100, delta: 1e-5, targetEpsilon: 0 })).toThrow(/target epsilon must be > 0/);
    expect(() => calibrateNoise({ samplingRate: 0.01, steps: 0, delta: 1e-5, targetEpsilon: 1 })).toThrow(/steps must be >= 1/);
    expect(() => calibrateNoise({ samplingRate: 2, steps: 10, delta: 1e-5, targetEpsilon: 1 })).toThrow(/sampling rate/);
  });
});
