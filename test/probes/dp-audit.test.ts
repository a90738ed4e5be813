import { beforeAll, describe, expect, it } from 'vitest';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import binomcoefln from '@stdlib/math-base-special-binomcoefln';
import { Rng } from '../../src/core/rng.js';
import {
  clopperPearsonBonferroni,
  clopperPearsonSplit,
  cpEpsilonAtCounts,
  oneRunAudit,
  oneRunEpsilon,
  oneRunPValue,
} from '../../probes/membership/audit-bounds.js';
import { join } from 'node:path';
import { initBackend } from '../../src/core/backend.js';
import { silentProgress } from '../../src/core/progress.js';
import { saveTrainedModel, trainModel, type TrainConfig } from '../../src/train/index.js';
import { openTarget } from '../../src/targets/index.js';
import type { Manifest, ManifestCanary } from '../../src/canary/types.js';
import type { FeatureRow } from '../../src/targets/target.js';
import { runDpAudit } from '../../probes/dp-audit.js';
import type { ProbeContext } from '../../probes/registry.js';
import { tempDir } from '../helpers/cli.js';

/** epsilon(delta) of the Gaussian mechanism with mu = sensitivity / sigma (Balle & Wang 2018, Dong et al. 2019). */
function gaussianEpsilon(mu: number, delta: number): number {
  const deltaOf = (eps: number) => normalCdf(-eps / mu + mu / 2, 0, 1) - Math.exp(eps) * normalCdf(-eps / mu - mu / 2, 0, 1);
  let lo = 0;
  let hi = 100;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (deltaOf(mid) > delta) lo = mid;
    else hi = mid;
  }
  return hi;
}

describe('Clopper-Pearson epsilon bound', () => {
  it('reproduces the ceilings computed from the formula (alpha 0.05, perfect separation, n per arm)', () => {
    // ../shared/reference/probes.md section 2.6: n = 100 -> 3.28; 1,000 -> 5.60; 10,000 -> 7.91.
    expect(cpEpsilonAtCounts(100, 100, 0, 100, 0.05, 0)).toBeCloseTo(3.28, 2);
    expect(cpEpsilonAtCounts(1000, 1000, 0, 1000, 0.05, 0)).toBeCloseTo(5.6, 2);
    expect(cpEpsilonAtCounts(10000, 10000, 0, 10000, 0.05, 0)).toBeCloseTo(7.905, 2); // 7.9048, which the note rounds to 7.91
  });

  it('equals the closed form ln((TPR_lo - delta) / FPR_hi) for one record', () => {
    const tpLo = 0.025 ** (1 / 100); // CP lower of 100/100 at 0.025, = 1 - upper(0 of 100)
    const tprLo = tpLo;
    const fprHi = 1 - 0.025 ** (1 / 100);
    const delta = 1e-3;
    expect(cpEpsilonAtCounts(100, 100, 0, 100, 0.05, delta)).toBeCloseTo(Math.log((tprLo - delta) / fprHi), 6);
  });

  it('divides by the group size (group privacy) when canaries are repeated', () => {
    const one = cpEpsilonAtCounts(200, 200, 0, 200, 0.05, 0, 1);
    const four = cpEpsilonAtCounts(200, 200, 0, 200, 0.05, 0, 4);
    expect(four).toBeCloseTo(one / 4, 6);
    // with delta > 0 the group's delta grows, so the bound is at most one / 4
    expect(cpEpsilonAtCounts(200, 200, 0, 200, 0.05, 1e-3, 4)).toBeLessThanOrEqual(cpEpsilonAtCounts(200, 200, 0, 200, 0.05, 1e-3, 1) / 4 + 1e-9);
  });

  it('gives 0 for identical score distributions and a clearly positive bound for separated ones', () => {
    const rng = new Rng('cp');
    const null1 = Array.from({ length: 300 }, () => rng.normal());
    const null2 = Array.from({ length: 300 }, () => rng.normal());
    expect(clopperPearsonBonferroni(null1, null2, { delta: 1e-5 }).epsilonLowerBound).toBeLessThan(0.3);
    const sep = Array.from({ length: 300 }, () => rng.normal() + 6);
    const audit = clopperPearsonBonferroni(sep, null2, { delta: 1e-5 });
    expect(audit.epsilonLowerBound).toBeGreaterThan(2.5);
    expect(audit.epsilonLowerBound).toBeLessThanOrEqual(audit.ceiling + 1e-12);
    expect(audit.hypotheses).toBeGreaterThan(300);
    const split = clopperPearsonSplit(sep, null2, { delta: 1e-5, rng: new Rng('s') });
    expect(split.epsilonLowerBound).toBeGreaterThan(2);
    expect(split.epsilonLowerBound).toBeLessThanOrEqual(split.ceiling + 1e-12);
  });

  it('never exceeds the true epsilon of a Gaussian mechanism in 95% of repeated audits', () => {
    // Member scores ~ N(mu, 1), non-member scores ~ N(0, 1): each canary's score is a mu-GDP
    // release of its membership bit, so the true (eps, delta) curve is known in closed form.
    const mu = 2;
    const delta = 1e-5;
    const truth = gaussianEpsilon(mu, delta);
    const rng = new Rng('gaussian-validity');
    let exceed = 0;
    const trials = 60;
    let maxSeen = 0;
    for (let t = 0; t < trials; t++) {
      const m = Array.from({ length: 400 }, () => rng.normal() + mu);
      const n = Array.from({ length: 400 }, () => rng.normal());
      const eps = clopperPearsonBonferroni(m, n, { delta }).epsilonLowerBound;
      maxSeen = Math.max(maxSeen, eps);
      if (eps > truth) exceed++;
    }
    expect(exceed / trials).toBeLessThanOrEqual(0.05);
    expect(maxSeen).toBeGreaterThan(0.5); // the audit has power: it is not trivially 0
  });
});

describe('one-run audit (Steinke, Nasr, Jagielski 2023)', () => {
  it('reproduces the ceilings computed from the formula (all r guesses right, delta 0, beta 0.05)', () => {
    // ../shared/reference/probes.md section 2.7: r = 10 -> 1.05; 100 -> 3.49; 1,000 -> 5.81; 5,000 -> 7.42.
    expect(oneRunEpsilon(10, 10, 10, 0.05, 0)).toBeCloseTo(1.05, 2);
    expect(oneRunEpsilon(100, 100, 100, 0.05, 0)).toBeCloseTo(3.49, 2);
    expect(oneRunEpsilon(1000, 1000, 1000, 0.05, 0)).toBeCloseTo(5.81, 2);
    expect(oneRunEpsilon(5000, 5000, 5000, 0.05, 0)).toBeCloseTo(7.42, 2);
  });

  it('p-value with delta 0 is the binomial tail, checked against a naive sum', () => {
    const r = 30;
    const v = 24;
    const eps = 0.7;
    const q = Math.exp(eps) / (1 + Math.exp(eps));
    let naive = 0;
    for (let k = v; k <= r; k++) naive += Math.exp(binomcoefln(r, k)) * q ** k * (1 - q) ** (r - k);
    expect(oneRunPValue(60, r, v, eps, 0)).toBeCloseTo(naive, 12);
  });

  it('p-value with delta adds 2 m delta max_i P[v-i <= X < v] / i', () => {
    const m = 50;
    const r = 20;
    const v = 15;
    const eps = 0.5;
    const delta = 1e-4;
    const q = 1 / (1 + Math.exp(-eps));
    const pmf = (k: number) => Math.exp(binomcoefln(r, k)) * q ** k * (1 - q) ** (r - k);
    let beta = 0;
    for (let k = v; k <= r; k++) beta += pmf(k);
    let alpha = 0;
    for (let i = 1; i <= v; i++) {
      let s = 0;
      for (let k = v - i; k < v; k++) s += pmf(k);
      alpha = Math.max(alpha, s / i);
    }
    expect(oneRunPValue(m, r, v, eps, delta)).toBeCloseTo(beta + 2 * m * delta * alpha, 12);
    expect(oneRunEpsilon(m, r, v, 0.05, delta)).toBeLessThan(oneRunEpsilon(m, r, v, 0.05, 0));
  });

  it('refutes a claimed epsilon of 2 at the gate confidence (99.9%) with 1000 separated canaries, guessing both sides', () => {
    // The probe's former grid (a dozen "in"-only guess counts) gave 0 here: the delta term
    // exceeded every Bonferroni share of 0.001.
    const rng = new Rng('gate-confidence');
    const inserted: number[] = [];
    const notInserted: number[] = [];
    for (let i = 0; i < 1000; i++) (rng.bernoulli(0.5) ? inserted : notInserted).push(rng.normal());
    const audit = oneRunAudit(inserted.map((x) => x + 10), notInserted, { alpha: 0.001, delta: 1e-5 });
    expect(audit.confidence).toBeCloseTo(0.999, 12);
    expect(audit.ceiling).toBeGreaterThan(3);
    expect(audit.epsilonLowerBound).toBeCloseTo(audit.ceiling, 6);
    expect(audit.epsilonLowerBound).toBeGreaterThan(2);
    expect(audit.correct).toBe(audit.guesses);
    expect(audit.guesses).toBeGreaterThan(inserted.length);
  });

  it('never exceeds epsilon for an eps-DP randomized response in 95% of repeated audits', () => {
    // Each canary is inserted with probability 1/2; the "score" reports its bit truthfully with
    // probability e^eps / (1 + e^eps): an exactly eps-DP release per canary.
    const eps = 1;
    const q = Math.exp(eps) / (1 + Math.exp(eps));
    const rng = new Rng('rr-validity');
    let exceed = 0;
    const trials = 60;
    for (let t = 0; t < trials; t++) {
      const inserted: number[] = [];
      const notInserted: number[] = [];
      for (let i = 0; i < 500; i++) {
        const bit = rng.bernoulli(0.5);
        const reported = rng.bernoulli(q) ? bit : !bit;
        const score = (reported ? 1 : 0) + rng.next() * 1e-3;
        (bit ? inserted : notInserted).push(score);
      }
      if (oneRunAudit(inserted, notInserted, { delta: 0 }).epsilonLowerBound > eps) exceed++;
    }
    expect(exceed / trials).toBeLessThanOrEqual(0.05);
  });

  it('is clearly positive for perfectly memorized canaries and bounded by its ceiling', () => {
    const rng = new Rng('memorized');
    const inserted = Array.from({ length: 250 }, () => 10 + rng.normal());
    const notInserted = Array.from({ length: 250 }, () => rng.normal());
    const audit = oneRunAudit(inserted, notInserted, { delta: 1e-5 });
    expect(audit.epsilonLowerBound).toBeGreaterThan(2);
    expect(audit.epsilonLowerBound).toBeCloseTo(audit.ceiling, 6);
    expect(audit.correct).toBe(audit.guesses);
  });
});

// ---- on trained models --------------------------------------------------------------------------


/**
 * A tabular canary experiment in the one-run design: 300 ordinary rows whose label follows a rule,
 * and 200 canaries (random features and a label no ordinary row has: only memorization fits them,
 * like the mislabelled canaries of ml_privacy_meter's audits), each inserted with probability 1/2,
 * `copies` times.
 */
function experiment(seed: string, copies: number): { rows: FeatureRow[]; manifest: Manifest } {
  const rng = new Rng(seed);
  const row = (): FeatureRow => {
    const r: FeatureRow = {};
    for (let j = 0; j < 10; j++) r[`f${j}`] = rng.normal();
    return r;
  };
  const rows: FeatureRow[] = [];
  for (let i = 0; i < 300; i++) {
    const r = row();
    rows.push({ ...r, label: (r.f0 as number) + (r.f1 as number) > 0 ? 'yes' : 'no' });
  }
  const canaries: ManifestCanary[] = [];
  for (let i = 0; i < 200; i++) {
    const record = row();
    const label = 'canary';
    const inserted = rng.bernoulli(0.5);
    canaries.push({ id: `c${i}`, text: '', prefix: '', secret: '', suffix: '', format: 'row', record, label, role: inserted ? 'inserted' : 'reference', repetitions: inserted ? copies : 0 });
    if (inserted) for (let c = 0; c < copies; c++) rows.push({ ...record, label });
  }
  const manifest = { version: 1, mode: 'bernoulli', kind: 'tabular', labelColumn: 'label', canaries } as unknown as Manifest;
  return { rows, manifest };
}

async function auditModel(config: TrainConfig, seed: string, copies: number, options: Record<string, unknown> = {}) {
  const { rows, manifest } = experiment(seed, copies);
  const dir = tempDir();
  const trained = await trainModel({ ...config, seed }, { task: 'classifier', rows, labelColumn: 'label', source: { file: 'rows', sha256: '0'.repeat(64), records: rows.length } });
  await saveTrainedModel(join(dir, 'model'), trained);
  trained.model.dispose();
  const target = await openTarget(join(dir, 'model'));
  const ctx: ProbeContext = {
    target,
    targetDescriptor: await target.describe(),
    manifest,
    manifestDigest: 'f'.repeat(64),
    rng: new Rng(`${seed}/probe`),
    seed,
    backend: 'wasm',
    progress: silentProgress,
    options,
  };
  try {
    return { result: await runDpAudit(ctx), epsilon: trained.epsilon };
  } finally {
    await target.close();
  }
}

describe('dp-audit on trained classifiers with canaries (one-run)', () => {
  beforeAll(async () => {
    expect((await initBackend('wasm')).backend).toBe('wasm');
  });
  const base: TrainConfig = { model: 'mlp', dp: false, clipNorm: 1, batchSize: 64, epochs: 60, learningRate: 0.01, optimizer: 'adam', accountant: 'rdp', architecture: { hiddenUnits: [64] } };

  it('is clearly positive for a model that memorizes its canaries, and refutes a false DP claim', async () => {
    const { result } = await auditModel({ ...base, architecture: { hiddenUnits: [128] } }, 'memorize', 1, { claimedEpsilon: 0.5 });
    expect(result.method).toBe('one-run');
    expect(result.groupSize).toBe(1);
    expect(result.canaries).toBe(200);
    expect(result.epsilonLowerBound).toBeGreaterThan(0.5);
    expect(result.epsilonLowerBound).toBeLessThanOrEqual(result.ceiling);
    expect(result.refuted).toBe(true);
    expect(result.claimSource).toBe('flag');
  });

  it('never exceeds the epsilon of a DP-SGD model, read from its privacy.json (several seeds)', async () => {
    const dp: TrainConfig = { ...base, dp: true, noiseMultiplier: 4, clipNorm: 1, epochs: 6, learningRate: 0.1, delta: 1e-4 };
    for (const seed of ['dp-1', 'dp-2', 'dp-3']) {
      const { result, epsilon } = await auditModel(dp, seed, 1);
      expect(result.claimSource).toBe('privacy.json');
      expect(result.claimedEpsilon).toBeCloseTo(epsilon!, 9);
      expect(result.delta).toBe(1e-4);
      // Not vacuous: these canaries could show more than the claim (the ceiling is above it), and a
      // model that memorizes them does (the test above reaches > 0.5 at 1 copy).
      expect(result.ceiling).toBeGreaterThan(epsilon!);
      expect(result.epsilonLowerBound).toBeLessThanOrEqual(epsilon!);
      expect(result.refuted).toBe(false);
    }
  });
});
