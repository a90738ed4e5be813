/**
 * The DP-SGD loop: Poisson batches have the right mean (and may be empty), the ledger's epsilon
 * is the accountant's for the same (q, sigma, steps), a target epsilon is met, seeded runs repeat,
 * a non-private charlm learns, noise is N(0, (sigma C)^2), and a step applies exactly
 * (clipped sum + noise) / qN, or the mean gradient without DP, however the batch is chunked.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import { initBackend, tf } from '../../src/core/backend.js';
import { Rng } from '../../src/core/rng.js';
import { computeEpsilon } from '../../src/accounting/index.js';
import { CharTokenizer } from '../../src/models/tokenizer.js';
import { buildCharLm } from '../../src/models/charlm.js';
import { poissonSample } from '../../src/train/sampler.js';
import { csprngGaussian, seededGaussian } from '../../src/train/noise.js';
import { ClippingEngine } from '../../src/train/engine.js';
import { lmExamples, makeBatch } from '../../src/train/examples.js';
import { disposeBatch } from '../../src/train/batch.js';
import { makeOptimizer, trainModel, trainStep, type TrainingRecords, type TrainConfig } from '../../src/train/index.js';
import { runCli } from '../helpers/cli.js';

beforeAll(async () => {
  await initBackend('wasm');
});

const source = { file: 'notes.jsonl', sha256: 'b'.repeat(64), records: 0 };

function lmRecords(texts: string[]): TrainingRecords {
  return { task: 'lm', texts, source: { ...source, records: texts.length } };
}

const tiny = { contextLength: 4, embeddingDim: 4, hiddenUnits: [16] };

function rows(n: number, rng: Rng): TrainingRecords {
  const data = Array.from({ length: n }, () => {
    const a = rng.normal();
    return { a, b: rng.normal(), site: rng.pick(['x', 'y']), y: a > 0 ? 'pos' : 'neg' };
  });
  return { task: 'classifier', rows: data, labelColumn: 'y', source: { ...source, records: n } };
}

describe('Poisson sampling', () => {
  it('draws each example with probability q: batch sizes have mean qN and variance qN(1-q), and can be empty', () => {
    const rng = new Rng(11);
    const n = 1000;
    const q = 0.05;
    const sizes = Array.from({ length: 400 }, () => poissonSample(n, q, rng).length);
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    const variance = sizes.reduce((a, b) => a + (b - mean) ** 2, 0) / (sizes.length - 1);
    expect(Math.abs(mean - n * q)).toBeLessThan(4 * Math.sqrt((n * q * (1 - q)) / sizes.length));
    expect(variance).toBeGreaterThan(n * q * (1 - q) * 0.7);
    expect(variance).toBeLessThan(n * q * (1 - q) * 1.3);
    const one = poissonSample(n, q, rng);
    expect(one).toEqual([...new Set(one)].sort((a, b) => a - b));
    const empties = Array.from({ length: 200 }, () => poissonSample(10, 0.01, rng).length).filter((s) => s === 0).length;
    expect(empties).toBeGreaterThan(150); // P(empty) = 0.99^10 = 0.90
  });
});

describe('one training step', () => {
  const tok = CharTokenizer.publicAscii();
  const set = lmExamples(['abc de', 'f', 'ghij', 'klmnop qr'], tok, 4);
  const indices = [0, 1, 2, 3];
  const dpConfig = { clipNorm: 0.05, noiseMultiplier: 0.7, expectedBatchSize: 2.5 };

  /** The update plain SGD with learning rate 1 applied: the step's gradient. */
  function appliedGradient(maxRowsPerChunk: number, dp: boolean): Float32Array[] {
    const model = buildCharLm({ vocabSize: tok.size, ...tiny, activation: 'relu', layerNorm: true, seed: 1 });
    const engine = new ClippingEngine(model);
    const before = engine.params.map((p) => p.variable.dataSync().slice() as Float32Array);
    const optimizer = tf.train.sgd(1);
    trainStep({ engine, set, optimizer, maxRowsPerChunk, dp: dp ? { ...dpConfig, noise: seededGaussian(new Rng(9)) } : undefined }, indices, 1);
    const applied = engine.params.map((p, k) => before[k]!.map((b, j) => b - p.variable.dataSync()[j]!));
    optimizer.dispose();
    model.dispose();
    return applied;
  }

  /** The same from the engine's parts: (sum_i c_i g_i + z) / qN, or the mean gradient. */
  function expectedGradient(dp: boolean): Float32Array[] {
    const model = buildCharLm({ vocabSize: tok.size, ...tiny, activation: 'relu', layerNorm: true, seed: 1 });
    const engine = new ClippingEngine(model);
    const batch = makeBatch(set, indices);
    const grads = dp ? engine.clippedGradients(batch, dpConfig.clipNorm).sums : engine.meanGradients(batch).grads;
    const noise = seededGaussian(new Rng(9));
    const out = grads.map((g) => {
      const values = g.dataSync() as Float32Array;
      if (!dp) return values.slice();
      const z = new Float32Array(values.length);
      noise.fill(z, dpConfig.noiseMultiplier * dpConfig.clipNorm);
      return values.map((v, j) => (v + z[j]!) / dpConfig.expectedBatchSize);
    });
    tf.dispose(grads);
    disposeBatch(batch);
    model.dispose();
    return out;
  }

  function expectClose(actual: Float32Array[], expected: Float32Array[]): void {
    expect(actual.length).toBe(expected.length);
    actual.forEach((a, k) => {
      const scale = Math.max(...expected[k]!.map(Math.abs));
      a.forEach((v, j) => expect(Math.abs(v - expected[k]![j]!)).toBeLessThan(1e-4 * scale + 1e-7));
    });
  }

  it('DP: applies (clipped sum + N(0, sigma^2 C^2)) / qN, in one chunk or several', () => {
    const expected = expectedGradient(true);
    expectClose(appliedGradient(1000, true), expected);
    expectClose(appliedGradient(6, true), expected);
  });

  it('non-private: applies the mean gradient over the batch, in one chunk or several', () => {
    const expected = expectedGradient(false);
    expectClose(appliedGradient(1000, false), expected);
    expectClose(appliedGradient(6, false), expected);
  });
});

describe('DP noise', () => {
  it('is centred with standard deviation sigma*C, from the CSPRNG or seeded', () => {
    for (const source of [csprngGaussian({ prefetch: false }), seededGaussian(new Rng(3))]) {
      const z = new Float32Array(40000);
      source.fill(z, 2.5);
      const mean = z.reduce((a, b) => a + b, 0) / z.length;
      const sd = Math.sqrt(z.reduce((a, b) => a + (b - mean) ** 2, 0) / z.length);
      expect(Math.abs(mean)).toBeLessThan(0.05);
      expect(sd).toBeGreaterThan(2.45);
      expect(sd).toBeLessThan(2.55);
    }
  });

  /** Kolmogorov-Smirnov against N(0, std^2) at the 0.1% level (critical value 1.95 / sqrt(n)), and the mass beyond 3 sigma. */
  function expectNormal(z: Float32Array, std: number): void {
    const n = z.length;
    const sorted = Float64Array.from(z).sort();
    let ks = 0;
    sorted.forEach((x, i) => {
      const F = normalCdf(x, 0, std);
      ks = Math.max(ks, Math.abs(F - i / n), Math.abs(F - (i + 1) / n));
    });
    expect(ks).toBeLessThan(1.95 / Math.sqrt(n));
    const beyond3 = z.filter((x) => Math.abs(x) > 3 * std).length / n; // 2 * (1 - Phi(3)) = 0.0027
    expect(beyond3).toBeGreaterThan(0.0027 - 0.001);
    expect(beyond3).toBeLessThan(0.0027 + 0.001);
  }

  it('follows the normal distribution, tails included, drawn inline from the CSPRNG or seeded', () => {
    for (const source of [csprngGaussian({ prefetch: false }), seededGaussian(new Rng(4))]) {
      const z = new Float32Array(100000);
      source.fill(z, 2);
      expectNormal(z, 2);
    }
  });

  it('draws CSPRNG noise ahead on a worker thread, with the same distribution', async () => {
    const source = csprngGaussian({ prefetch: true });
    try {
      const n = 100000;
      for (let waited = 0; waited < 20000 && source.ready < n; waited += 50) await new Promise((ok) => setTimeout(ok, 50));
      expect(source.ready).toBeGreaterThanOrEqual(n);
      const z = new Float32Array(n);
      source.fill(z, 2);
      expect(source.prefetched).toBe(n); // all from the worker's ring
      expectNormal(z, 2);
    } finally {
      source.close?.();
    }
  });

  it('runs a step on an empty batch: noise only, weights still move', () => {
    const tok = CharTokenizer.publicAscii();
    const model = buildCharLm({ vocabSize: tok.size, ...tiny, activation: 'relu', layerNorm: false, seed: 1 });
    const engine = new ClippingEngine(model);
    const set = lmExamples(['abc'], tok, 4);
    const before = engine.params[0]!.variable.dataSync().slice();
    const optimizer = makeOptimizer({ optimizer: 'sgd', learningRate: 0.1 } as TrainConfig);
    const loss = trainStep({ engine, set, optimizer, maxRowsPerChunk: 1000, dp: { clipNorm: 1, noiseMultiplier: 1, expectedBatchSize: 1, noise: seededGaussian(new Rng(1)) } }, [], 1);
    expect(loss).toBe(0);
    expect(engine.params[0]!.variable.dataSync()).not.toEqual(before);
    optimizer.dispose();
  });
});

describe('trainModel', () => {
  const base: TrainConfig = { model: 'mlp', dp: true, noiseMultiplier: 1.1, delta: 1e-3, clipNorm: 1, batchSize: 8, epochs: 2, learningRate: 0.05, optimizer: 'momentum', accountant: 'rdp', seed: '7' };

  it("records every step in the ledger: its epsilon is the accountant's for the same (q, sigma, steps)", async () => {
    const result = await trainModel(base, rows(40, new Rng(1)));
    expect(result.steps).toBe(10); // ceil(2 * 40 / 8)
    expect(result.samplingRate).toBe(0.2);
    const expected = computeEpsilon([{ samplingRate: 0.2, noiseMultiplier: 1.1, steps: 10 }], 1e-3, { accountant: 'rdp' }).epsilon;
    expect(Math.abs(result.epsilon! - expected) / expected).toBeLessThan(1e-12); // the ledger composes step by step
    expect(result.privacy.dp).toBe(true);
    if (result.privacy.dp) {
      expect(result.privacy.segments).toEqual([{ samplingRate: 0.2, noiseMultiplier: 1.1, steps: 10 }]);
      expect(result.privacy.epsilon.rdp).toBeCloseTo(expected, 10);
      expect(result.privacy.noiseSource).toBe('seeded');
      expect(result.privacy.clipNorm).toBe(1);
    }
    // The same figure as `memaudit accountant epsilon`.
    const cli = await runCli(['accountant', 'epsilon', '--sampling-rate', '0.2', '--noise-multiplier', '1.1', '--steps', '10', '--delta', '1e-3', '--json']);
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout).epsilon).toBeCloseTo(expected, 10);
    result.model.dispose();
  });

  it('calibrates sigma to a target epsilon and stays within it; seeded runs repeat exactly', async () => {
    const config = { ...base, noiseMultiplier: undefined, targetEpsilon: 3 };
    const a = await trainModel(config, rows(40, new Rng(2)));
    expect(a.epsilon!).toBeLessThanOrEqual(3);
    expect(a.epsilon!).toBeGreaterThan(2.9);
    expect(a.steps).toBe(a.plannedSteps);
    const b = await trainModel(config, rows(40, new Rng(2)));
    expect(b.model.getWeights()[0]!.dataSync()).toEqual(a.model.getWeights()[0]!.dataSync());
    // A fixed sigma with a budget too small for every step stops at the budget.
    const c = await trainModel({ ...base, targetEpsilon: 1.5, epochs: 6 }, rows(40, new Rng(2)));
    expect(c.stoppedAtBudget).toBe(true);
    expect(c.steps).toBeLessThan(c.plannedSteps);
    expect(c.epsilon!).toBeLessThanOrEqual(1.5);
    [a, b, c].forEach((r) => r.model.dispose());
  });

  it('a non-private charlm learns a small text: loss falls well below uniform', async () => {
    const texts = Array.from({ length: 40 }, (_, i) => `patient ${i % 4} is stable.`);
    const result = await trainModel(
      { model: 'charlm', architecture: tiny, dp: false, clipNorm: 1, batchSize: 8, epochs: 15, learningRate: 0.02, optimizer: 'adam', accountant: 'rdp', seed: '1' },
      lmRecords(texts),
    );
    const uniform = Math.log(result.meta.tokenizer!.vocab.length);
    expect(result.epsilon).toBeNull();
    expect(result.privacy).toEqual({ version: 1, dp: false });
    expect(result.finalLoss).toBeLessThan(0.35 * uniform);
    result.model.dispose();
  });

  it('uses a data-independent vocabulary under DP', async () => {
    const result = await trainModel({ ...base, model: 'charlm', architecture: tiny, epochs: 1 }, lmRecords(Array.from({ length: 20 }, () => 'héllo')));
    expect(result.meta.tokenizer!.vocab).toEqual(CharTokenizer.publicAscii().vocab);
    result.model.dispose();
  });
});

afterAllTensors();
function afterAllTensors() {
  it('leaves no tensors behind across steps', () => {
    const tok = CharTokenizer.publicAscii();
    const model = buildCharLm({ vocabSize: tok.size, ...tiny, activation: 'relu', layerNorm: true, seed: 1 });
    const engine = new ClippingEngine(model);
    const set = lmExamples(['abc de', 'f', 'ghij'], tok, 4);
    const optimizer = makeOptimizer({ optimizer: 'adam', learningRate: 0.01 } as TrainConfig);
    const dp = { clipNorm: 1, noiseMultiplier: 1, expectedBatchSize: 2, noise: seededGaussian(new Rng(1)) };
    trainStep({ engine, set, optimizer, maxRowsPerChunk: 4, dp }, [0, 1, 2], 1);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) trainStep({ engine, set, optimizer, maxRowsPerChunk: 4, dp }, [0, 2], i);
    trainStep({ engine, set, optimizer, maxRowsPerChunk: 100 }, [0, 1], 5);
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
    optimizer.dispose();
  });
}
