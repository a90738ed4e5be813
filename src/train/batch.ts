/**
 * A training batch as the clipping engine sees it. The privacy unit is the EXAMPLE (one training
 * record); an example contributes one or more ROWS to the model input (the char LM: one row per
 * (context -> next char) window of the record's text; the mlp: one row per record). An example's
 * loss is the weighted sum of its rows' losses (weights 1/rows: the mean over its windows), and
 * clipping bounds the gradient of that per-example loss.
 */
import { tf } from '../core/backend.js';
import { rows } from './kernels.js';

export interface Batch {
  /** Model input rows [R, ...inputShape]: int32 ids for the char LM, float32 features for the mlp. */
  x: tf.Tensor;
  /** Target class of each row (int32 [R]). */
  targets: tf.Tensor1D;
  /** Weight of each row's loss in its example's loss (float32 [R]). */
  rowWeights: tf.Tensor1D;
  /** Example index in [0, numExamples) of each row; rows of one example are contiguous. */
  segments: Int32Array;
  numExamples: number;
  /** Row-major copy of `x` when it holds ids (embedding inputs are read on the host, not downloaded). */
  hostIds?: Int32Array;
}

export function disposeBatch(batch: Batch): void {
  tf.dispose([batch.x, batch.targets, batch.rowWeights]);
}

/**
 * Examples of similar length padded together to T positions each. Two position indices feed the
 * per-example products (layers.ts), both for gathering rows of a [P, .] tensor:
 * - `rowIndex` [size * T], example-major (example k's positions at k*T...), padded with the
 *   example's OWN first position (always finite when the example is; the other operand is zero there);
 * - `timeMajorIndex` [T * size], position-major (position t of example k at t*size + k), padded
 *   with P, the index of a zero row the caller appends.
 */
export interface Bucket {
  /** Example indices (int32 [size, 1]), for gathering and scattering per-example values. */
  examples: tf.Tensor2D;
  /** The same on the host. */
  hostExamples: Int32Array;
  size: number;
  T: number;
  rowIndex: tf.Tensor1D;
  timeMajorIndex: tf.Tensor1D;
}

/**
 * How a layer's positions map to examples. A layer sees `m` positions per row (e.g. the
 * embedding sees contextLength ids per window), so an example with n rows has n*m positions.
 * Per-example formulas either need the position -> example map (scatters) or the positions
 * padded into [B, T, .] blocks (Gram matrices, per-example matmuls).
 */
export class Grouping {
  readonly numExamples: number;
  readonly numRows: number;
  /** Example of each row (host copy). */
  readonly segments: Int32Array;
  /** Rows of each example. */
  readonly counts: Int32Array;
  /** First row of each example (rows are contiguous). */
  readonly starts: Int32Array;
  /** One row per example, in order: the 2-D formulas apply directly. */
  readonly singleton: boolean;
  readonly maxRows: number;
  private readonly cache = new Map<number, { posSeg: tf.Tensor1D; padIndex: tf.Tensor1D | null; T: number }>();
  private readonly bucketCache = new Map<number, Bucket[]>();

  constructor(segments: Int32Array, numExamples: number) {
    this.numExamples = numExamples;
    this.numRows = segments.length;
    this.segments = segments;
    this.counts = new Int32Array(numExamples);
    this.starts = new Int32Array(numExamples);
    let prev = -1;
    for (let r = 0; r < segments.length; r++) {
      const s = segments[r]!;
      if (s < prev || s >= numExamples) throw new Error('Batch.segments must be sorted example indices in [0, numExamples)');
      if (s !== prev) this.starts[s] = r;
      prev = s;
      this.counts[s]!++;
    }
    this.maxRows = this.counts.reduce((a, b) => Math.max(a, b), 0);
    this.singleton = this.numRows === numExamples && this.maxRows === 1;
  }

  /**
   * For positions = rows x m: the example of each position, and the gather index that pads them
   * into [B, T] blocks (T = max positions of an example; index numRows*m is the zero row), or
   * null when every example has the same number of positions (a plain reshape).
   */
  layout(m: number): { posSeg: tf.Tensor1D; padIndex: tf.Tensor1D | null; T: number } {
    const hit = this.cache.get(m);
    if (hit) return hit;
    const P = this.numRows * m;
    const T = this.maxRows * m;
    const posSeg = new Int32Array(P);
    for (let i = 0; i < this.numExamples; i++) {
      posSeg.fill(i, this.starts[i]! * m, (this.starts[i]! + this.counts[i]!) * m);
    }
    const uniform = this.counts.every((c) => c === this.maxRows);
    let padIndex: tf.Tensor1D | null = null;
    if (!uniform) {
      const idx = new Int32Array(this.numExamples * T).fill(P);
      for (let i = 0; i < this.numExamples; i++) {
        const first = this.starts[i]! * m;
        const n = this.counts[i]! * m;
        for (let t = 0; t < n; t++) idx[i * T + t] = first + t;
      }
      padIndex = tf.keep(tf.tensor1d(idx, 'int32'));
    }
    const entry = { posSeg: tf.keep(tf.tensor1d(posSeg, 'int32')), padIndex, T };
    this.cache.set(m, entry);
    return entry;
  }

  /**
   * Examples grouped into buckets of similar length (longest first), each padded to its own
   * longest example, so padding wastes at most ~5% of a bucket (padding costs compute in the
   * per-example products; a bucket costs a few ops). Examples without positions are
   * in no bucket (their gradient is zero).
   */
  buckets(m: number): Bucket[] {
    const hit = this.bucketCache.get(m);
    if (hit) return hit;
    const order = [...Array(this.numExamples).keys()].filter((i) => this.counts[i]! > 0).sort((a, b) => this.counts[b]! - this.counts[a]!);
    const groups: number[][] = [];
    let current: number[] = [];
    let sum = 0;
    for (const i of order) {
      const n = this.counts[i]!;
      const T = current.length > 0 ? this.counts[current[0]!]! : n;
      if (current.length > 0 && (current.length + 1) * T > 1.05 * (sum + n)) {
        groups.push(current);
        current = [];
        sum = 0;
      }
      current.push(i);
      sum += n;
    }
    if (current.length > 0) groups.push(current);
    const P = this.numRows * m;
    const out = groups.map((examples) => {
      const T = this.counts[examples[0]!]! * m;
      const size = examples.length;
      const own = new Int32Array(size * T);
      const timeMajor = new Int32Array(T * size).fill(P);
      examples.forEach((i, k) => {
        const first = this.starts[i]! * m;
        const n = this.counts[i]! * m;
        own.fill(first, k * T, (k + 1) * T);
        for (let t = 0; t < n; t++) {
          own[k * T + t] = first + t;
          timeMajor[t * size + k] = first + t;
        }
      });
      const hostExamples = Int32Array.from(examples);
      return {
        examples: tf.keep(tf.tensor2d(hostExamples, [size, 1], 'int32')),
        hostExamples,
        size,
        T,
        rowIndex: tf.keep(tf.tensor1d(own, 'int32')),
        timeMajorIndex: tf.keep(tf.tensor1d(timeMajor, 'int32')),
      };
    });
    this.bucketCache.set(m, out);
    return out;
  }

  /** The positions of example i (int32 [counts[i] * m]), for gathering its rows. */
  positionsOf(i: number, m: number): tf.Tensor1D {
    const start = this.starts[i]! * m;
    const n = this.counts[i]! * m;
    const idx = new Int32Array(n);
    for (let t = 0; t < n; t++) idx[t] = start + t;
    return tf.tensor1d(idx, 'int32');
  }

  /** Positions [P, d] padded into per-example blocks [B, T, d] (zeros after an example's last position). */
  pad(values: tf.Tensor2D, m: number): tf.Tensor3D {
    const { padIndex, T } = this.layout(m);
    const d = values.shape[1];
    if (!padIndex) return values.reshape([this.numExamples, T, d]);
    const withZero = tf.concat([values, tf.zeros([1, d])], 0);
    return rows(withZero as tf.Tensor2D, padIndex).reshape([this.numExamples, T, d]);
  }

  /** Sums position rows [P, d] per example into [B, d] (a scatter; no UnsortedSegmentSum on wasm). */
  segmentSum(values: tf.Tensor2D, m: number): tf.Tensor2D {
    if (this.singleton && m === 1) return values;
    const { posSeg } = this.layout(m);
    return tf.scatterND(posSeg.expandDims(1), values, [this.numExamples, values.shape[1]]) as tf.Tensor2D;
  }

  /** Per-example values [B] spread to positions [P]. */
  spread(perExample: tf.Tensor1D, m: number): tf.Tensor1D {
    if (this.singleton && m === 1) return perExample;
    return tf.gatherND(perExample, this.layout(m).posSeg.expandDims(1)) as tf.Tensor1D;
  }

  dispose(): void {
    for (const e of this.cache.values()) tf.dispose([e.posSeg, ...(e.padIndex ? [e.padIndex] : [])]);
    this.cache.clear();
    for (const list of this.bucketCache.values()) for (const b of list) tf.dispose([b.examples, b.rowIndex, b.timeMajorIndex]);
    this.bucketCache.clear();
  }
}
