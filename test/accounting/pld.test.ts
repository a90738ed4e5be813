/** PLD accountant: pessimism against exact values, FFT composition against naive convolution. */
import { describe, expect, it } from 'vitest';
import erfc from '@stdlib/math-base-special-erfc';
import { computeEpsilon, pldDelta, pldEpsilon, SubsampledGaussianLoss } from '../../src/accounting/index.js';
import { composePmfs, discretizeSubsampledGaussian, pmfDeltaForEpsilon, pmfEpsilonForDelta, type LossPmf } from '../../src/accounting/pld/index.js';

const Phi = (z: number) => 0.5 * erfc(-z / Math.SQRT2);

/** Exact delta(eps) of mu-GDP, i.e. T compositions of the Gaussian with noise sigma (mu = sqrt(T)/sigma). */
function gaussianDelta(mu: number, eps: number): number {
  return Phi(-eps / mu + mu / 2) - Math.exp(eps) * Phi(-eps / mu - mu / 2);
}

function gaussianEpsilon(mu: number, delta: number): number {
  let lo = 0;
  let hi = 100;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (gaussianDelta(mu, mid) > delta) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Direct O(n^2) convolution of two PMFs on the same grid. */
function naiveConvolve(a: LossPmf, b: LossPmf): LossPmf {
  const probs = new Float64Array(a.probs.length + b.probs.length - 1);
  for (let i = 0; i < a.probs.length; i++) for (let j = 0; j < b.probs.length; j++) probs[i + j] += a.probs[i]! * b.probs[j]!;
  return { h: a.h, offset: a.offset + b.offset, probs, infinityMass: 1 - (1 - a.infinityMass) * (1 - b.infinityMass) };
}

describe('PLD accountant', () => {
  it('is an upper bound within 1% of the exact composed Gaussian (q = 1)', () => {
    for (const [sigma, steps, delta] of [
      [0.7, 2, 1e-5],
      [2.0, 10, 1e-6],
    ] as const) {
      const exact = gaussianEpsilon(Math.sqrt(steps) / sigma, delta);
      const eps = pldEpsilon([{ samplingRate: 1, noiseMultiplier: sigma, steps }], delta);
      expect(eps).toBeGreaterThanOrEqual(exact);
      expect((eps - exact) / exact).toBeLessThan(0.01);
    }
  });

  it('one discretized step is above the exact hockey-stick curve everywhere, in both directions', () => {
    for (const direction of ['remove', 'add'] as const) {
      const exact = new SubsampledGaussianLoss(0.3, 0.9, direction);
      const pmf = discretizeSubsampledGaussian(0.3, 0.9, direction, 1e-3);
      for (const eps of [0, 0.05, 0.1234, 0.5, 0.77, 1.5, 2.3456]) {
        expect(pmfDeltaForEpsilon(pmf, eps), `${direction} eps=${eps}`).toBeGreaterThanOrEqual(exact.deltaForEpsilon(eps));
        expect(pmfDeltaForEpsilon(pmf, eps) - exact.deltaForEpsilon(eps)).toBeLessThan(1e-3);
      }
      // Every bit of P-mass is accounted for.
      const total = pmf.probs.reduce((s, p) => s + p, 0) + pmf.infinityMass;
      expect(total).toBeCloseTo(1, 12);
    }
  });

  it('the add and remove directions differ for q < 1 and the larger is taken', () => {
    const seg = [{ samplingRate: 0.8, noiseMultiplier: 1, steps: 1 }];
    const remove = new SubsampledGaussianLoss(0.8, 1, 'remove').deltaForEpsilon(1);
    const add = new SubsampledGaussianLoss(0.8, 1, 'add').deltaForEpsilon(1);
    expect(remove).toBeGreaterThan(add);
    const d = pldDelta(seg, 1);
    expect(d).toBeGreaterThanOrEqual(remove);
    expect(d - remove).toBeLessThan(1e-4);
    // At large epsilon the add direction is bounded (its loss never exceeds -log(1 - q)).
    expect(new SubsampledGaussianLoss(0.2, 1, 'add').deltaForEpsilon(-Math.log(0.8) + 1e-9)).toBe(0);
  });

  it('FFT composition equals a direct convolution (coarse grid)', () => {
    const pmf = discretizeSubsampledGaussian(0.1, 1.0, 'remove', 0.01);
    const viaFft = composePmfs([{ pmf, times: 3 }]);
    let naive = pmf;
    for (let i = 1; i < 3; i++) naive = naiveConvolve(naive, pmf);
    for (const eps of [0, 0.3, 0.8, 1.5]) {
      const a = pmfDeltaForEpsilon(viaFft, eps);
      const b = pmfDeltaForEpsilon(naive, eps);
      expect(a).toBeGreaterThanOrEqual(b - 1e-14);
      expect(Math.abs(a - b)).toBeLessThan(1e-12);
    }
    // Heterogeneous factors too.
    const other = discretizeSubsampledGaussian(0.3, 2.0, 'remove', 0.01);
    const mixed = composePmfs([{ pmf, times: 2 }, { pmf: other, times: 1 }]);
    const naiveMixed = naiveConvolve(naiveConvolve(pmf, pmf), other);
    for (const eps of [0.1, 0.6, 1.2]) expect(Math.abs(pmfDeltaForEpsilon(mixed, eps) - pmfDeltaForEpsilon(naiveMixed, eps))).toBeLessThan(1e-12);
  });

  it('epsilon-for-delta inverts delta-for-epsilon', () => {
    const pmf = composePmfs([{ pmf: discretizeSubsampledGaussian(0.05, 0.9, 'remove', 1e-3), times: 200 }]);
    for (const delta of [1e-3, 1e-5, 1e-7]) {
      const eps = pmfEpsilonForDelta(pmf, delta);
      expect(pmfDeltaForEpsilon(pmf, eps)).toBeLessThanOrEqual(delta * (1 + 1e-9));
      expect(pmfDeltaForEpsilon(pmf, eps - 1e-3)).toBeGreaterThan(delta);
    }
  });

  it('is below RDP and composes heterogeneous segments like one segment when they agree', () => {
    const a = { samplingRate: 0.05, noiseMultiplier: 1.0, steps: 100 };
    const pld = computeEpsilon([a, a], 1e-5, { accountant: 'pld', valueDiscretization: 1e-3 }).epsilon;
    const whole = computeEpsilon([{ ...a, steps: 200 }], 1e-5, { accountant: 'pld', valueDiscretization: 1e-3 }).epsilon;
    expect(Math.abs(pld - whole)).toBeLessThan(1e-9);
    expect(pld).toBeLessThan(computeEpsilon([{ ...a, steps: 200 }], 1e-5).epsilon);
    const b = { samplingRate: 0.1, noiseMultiplier: 2.0, steps: 50 };
    const hetero = computeEpsilon([a, b], 1e-5, { accountant: 'pld', valueDiscretization: 1e-3 }).epsilon;
    expect(hetero).toBeGreaterThan(computeEpsilon([a], 1e-5, { accountant: 'pld', valueDiscretization: 1e-3 }).epsilon);
    expect(hetero).toBeLessThan(computeEpsilon([a, b], 1e-5, { accountant: 'rdp' }).epsilon);
  });

  it('a finer grid gives a smaller (still pessimistic) epsilon', () => {
    const seg = [{ samplingRate: 0.02, noiseMultiplier: 0.9, steps: 100 }];
    const coarse = pldEpsilon(seg, 1e-5, { valueDiscretization: 1e-2 });
    const fine = pldEpsilon(seg, 1e-5, { valueDiscretization: 1e-3 });
    expect(fine).toBeLessThan(coarse);
  });
});
