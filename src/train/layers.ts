/**
 * Per-layer formulas of the per-example clipping engine, registered by tfjs layer class (the
 * Opacus "grad sampler" registry, without materializing per-example gradients where a cheaper
 * exact formula exists). Each op runs the layer's forward pass functionally from the layer's own
 * weights (so training updates the ordinary LayersModel), adds the zero tap to the trainable
 * layer's pre-activation, records what its formulas need, and, given G = dL/d(pre-activation)
 * for L = sum of per-example losses, returns per-example squared gradient norms and the clipped
 * sum sum_i c_i grad_i ("book-keeping": one matmul or scatter per layer).
 *
 * Formulas: reference/dpsgd.md section 8 (Goodfellow 2015 for 2-D Dense; Li et al. 2022 ghost
 * norm <A A^T, G G^T> for sequence Dense; Bu et al. 2023 book-keeping; the unique-(example,id)
 * embedding norm of Opacus / TF Privacy; LayerNorm per-example gamma/beta gradients).
 */
import { tf } from '../core/backend.js';
import type { Grouping } from './batch.js';
import { linear, lookup, matMulTA, rows, tappedLinear } from './kernels.js';

type LayerVariable = tf.LayerVariable;

/** Tensors an op keeps from the forward pass for its formulas (tf.keep'd; the engine disposes them). */
export interface Saved {
  [name: string]: tf.Tensor | Int32Array | undefined;
  /** Embedding ids already on the host (the batch input), so they need not be downloaded. */
  hostIds?: Int32Array;
}

/**
 * The engine's tap on a trainable op's pre-activation z: it records dL/dz when the engine's
 * backward pass reaches it. An op either passes z through `apply` (an identity with a recording
 * gradient) or fuses the tap into its own custom gradient, calling `record` there and taking
 * `origin` as an input.
 */
export interface Tap {
  apply(z: tf.Tensor): tf.Tensor;
  /** Takes dL/dz (the op tf.keep's it: tf.grads disposes what it creates). */
  readonly record: (dz: tf.Tensor) => void;
  /** The scalar the engine differentiates, on its first tap: an input that puts the op on the backward path. */
  origin?: tf.Scalar;
}

export interface ForwardOptions {
  /** The engine's tap on the op's pre-activation (set in the engine's per-example pass). */
  tap?: Tap;
  /** Where to record tensors for the per-example formulas (kept past tf.grads). */
  save?: Saved;
  /** The final softmax is fused into the loss (log-softmax of the logits). */
  skipActivation?: boolean;
  /** Seed of this step's dropout mask. */
  seed?: number;
  /** Row-major ids of the input, when the op's input is the batch input (embedding lookups). */
  hostIds?: Int32Array;
  /** The loss is differentiated with respect to this op's input (a trainable op comes before it). */
  wantInputGrad: boolean;
  /** The loss is differentiated with respect to the weights (the non-private path; taps need none). */
  wantWeightGrads: boolean;
}

export interface PerExample {
  /**
   * Squared L2 norm of each example's gradient with respect to this layer's parameters [B], on
   * the device or, when the formula ran on the host, as an array.
   */
  normsSq: tf.Tensor1D | Float32Array;
  /** sum_i c_i grad_i for each parameter (aligned with `op.params`); c on the device and on the host. */
  clippedSum(c: tf.Tensor1D, cHost: Float32Array): tf.Tensor[];
  dispose(): void;
}

export interface LayerOp {
  readonly layer: tf.layers.Layer;
  readonly name: string;
  readonly className: string;
  /** Trainable parameters (empty for parameter-free or frozen layers: no tap). */
  readonly params: LayerVariable[];
  /** True when the layer's output (or its activation) is a softmax. */
  readonly softmaxOutput: boolean;
  forward(x: tf.Tensor, options: ForwardOptions): tf.Tensor;
  /** Per-example norms and clipped sums from the recorded tensors and G (only for ops with params). */
  perExample?(saved: Saved, G: tf.Tensor, grouping: Grouping, options: FormulaOptions): PerExample;
}

export interface FormulaOptions {
  /**
   * Largest per-example gradient block [B, d, p] a Dense layer may instantiate (elements). Beyond
   * it, sequence Dense layers use the ghost norm (Gram matrices, O(B T^2 (d+p)) memory) when it
   * is cheaper, then book-keeping.
   */
  maxInstantiateElements: number;
}

export const defaultFormulaOptions: FormulaOptions = { maxInstantiateElements: 1 << 24 };

// Activation objects of tfjs layers are private fields; reading the layer's own object keeps the
// functional forward identical to the layer's (every built-in activation works).
interface ActivationFn {
  apply(x: tf.Tensor): tf.Tensor;
}
function activationOf(layer: tf.layers.Layer): { fn: ActivationFn | undefined; name: string } {
  const name = String((layer.getConfig() as { activation?: unknown }).activation ?? 'linear');
  const fn = (layer as unknown as { activation?: ActivationFn }).activation;
  return { fn, name };
}

function trainableParams(layer: tf.layers.Layer): LayerVariable[] {
  return layer.trainable ? layer.trainableWeights : [];
}

/** Positions per row: product of the dims between the row axis and the feature axis. */
function positionsPerRow(shape: number[]): number {
  let m = 1;
  for (let i = 1; i < shape.length - 1; i++) m *= shape[i]!;
  return m;
}

function sumOfSquares(values: Float32Array, start: number, length: number): number {
  let sum = 0;
  for (let j = start; j < start + length; j++) sum += values[j]! * values[j]!;
  return sum;
}

/** [rows, features] view of a tensor (no reshape kernel when it is already 2-D). */
function asRows(t: tf.Tensor): tf.Tensor2D {
  return (t.rank === 2 ? t : t.reshape([-1, lastDim(t)])) as tf.Tensor2D;
}

function lastDim(t: tf.Tensor): number {
  return t.shape[t.shape.length - 1]!;
}

function dense(layer: tf.layers.Layer): LayerOp {
  const config = layer.getConfig() as { useBias?: boolean };
  const useBias = config.useBias !== false;
  const weights = layer.weights; // [kernel, bias?] in tfjs Dense order
  const kernel = weights[0]!;
  const bias = useBias ? weights[1] : undefined;
  const act = activationOf(layer);
  const params = trainableParams(layer);
  return {
    layer,
    name: layer.name,
    className: 'Dense',
    params,
    softmaxOutput: act.name === 'softmax',
    forward(x, { tap, save, skipActivation, wantInputGrad, wantWeightGrads }) {
      const outShape = [...x.shape.slice(0, -1), kernel.shape[1]!];
      const x2 = asRows(x);
      const W = kernel.read() as tf.Tensor2D;
      let z: tf.Tensor;
      if (tap) {
        // One custom gradient for the product, the bias and the tap (the tap pass takes no weight
        // gradients): fewer ops per step, which on wasm is most of a small model's DP overhead.
        z = tappedLinear(x2, W, bias?.read(), wantInputGrad, tap.record, tap.origin);
      } else {
        z = linear(x2, W, wantInputGrad, wantWeightGrads && params.length > 0);
        if (bias) z = tf.add(z, bias.read());
      }
      if (x.rank !== 2) z = z.reshape(outShape);
      // Kept, not cloned (a copy costs a pass over A); x may be the batch input, which the engine
      // leaves to its owner when it disposes the saved tensors.
      if (save) save.A = tf.keep(x);
      if (skipActivation || !act.fn || act.name === 'linear') return z;
      return act.fn.apply(z);
    },
    perExample(saved, G, grouping, options) {
      const A = saved.A as tf.Tensor;
      const d = lastDim(A);
      const p = lastDim(G);
      const m = positionsPerRow(A.shape as number[]);
      const A2 = asRows(A);
      const G2 = asRows(G);
      const B = grouping.numExamples;
      if (grouping.singleton && m === 1) {
        // ||a_i g_i^T||_F^2 = ||a_i||^2 ||g_i||^2 (Goodfellow 2015); bias: ||g_i||^2. One row per
        // example: the norms, the c-scaled rows of G and the bias sum are O(B (d + p)) arithmetic,
        // which costs less on the host than the small kernels it would take on wasm (measured:
        // the default mlp's DP step ~0.3 ms faster, of ~3 ms); only A^T (c G) runs on the device.
        const a = A2.dataSync() as Float32Array;
        const g = G2.dataSync() as Float32Array;
        const normsSq = new Float32Array(B);
        for (let i = 0; i < B; i++) {
          const aSq = sumOfSquares(a, i * d, d);
          normsSq[i] = (bias ? aSq + 1 : aSq) * sumOfSquares(g, i * p, p);
        }
        return {
          normsSq,
          clippedSum(_c, cHost) {
            const gc = new Float32Array(B * p);
            const biasSum = new Float64Array(p);
            for (let i = 0, row = 0; i < B; i++, row += p) {
              const ci = cHost[i]!;
              for (let j = 0; j < p; j++) {
                const v = g[row + j]! * ci;
                gc[row + j] = v;
                biasSum[j]! += v;
              }
            }
            const out: tf.Tensor[] = [matMulTA(A2, tf.tensor2d(gc, [B, p]))];
            if (bias) out.push(tf.tensor1d(Float32Array.from(biasSum)));
            return out;
          },
          dispose: () => {},
        };
      }
      // Examples with several positions: grad_i = A_i^T G_i = sum over its positions of a_t g_t^T.
      const gb = bias ? tf.keep(grouping.segmentSum(G2, m)) : undefined; // per-example bias gradient: sum over positions, THEN square
      if (B * d * p <= options.maxInstantiateElements) {
        // Instantiate every A_i^T G_i [d, p] with one op per bucket of similar-length examples: a
        // depthwise convolution whose channels are the bucket's examples (input A laid out
        // [1, T, d, examples], filter G laid out [T, 1, examples, p]) computes
        // out[x, k, j] = sum_t A_k[t, x] G_k[t, j]. On wasm this runs on XNNPACK at about the cost
        // of the plain weight-gradient product, whereas batched matMuls and per-example loops are
        // 5-10x slower. Their c-weighted sum is the clipped sum (no second product over positions:
        // Bu et al.'s "MixOpt"). Layouts come straight from row gathers (no zero-padded copy of A:
        // padding rows of A repeat the example's own row and meet zero rows of G).
        const Gz = tf.concat([G2, tf.zeros([1, p])], 0) as tf.Tensor2D;
        const parts = grouping.buckets(m).map((bucket) => {
          const { size, T } = bucket;
          const Ab = rows(A2, bucket.rowIndex).reshape([size, T, d]);
          const x = tf.transpose(Ab, [1, 2, 0]).reshape([1, T, d, size]) as tf.Tensor4D;
          const f = rows(Gz, bucket.timeMajorIndex).reshape([T, 1, size, p]) as tf.Tensor4D;
          const grads = tf.keep(tf.depthwiseConv2d(x, f, 1, 'valid').reshape([d, size, p]) as tf.Tensor3D);
          return { bucket, grads };
        });
        // Squared norms: reduce the innermost axis first (wasm reduces other axes by transposing
        // the whole block), then the small [d, size] rest; one scatter for all buckets.
        // (Measured: transposing each block to [size, d * p] for a 2-D clipped-sum product is slower.)
        const bucketNorms = tf.concat(parts.map(({ grads }) => grads.square().sum(2).sum(0)));
        const order = tf.concat(parts.map(({ bucket }) => bucket.examples)) as tf.Tensor2D;
        let normsSq = tf.scatterND(order, bucketNorms, [B]) as tf.Tensor1D;
        if (gb) normsSq = normsSq.add(gb.square().sum(1));
        normsSq = tf.keep(normsSq);
        return {
          normsSq,
          clippedSum(c) {
            const terms = parts.map(({ bucket, grads }) => {
              const cb = tf.gatherND(c, bucket.examples).reshape([1, bucket.size, 1]);
              return tf.mul(grads, cb).sum(1);
            });
            const out: tf.Tensor[] = [terms.length === 1 ? terms[0]! : tf.addN(terms)];
            if (gb) out.push(tf.matMul(c.reshape([1, B]) as tf.Tensor2D, gb).reshape([p]));
            return out;
          },
          dispose: () => tf.dispose([normsSq, ...parts.map((x) => x.grads), ...(gb ? [gb] : [])]),
        };
      }
      const Ap = grouping.pad(A2, m);
      const Gp = grouping.pad(G2, m);
      // Ghost norm: <A_i A_i^T, G_i G_i^T>_F (Li et al. 2022), then book-keeping A^T diag(c) G.
      let normsSq: tf.Tensor1D = tf.mul(tf.matMul(Ap, Ap, false, true), tf.matMul(Gp, Gp, false, true)).sum([1, 2]);
      if (gb) normsSq = normsSq.add(gb.square().sum(1));
      normsSq = tf.keep(normsSq);
      return {
        normsSq,
        clippedSum(c) {
          const Gc = tf.mul(G2, grouping.spread(c, m).expandDims(1)) as tf.Tensor2D;
          const out: tf.Tensor[] = [matMulTA(A2, Gc)];
          if (gb) out.push(tf.matMul(c.reshape([1, B]) as tf.Tensor2D, gb).reshape([p]));
          return out;
        },
        dispose: () => tf.dispose([normsSq, ...(gb ? [gb] : [])]),
      };
    },
  };
}

function embedding(layer: tf.layers.Layer): LayerOp {
  const table = layer.weights[0]!;
  const params = trainableParams(layer);
  return {
    layer,
    name: layer.name,
    className: 'Embedding',
    params,
    softmaxOutput: false,
    forward(x, { tap, save, hostIds, wantWeightGrads }) {
      const e = table.shape[1]!;
      const ids = (x.dtype === 'int32' ? x : x.toInt()).reshape([-1]) as tf.Tensor1D;
      let h: tf.Tensor = lookup(table.read() as tf.Tensor2D, ids, wantWeightGrads && params.length > 0).reshape([...x.shape, e]);
      if (tap) h = tap.apply(h);
      if (save) {
        save.ids = tf.keep(ids);
        if (hostIds) save.hostIds = hostIds;
      }
      return h;
    },
    perExample(saved, G, grouping) {
      const [V, e] = table.shape as [number, number];
      const ids = saved.hostIds ?? ((saved.ids as tf.Tensor).dataSync() as Int32Array);
      const P = ids.length;
      const m = P / grouping.numRows;
      const B = grouping.numExamples;
      // Unique (example, id) pairs: the example's gradient row for an id is the sum of its
      // positions' G rows; ||grad_i||^2 = sum over its unique ids of ||that sum||^2 (O(P e)).
      const useTable = B * V <= 1 << 24;
      const slot = useTable ? new Int32Array(B * V).fill(-1) : undefined;
      const map = useTable ? undefined : new Map<number, number>();
      const uOf = new Int32Array(P);
      const uId: number[] = [];
      const uEx: number[] = [];
      const segs = grouping.segments;
      for (let pos = 0; pos < P; pos++) {
        const ex = segs[Math.floor(pos / m)]!;
        const id = ids[pos]!;
        const key = ex * V + id;
        let u = slot ? slot[key]! : (map!.get(key) ?? -1);
        if (u < 0) {
          u = uId.length;
          uId.push(id);
          uEx.push(ex);
          if (slot) slot[key] = u;
          else map!.set(key, u);
        }
        uOf[pos] = u;
      }
      const U = uId.length;
      const S = tf.keep(tf.scatterND(tf.tensor2d(uOf, [P, 1], 'int32'), G.reshape([P, e]), [U, e]) as tf.Tensor2D);
      const uExT = tf.keep(tf.tensor2d(Int32Array.from(uEx), [U, 1], 'int32'));
      const uIdT = tf.keep(tf.tensor2d(Int32Array.from(uId), [U, 1], 'int32'));
      const normsSq = tf.keep(tf.scatterND(uExT, S.square().sum(1), [B]) as tf.Tensor1D);
      return {
        normsSq,
        clippedSum(c) {
          const cu = tf.gatherND(c, uExT) as tf.Tensor1D;
          return [tf.scatterND(uIdT, tf.mul(S, cu.expandDims(1)), [V, e])];
        },
        dispose: () => tf.dispose([S, uExT, uIdT, normsSq]),
      };
    },
  };
}

function layerNormalization(layer: tf.layers.Layer): LayerOp {
  const config = layer.getConfig() as { axis?: number | number[]; epsilon?: number; center?: boolean; scale?: boolean };
  const epsilon = config.epsilon ?? 1e-3;
  const scale = config.scale !== false;
  const center = config.center !== false;
  const weights = layer.weights; // [gamma?, beta?]
  const gamma = scale ? weights[0] : undefined;
  const beta = center ? weights[scale ? 1 : 0] : undefined;
  const params = trainableParams(layer);
  return {
    layer,
    name: layer.name,
    className: 'LayerNormalization',
    params,
    softmaxOutput: false,
    forward(x, { tap, save }) {
      const { mean, variance } = tf.moments(x, -1, true);
      const xhat = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon)));
      let y: tf.Tensor = xhat;
      if (gamma) y = tf.mul(y, gamma.read());
      if (beta) y = tf.add(y, beta.read());
      if (tap) y = tap.apply(y);
      if (save) save.xhat = tf.keep(xhat);
      return y;
    },
    perExample(saved, G, grouping) {
      const xhat = saved.xhat as tf.Tensor;
      const d = lastDim(xhat);
      const m = positionsPerRow(xhat.shape as number[]);
      const G2 = asRows(G);
      // Per-example gradients are only [B, d]: materialize them.
      const grads: tf.Tensor2D[] = [];
      if (gamma) grads.push(tf.keep(grouping.segmentSum(tf.mul(asRows(xhat), G2) as tf.Tensor2D, m)));
      if (beta) grads.push(tf.keep(grouping.segmentSum(G2, m)));
      const normsSq = tf.keep(tf.addN(grads.map((g) => g.square().sum(1))) as tf.Tensor1D);
      const B = grouping.numExamples;
      return {
        normsSq,
        clippedSum(c) {
          const c2 = c.reshape([1, B]) as tf.Tensor2D;
          return grads.map((g) => tf.matMul(c2, g).reshape([d]));
        },
        dispose: () => tf.dispose([normsSq, ...grads]),
      };
    },
  };
}

function parameterFree(layer: tf.layers.Layer, className: string, fn: (x: tf.Tensor, o: ForwardOptions) => tf.Tensor, softmaxOutput = false): LayerOp {
  return { layer, name: layer.name, className, params: [], softmaxOutput, forward: fn };
}

type OpFactory = (layer: tf.layers.Layer) => LayerOp;

/** The registry: tfjs class name -> op. Adding a layer type means adding its formulas here. */
export const layerOps: Record<string, OpFactory> = {
  Dense: dense,
  Embedding: embedding,
  LayerNormalization: layerNormalization,
  InputLayer: (layer) => parameterFree(layer, 'InputLayer', (x) => x),
  Flatten: (layer) => parameterFree(layer, 'Flatten', (x) => x.reshape([x.shape[0]!, -1])),
  Reshape: (layer) => {
    const target = (layer.getConfig() as { targetShape: number[] }).targetShape;
    return parameterFree(layer, 'Reshape', (x) => x.reshape([x.shape[0]!, ...target]));
  },
  Activation: (layer) => {
    const act = activationOf(layer);
    return parameterFree(layer, 'Activation', (x, { skipActivation }) => (skipActivation || !act.fn ? x : act.fn.apply(x)), act.name === 'softmax');
  },
  Dropout: (layer) => {
    const rate = (layer.getConfig() as { rate: number }).rate;
    // Dropout masks are drawn independently per row: no cross-example interaction.
    return parameterFree(layer, 'Dropout', (x, { seed }) => (rate > 0 ? tf.dropout(x, rate, undefined, seed) : x));
  },
};

/** Layers that mix examples: per-example clipping is meaningless for them. */
export const crossExampleLayers = new Set(['BatchNormalization']);
