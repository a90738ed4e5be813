/** RDP at noise multipliers whose square overflows a double: the limit is zero divergence, never a made-up epsilon. */
import { describe, expect, it } from 'vitest';
import { rdpCurve, rdpSubsampledGaussian } from '../../src/accounting/rdp.js';
import { computeEpsilon } from '../../src/accounting/epsilon.js';

const orders = [1.5, 2, 3, 32, 256, 1024];

describe('RDP of the subsampled Gaussian at extreme noise', () => {
  it('stays finite, non-negative and non-increasing in sigma past sigma^2 = 1.8e308', () => {
    let previous = rdpCurve(0.01, 1e150, orders);
    for (const sigma of [1e154, 1e155, 1e200, 1e300]) {
      const curve = rdpCurve(0.01, sigma, orders);
      for (let k = 0; k < orders.length; k++) {
        expect(Number.isFinite(curve[k]!), `sigma ${sigma} order ${orders[k]}`).toBe(true);
        expect(curve[k]!).toBeGreaterThanOrEqual(0);
        expect(curve[k]!).toBeLessThanOrEqual(previous[k]! + 1e-15);
      }
      previous = curve;
    }
  });

  it('gives the same epsilon at sigma 1e155 as at 1e100 (both are the conversion term alone), not the 0.825 of an overflow', () => {
    const at = (sigma: number) => computeEpsilon([{ samplingRate: 0.01, noiseMultiplier: sigma, steps: 1000 }], 1e-5, { accountant: 'rdp' }).epsilon;
    expect(at(1e155)).toBeCloseTo(at(1e100), 12);
    expect(at(1e155)).toBeLessThan(0.004);
  });

  it('is infinite, not NaN, when sigma is so small that e^(1/(2 sigma^2)) overflows', () => {
    for (const order of [2, 3, 32]) expect(rdpSubsampledGaussian(0.01, 1e-200, order)).toBe(Infinity);
  });
});
