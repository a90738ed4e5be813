/**
 * The public reference vectors (values read from the test suites of TF Privacy, google
 * dp_accounting and Opacus), each within its own source's tolerance. The repository keeps a copy
 * in test/fixtures so a clone tests alone; when the project's shared/ folder sits beside the
 * clone, the copy must equal it.
 * PLD values must also be within 1% of the reference, and never below the exact value where one
 * is known (see pld.test.ts for the exact Gaussian).
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RDP_ORDERS,
  SubsampledGaussianLoss,
  composedRdp,
  computeEpsilon,
  pldDelta,
  rdpSubsampledGaussian,
  rdpToDelta,
  type FractionalSeries,
} from '../../src/accounting/index.js';

interface Vector {
  id: string;
  accountant: 'rdp' | 'pld';
  neighboring: string;
  sampling_rate: number;
  noise_multiplier: number;
  steps: number;
  delta: number | null;
  expected_epsilon: number | null;
  expected_optimal_order?: number;
  tolerance: { abs?: number; rtol?: number; atol?: number };
  orders: number[] | null;
  orders_expr?: string;
  order?: number;
  expected_rdp?: number;
  epsilon?: number;
  expected_delta?: number;
  expected_delta_at_epsilon_1?: number;
  rdp_fractional_method?: string;
}

const vectorsPath = new URL('../fixtures/accounting-public.json', import.meta.url);
const sharedVectorsPath = new URL('../../../shared/vectors/accounting-public.json', import.meta.url);
const vectors = JSON.parse(readFileSync(vectorsPath, 'utf8')) as Vector[];

function tolerance(v: Vector, expected: number): number {
  const t = v.tolerance;
  return Math.max(t.abs ?? 0, (t.atol ?? 0) + (t.rtol ?? 0) * Math.abs(expected));
}

/** Each vector's own fractional-order method: dp_accounting >= 2024 sums magnitudes. */
function seriesOf(v: Vector): FractionalSeries {
  return /magnitude/.test(v.rdp_fractional_method ?? '') ? 'magnitude-sum' : 'exact';
}

/** Each vector's own order grid (the dp_accounting Gaussian test uses 99,000 orders from 1.0). */
function ordersOf(v: Vector): number[] {
  if (v.orders) return v.orders;
  if (v.orders_expr) {
    expect(v.orders_expr).toContain('range(1000, 100000)');
    return Array.from({ length: 99_000 }, (_, i) => 0.001 * (i + 1000));
  }
  return [...DEFAULT_RDP_ORDERS];
}

const segmentOf = (v: Vector) => [{ samplingRate: v.sampling_rate, noiseMultiplier: v.noise_multiplier, steps: v.steps }];

describe('public accounting vectors', () => {
  it.runIf(existsSync(sharedVectorsPath))('the repository copy equals the shared vectors', () => {
    expect(JSON.parse(readFileSync(vectorsPath, 'utf8'))).toEqual(JSON.parse(readFileSync(sharedVectorsPath, 'utf8')));
  });

  it('the vector file is the one the issue names and has both accountants', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(10);
    expect(vectors.some((v) => v.accountant === 'rdp')).toBe(true);
    expect(vectors.some((v) => v.accountant === 'pld')).toBe(true);
  });

  for (const v of vectors.filter((x) => x.accountant === 'rdp' && x.expected_rdp !== undefined)) {
    it(`${v.id}: RDP at order ${v.order} after ${v.steps} steps`, () => {
      const got = v.steps * rdpSubsampledGaussian(v.sampling_rate, v.noise_multiplier, v.order!, { fractionalSeries: seriesOf(v) });
      expect(Math.abs(got - v.expected_rdp!)).toBeLessThanOrEqual(tolerance(v, v.expected_rdp!));
    });
  }

  for (const v of vectors.filter((x) => x.accountant === 'rdp' && x.expected_epsilon !== null)) {
    it(`${v.id}: RDP epsilon`, () => {
      const r = computeEpsilon(segmentOf(v), v.delta!, { accountant: 'rdp', orders: ordersOf(v), fractionalSeries: seriesOf(v) });
      expect(Math.abs(r.epsilon - v.expected_epsilon!)).toBeLessThanOrEqual(tolerance(v, v.expected_epsilon!));
      // The bar: RDP to 1e-6 relative (the references are printed to 7+ digits).
      expect(Math.abs(r.epsilon - v.expected_epsilon!) / v.expected_epsilon!).toBeLessThan(1e-6);
      if (v.expected_optimal_order !== undefined) expect(r.optimalOrder).toBe(v.expected_optimal_order);
      if (v.expected_delta_at_epsilon_1 !== undefined) {
        const orders = ordersOf(v);
        const d = rdpToDelta(composedRdp(segmentOf(v), orders), orders, 1).delta;
        expect(Math.abs(d - v.expected_delta_at_epsilon_1)).toBeLessThanOrEqual(5e-8);
      }
    });
  }

  for (const v of vectors.filter((x) => x.accountant === 'pld' && x.expected_epsilon !== null)) {
    it(`${v.id}: PLD epsilon within 1% (and the source's own tolerance)`, () => {
      const eps = computeEpsilon(segmentOf(v), v.delta!, { accountant: 'pld' }).epsilon;
      expect(Math.abs(eps - v.expected_epsilon!) / v.expected_epsilon!).toBeLessThan(0.01);
      expect(Math.abs(eps - v.expected_epsilon!)).toBeLessThanOrEqual(tolerance(v, v.expected_epsilon!));
      if (v.epsilon !== undefined && v.expected_delta !== undefined) {
        const d = pldDelta(segmentOf(v), v.epsilon);
        expect(Math.abs(d - v.expected_delta)).toBeLessThanOrEqual(tolerance(v, v.expected_delta));
      }
    });
  }

  for (const v of vectors.filter((x) => x.neighboring === 'add' || x.neighboring === 'remove')) {
    it(`${v.id}: exact one-step hockey-stick divergence`, () => {
      const loss = new SubsampledGaussianLoss(v.sampling_rate, v.noise_multiplier, v.neighboring as 'add' | 'remove');
      const d = loss.deltaForEpsilon(v.epsilon!);
      expect(Math.abs(d - v.expected_delta!)).toBeLessThanOrEqual(tolerance(v, v.expected_delta!));
      // The discretized one-step PLD is pessimistic: at or above the exact value.
      expect(pldDelta(segmentOf(v), v.epsilon!)).toBeGreaterThanOrEqual(d);
    });
  }

  it('tfp-example-rdp-q0.01 with the exact signed series gives the pre-2024 value 3.2391922', () => {
    // accounting.md: "TF tfp-example-rdp-q0.01: 3.2392676 now, 3.2391922 before 2024".
    const v = vectors.find((x) => x.id === 'tfp-example-rdp-q0.01')!;
    const r = computeEpsilon(segmentOf(v), v.delta!, { accountant: 'rdp', orders: ordersOf(v) });
    expect(Math.abs(r.epsilon - 3.2391922)).toBeLessThanOrEqual(5e-8);
    expect(r.epsilon).toBeLessThan(v.expected_epsilon!); // the magnitude sum is an upper bound
  });
});
