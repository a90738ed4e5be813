/**
 * The fast engine's per-example norms and clipped sums must equal those of a naive per-example
 * loop (tf.variableGrads on each example alone) within 1e-4 relative, for every supported layer
 * type and both Dense strategies; unsupported and cross-example layers are refused up front.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/core/backend.js';
import { UsageError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import type { Batch } from '../../src/train/batch.js';
import { ClippingEngine, clipFactors } from '../../src/train/engine.js';
import { naiveClippedGradients } from '../../src/train/naive.js';

beforeAll(async () => {
  await initBackend('wasm');
});

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / Math.max(den, 1e-12);
}

function batchOf(rows: number[][], dtype: 'int32' | 'float32', targets: number[], segments: number[], numExamples: number): Batch {
  const counts = new Array(numExamples).fill(0);
  for (const s of segments) counts[s]++;
  const x = dtype === 'int32' ? tf.tensor2d(rows, undefined, 'int32') : tf.tensor2d(rows);
  return {
    x,
    targets: tf.tensor1d(targets, 'int32'),
    rowWeights: tf.tensor1d(segments.map((s) => 1 / counts[s])),
    segments: Int32Array.from(segments),
    numExamples,
    hostIds: dtype === 'int32' ? Int32Array.from(rows.flat()) : undefined,
  };
}

function median(v: Float32Array): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Runs both implementations with C at the median norm (half the examples clipped) and compares. */
function expectMatchesNaive(model: tf.LayersModel, batch: Batch, options: { maxInstantiateElements?: number } = {}): void {
  const engine = new ClippingEngine(model, 'test model', options);
  const probe = engine.clippedGradients(batch, 1e9);
  const C = median(probe.norms) || 1;
  tf.dispose(probe.sums);
  const fast = engine.clippedGradients(batch, C);
  const slow = naiveClippedGradients(engine, batch, C);
  expect(fast.norms.length).toBe(batch.numExamples);
  expect(relErr(fast.norms, slow.norms)).toBeLessThan(1e-4);
  expect(fast.lossSum).toBeCloseTo(slow.lossSum, 3);
  expect(fast.sums.length).toBe(engine.params.length);
  fast.sums.forEach((s, k) => {
    expect(s.shape).toEqual(engine.params[k]!.variable.shape);
    expect(relErr(s.dataSync(), slow.sums[k]!.dataSync())).toBeLessThan(1e-4);
  });
  // Some examples were really clipped, so the check covers the factors too.
  expect([...fast.norms].some((n) => n > C * 1.01)).toBe(true);
  tf.dispose([...fast.sums, ...slow.sums]);
}

const init = (seed: number) => tf.initializers.glorotUniform({ seed });

describe('per-example clipping engine', () => {
  it('matches the naive loop for an mlp (2-D Dense, LayerNormalization, biases)', () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [5], units: 8, activation: 'relu', kernelInitializer: init(1), biasInitializer: tf.initializers.randomNormal({ seed: 9 }) }),
        tf.layers.layerNormalization({ gammaInitializer: tf.initializers.randomNormal({ mean: 1, stddev: 0.3, seed: 2 }), betaInitializer: tf.initializers.randomNormal({ seed: 3 }) }),
        tf.layers.dense({ units: 6, activation: 'tanh', kernelInitializer: init(4) }),
        tf.layers.dropout({ rate: 0 }),
        tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(5) }),
      ],
    });
    const rng = new Rng(1);
    const rows = Array.from({ length: 9 }, () => Array.from({ length: 5 }, () => rng.normal() * 2));
    const batch = batchOf(rows, 'float32', rows.map((_, i) => i % 3), rows.map((_, i) => i), 9);
    expectMatchesNaive(model, batch);
  });

  it('matches the naive loop for a char-LM shape (Embedding, sequence Dense, LayerNorm on 3-D, several rows per example)', () => {
    const V = 7;
    const model = tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: V, outputDim: 3, inputLength: 4, inputShape: [4], embeddingsInitializer: tf.initializers.randomNormal({ seed: 1 }) }),
        tf.layers.dense({ units: 5, activation: 'relu', kernelInitializer: init(2), biasInitializer: tf.initializers.randomNormal({ seed: 6 }) }),
        tf.layers.layerNormalization({ betaInitializer: tf.initializers.randomNormal({ seed: 7 }) }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 6, activation: 'relu', kernelInitializer: init(3) }),
        tf.layers.dense({ units: V, activation: 'softmax', kernelInitializer: init(4) }),
      ],
    });
    const rng = new Rng(2);
    // 5 examples with 3, 1, 2, 4, 1 rows: unequal lengths exercise the padded layout; repeated ids the embedding formula.
    const segments = [0, 0, 0, 1, 2, 2, 3, 3, 3, 3, 4];
    const rows = segments.map(() => Array.from({ length: 4 }, () => rng.int(4)));
    const batch = batchOf(rows, 'int32', segments.map(() => rng.int(V)), segments, 5);
    expectMatchesNaive(model, batch);
  });

  it('matches the naive loop with the ghost-norm (Gram) strategy for sequence Dense layers', () => {
    const V = 7;
    const model = tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: V, outputDim: 10, inputLength: 2, inputShape: [2], embeddingsInitializer: tf.initializers.randomNormal({ seed: 1 }) }),
        tf.layers.dense({ units: 10, activation: 'tanh', kernelInitializer: init(2), biasInitializer: tf.initializers.randomNormal({ seed: 5 }) }),
        tf.layers.flatten(),
        tf.layers.dense({ units: V, activation: 'softmax', kernelInitializer: init(3) }),
      ],
    });
    const rng = new Rng(3);
    const segments = [0, 0, 1, 2, 2, 3];
    const rows = segments.map(() => [rng.int(V), rng.int(V)]);
    const batch = batchOf(rows, 'int32', segments.map(() => rng.int(V)), segments, 4);
    expectMatchesNaive(model, batch, { maxInstantiateElements: 0 });
  });

  it('matches the naive loop when every example has the same number of rows, and skips frozen layers', () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [4], units: 6, activation: 'relu', kernelInitializer: init(1), name: 'frozen' }),
        tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: init(2) }),
      ],
    });
    model.getLayer('frozen').trainable = false;
    const rng = new Rng(4);
    const segments = [0, 0, 1, 1, 2, 2, 3, 3];
    const rows = segments.map(() => Array.from({ length: 4 }, () => rng.normal()));
    const batch = batchOf(rows, 'float32', segments.map(() => rng.int(2)), segments, 4);
    const engine = new ClippingEngine(model);
    expect(engine.params.map((p) => p.param.originalName)).not.toContain('frozen/kernel');
    expectMatchesNaive(model, batch);
  });

  it('without clipping, the clipped sum divided by B equals the non-private mean gradient', () => {
    const model = tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: 5, outputDim: 2, inputLength: 3, inputShape: [3], embeddingsInitializer: tf.initializers.randomNormal({ seed: 1 }) }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: init(2) }),
      ],
    });
    const batch = batchOf([[0, 1, 2], [2, 2, 4], [1, 0, 3]], 'int32', [1, 4, 2], [0, 0, 1], 2);
    const engine = new ClippingEngine(model);
    const clipped = engine.clippedGradients(batch, 1e9);
    const mean = engine.meanGradients(batch);
    clipped.sums.forEach((s, k) => expect(relErr(s.div(2).dataSync(), mean.grads[k]!.dataSync())).toBeLessThan(1e-5));
    expect(mean.lossSum).toBeCloseTo(clipped.lossSum, 4);
  });

  it('zeroes examples with non-finite norms and bounds the rest by C', () => {
    expect([...clipFactors(Float32Array.of(0.5, 4, NaN, Infinity), 2)]).toEqual([1, 0.5, 0, 0]);
  });

  it('refuses cross-example and unsupported layers before training, naming them', () => {
    const bn = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 4 }),
        tf.layers.batchNormalization({ name: 'bn1' }),
        tf.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    });
    expect(() => new ClippingEngine(bn, 'user.json')).toThrow(UsageError);
    expect(() => new ClippingEngine(bn, 'user.json')).toThrow(/user.json: layer "bn1" \(BatchNormalization\) computes statistics across the examples/);
    const rnn = tf.sequential({
      layers: [tf.layers.simpleRNN({ inputShape: [4, 2], units: 3, name: 'rnn1' }), tf.layers.dense({ units: 2, activation: 'softmax' })],
    });
    expect(() => new ClippingEngine(rnn)).toThrow(/layer "rnn1" \(SimpleRNN\) is not supported/);
    const noSoftmax = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2, name: 'out' })] });
    expect(() => new ClippingEngine(noSoftmax)).toThrow(/last layer must output a softmax/);
  });
});
