/**
 * The naive per-example loop: one tf.variableGrads per example, flat norm, clip, accumulate.
 * It is the reference the fast engine is tested against, and the baseline of the benchmark
 * (what a DP-SGD without per-layer formulas costs in tfjs). Not used for training.
 */
import { tf } from '../core/backend.js';
import { Grouping, type Batch } from './batch.js';
import { clipFactors, type ClippedGradients, type ClippingEngine } from './engine.js';

export function naiveClippedGradients(engine: ClippingEngine, batch: Batch, clipNorm: number): ClippedGradients {
  const B = batch.numExamples;
  const grouping = new Grouping(batch.segments, B);
  const vars = engine.params.map((p) => p.variable);
  const sums = vars.map((v) => tf.zerosLike(v) as tf.Tensor);
  const norms = new Float32Array(B);
  let lossSum = 0;
  const rowShape = batch.x.shape.slice(1);
  for (let i = 0; i < B; i++) {
    const start = grouping.starts[i]!;
    const count = grouping.counts[i]!;
    if (count === 0) continue;
    const next = tf.tidy(() => {
      const one: Batch = {
        x: tf.slice(batch.x, [start, ...rowShape.map(() => 0)], [count, ...rowShape]),
        targets: tf.slice(batch.targets, [start], [count]),
        rowWeights: tf.slice(batch.rowWeights, [start], [count]),
        segments: new Int32Array(count),
        numExamples: 1,
        hostIds: batch.hostIds?.subarray(start * (batch.hostIds.length / batch.segments.length), (start + count) * (batch.hostIds.length / batch.segments.length)),
      };
      const { value, grads } = tf.variableGrads(() => engine.lossSum(engine.forward(one), one), vars);
      lossSum += value.dataSync()[0]!;
      const g = vars.map((v) => grads[v.name]!);
      const norm = Math.sqrt(tf.addN(g.map((t) => t.square().sum())).dataSync()[0]!);
      norms[i] = norm;
      const c = clipFactors(Float32Array.of(norm), clipNorm)[0]!;
      return sums.map((s, k) => tf.add(s, tf.mul(g[k]!, c)));
    });
    tf.dispose(sums);
    sums.splice(0, sums.length, ...next);
  }
  grouping.dispose();
  return { sums, norms, lossSum };
}
