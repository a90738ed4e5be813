/**
 * Trains tiny models on the wasm backend, gradients included, so that a kernel or gradient the
 * wasm backend lacks (DESIGN.md: UnsortedSegmentSum, tf.gather's default gradient) shows up in CI
 * rather than in a user's training run.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/core/backend.js';

beforeAll(async () => {
  const info = await initBackend('wasm');
  expect(info.backend).toBe('wasm');
});

describe('training on the wasm backend', () => {
  it('fits a small dense classifier (Layers API, Adam) and the loss falls', async () => {
    const xs = tf.tensor2d(Array.from({ length: 64 }, (_, i) => [Math.sin(i), Math.cos(i * 0.7), (i % 5) / 5]));
    const ys = tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, i) => (Math.sin(i) > 0 ? 1 : 0)), 'int32'), 2);
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
        tf.layers.layerNormalization(),
        tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.05), loss: 'categoricalCrossentropy' });
    const history = await model.fit(xs, ys, { epochs: 30, batchSize: 16, verbose: 0, shuffle: false });
    const losses = history.history.loss as number[];
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.6);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('differentiates an embedding lookup whose gradient is a scatter (no UnsortedSegmentSum)', () => {
    const vocab = 7;
    const dim = 3;
    const table = tf.variable(tf.randomNormal([vocab, dim], 0, 1, 'float32', 3));
    const ids = tf.tensor1d([1, 4, 1, 6], 'int32');
    // gather with a custom gradient: the table's gradient scatters rows back by id (summing repeats).
    const lookup = tf.customGrad((tableArg: tf.Tensor, save: (t: tf.Tensor[]) => void) => {
      save([]);
      return {
        value: tf.gather(tableArg as tf.Tensor2D, ids),
        gradFunc: (dy: tf.Tensor) => tf.scatterND(ids.expandDims(1), dy, [vocab, dim]),
      };
    });
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(lookup(table) as tf.Tensor)) as tf.Scalar, [table]);
    const g = grads[table.name]!.arraySync() as number[][];
    const t = table.arraySync();
    // d/dT sum((T[ids])^2) = 2 * T[row] * (times the row is looked up)
    for (let row = 0; row < vocab; row++) {
      const times = [1, 4, 1, 6].filter((id) => id === row).length;
      for (let j = 0; j < dim; j++) expect(g[row]![j]!).toBeCloseTo(2 * times * t[row]![j]!, 5);
    }
  });

  it('computes gradients with respect to intermediate "tap" tensors with tf.grads', () => {
    // The per-example clipping engine relies on this: grads w.r.t. a zero tap added to a
    // pre-activation equal the gradient of the summed loss w.r.t. that pre-activation.
    const x = tf.tensor2d([[1, 2], [3, -1]]);
    const w = tf.tensor2d([[0.5, -1], [2, 0.25]]);
    const tap = tf.zeros([2, 2]);
    const [gTap] = tf.grads((t: tf.Tensor) => tf.sum(tf.square(tf.add(tf.matMul(x, w), t))))([tap]);
    const z = tf.matMul(x, w);
    expect(gTap!.arraySync()).toEqual(tf.mul(z, 2).arraySync());
  });
});
