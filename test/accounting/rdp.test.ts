/** RDP of the subsampled Gaussian against a naive numerical integral, conversion, and composition. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RDP_ORDERS, composedRdp, computeEpsilon, rdpSubsampledGaussian, rdpToEpsilon } from '../../src/accounting/index.js';

/**
 * Naive A_alpha = E_{x~N(0,s^2)}[((1-q) + q e^{(2x-1)/(2 s^2)})^alpha] by the trapezoid rule on a
 * wide, fine grid (Mironov, Talwar, Zhang 2019, Sec. 3): an independent check of both series.
 */
function naiveRdp(q: number, sigma: number, alpha: number): number {
  const lo = -30 * sigma;
  const hi = 30 * sigma + 1 + alpha; // the integrand's mass shifts right as alpha grows
  const n = 400_000;
  const dx = (hi - lo) / n;
  let sum = 0;
  for (let i = 0; i <= n; i++) {
    const x = lo + i * dx;
    const density = Math.exp(-(x * x) / (2 * sigma * sigma)) / (sigma * Math.sqrt(2 * Math.PI));
    const ratio = 1 - q + q * Math.exp((2 * x - 1) / (2 * sigma * sigma));
    sum += (i === 0 || i === n ? 0.5 : 1) * density * ratio ** alpha;
  }
  return Math.log(sum * dx) / (alpha - 1);
}

describe('RDP of the Poisson-subsampled Gaussian', () => {
  it('matches a direct numerical integral at integer and fractional orders (exact series)', () => {
    for (const [q, sigma, alpha] of [
      [0.01, 1.1, 1.5],
      [0.01, 1.1, 2],
      [0.05, 0.8, 3.7],
      [0.2, 2.0, 8],
      [0.004, 1.1, 10.9],
      [0.5, 1.5, 1.1],
    ] as const) {
      const exact = rdpSubsampledGaussian(q, sigma, alpha);
      expect(Math.abs(exact - naiveRdp(q, sigma, alpha)) / exact, `q=${q} s=${sigma} a=${alpha}`).toBeLessThan(1e-6);
    }
  });

  it('the magnitude sum is an upper bound of the exact series, equal at integer orders', () => {
    for (const alpha of [1.5, 2.5, 4.4, 10.9]) {
      const exact = rdpSubsampledGaussian(0.01, 0.7, alpha);
      const upper = rdpSubsampledGaussian(0.01, 0.7, alpha, { fractionalSeries: 'magnitude-sum' });
      expect(upper).toBeGreaterThanOrEqual(exact);
    }
    expect(rdpSubsampledGaussian(0.01, 0.7, 5, { fractionalSeries: 'magnitude-sum' })).toBe(rdpSubsampledGaussian(0.01, 0.7, 5));
  });

  it('q = 1 is the plain Gaussian alpha/(2 sigma^2)', () => {
    expect(rdpSubsampledGaussian(1, 0.7, 3.3)).toBeCloseTo(3.3 / (2 * 0.49), 14);
  });

  it('stays finite and accurate at order 1024 with tiny q (log space)', () => {
    const r = rdpSubsampledGaussian(1e-6, 1.0, 1024);
    expect(Number.isFinite(r)).toBe(true);
    expect(r).toBeGreaterThan(0);
    // Tiny q: rdp ~ alpha q^2 (e^{1/s^2} - 1) / 2 (the i = 2 term; the next is ~q smaller). The
    // integral cannot resolve A - 1 ~ 1e-11 here; the closed form can.
    const leading = (6 * 1e-6 ** 2 * Math.expm1(1)) / 2;
    expect(Math.abs(rdpSubsampledGaussian(1e-6, 1.0, 6) - leading) / leading).toBeLessThan(1e-4);
    const leading8 = (6 * 1e-8 ** 2 * Math.expm1(1)) / 2;
    expect(Math.abs(rdpSubsampledGaussian(1e-8, 1.0, 6) - leading8) / leading8).toBeLessThan(1e-6);
    // Large orders at q=0.01, s=2.5 are where the RDP jumps (dp_accounting test: 167.416 / 50 at order 100).
    expect(rdpSubsampledGaussian(0.01, 2.5, 1024)).toBeGreaterThan(rdpSubsampledGaussian(0.01, 2.5, 512));
  });

  it('is monotone in the order and in sigma', () => {
    const orders = [...DEFAULT_RDP_ORDERS];
    const curve = composedRdp([{ samplingRate: 0.02, noiseMultiplier: 1.0, steps: 1 }], orders);
    for (let k = 1; k < orders.length; k++) expect(curve[k]!).toBeGreaterThanOrEqual(curve[k - 1]! * (1 - 1e-12));
    expect(rdpSubsampledGaussian(0.02, 1.2, 4)).toBeLessThan(rdpSubsampledGaussian(0.02, 1.0, 4));
  });

  it('conversion: improved is never above classic; both minimized over the grid', () => {
    const orders = [...DEFAULT_RDP_ORDERS];
    const rdp = composedRdp([{ samplingRate: 0.004, noiseMultiplier: 1.1, steps: 10_000 }], orders);
    const improved = rdpToEpsilon(rdp, orders, 1e-5, 'improved');
    const classic = rdpToEpsilon(rdp, orders, 1e-5, 'classic');
    expect(improved.epsilon).toBeLessThan(classic.epsilon);
    // The minimum is a minimum: every order gives at least it.
    for (let k = 0; k < orders.length; k++) {
      const a = orders[k]!;
      expect(rdp[k]! + Math.log1p(-1 / a) - (Math.log(1e-5) + Math.log(a)) / (a - 1)).toBeGreaterThanOrEqual(improved.epsilon - 1e-12);
    }
  });

  it('heterogeneous segments compose by adding RDP curves', () => {
    const a = { samplingRate: 0.01, noiseMultiplier: 1.0, steps: 300 };
    const b = { samplingRate: 0.02, noiseMultiplier: 1.3, steps: 200 };
    const both = computeEpsilon([a, b], 1e-5);
    const orders = [...DEFAULT_RDP_ORDERS];
    const ra = composedRdp([a], orders);
    const rb = composedRdp([b], orders);
    const sum = ra.map((v, k) => v + rb[k]!);
    expect(both.epsilon).toBeCloseTo(rdpToEpsilon(sum, orders, 1e-5).epsilon, 12);
    // Splitting a segment changes nothing.
    const whole = computeEpsilon([{ ...a, steps: 600 }], 1e-5).epsilon;
    expect(computeEpsilon([a, a], 1e-5).epsilon).toBeCloseTo(whole, 12);
  });

  it('warns when the optimal order is at the edge of the grid', () => {
    const r = computeEpsilon([{ samplingRate: 0.01, noiseMultiplier: 1.0, steps: 1000 }], 1e-5, { orders: [2, 3] });
    expect(r.optimalOrder).toBe(3);
    expect(r.warnings?.[0]).toMatch(/largest order/);
    expect(computeEpsilon([{ samplingRate: 0.01, noiseMultiplier: 1.0, steps: 1000 }], 1e-5).warnings).toBeUndefined();
  });

  it('rejects bad parameters with one clear message', () => {
    const bad: [number, number, number, number, RegExp][] = [
      [0, 1, 10, 1e-5, /sampling rate must be in \(0, 1\]/],
      [1.5, 1, 10, 1e-5, /sampling rate/],
      [0.1, 0, 10, 1e-5, /noise multiplier must be > 0/],
      [0.1, 1, 2.5, 1e-5, /steps must be a non-negative integer/],
      [0.1, 1, 10, 1, /delta must be in \(0, 1\)/],
      [0.1, 1, 10, 0, /delta/],
    ];
    for (const [q, s, n, d, re] of bad) {
      expect(() => computeEpsilon([{ samplingRate: q, noiseMultiplier: s, steps: n }], d)).toThrow(re);
    }
  });
});
