/**
 * The per-example clipping engine (docs/ARCHITECTURE.md "Where a change goes"; Goodfellow 2015, Li et al. 2022 ghost clipping). It runs its own functional
 * forward pass over the model's layers (with the layers' own weights), taps every trainable
 * layer's pre-activation, and takes ONE tf.grads of L = sum_i loss_i: that gives every layer's
 * output gradient G while tfjs skips the weight gradients (not on a path from the taps). A tap is
 * an identity with a custom gradient that records dL/d(pre-activation) (Dense fuses it into its
 * product's own custom gradient, kernels.ts tappedLinear); the differentiated input
 * is a single scalar that the first tap takes as a second (unused) input, so every tap lies on
 * its path (zero tap TENSORS added to each pre-activation would cost a fill, an add and a
 * reduction over every activation). The per-layer formulas (layers.ts) turn A and G into
 * per-example squared norms; c_i = min(1, C / ||g_i||) (0 when not finite); and the clipped sum
 * is one matmul or scatter per layer. Per-example gradients are never materialized for the
 * whole model.
 *
 * The non-private path runs the same forward code (no taps) with tf.variableGrads, so a
 * benchmark compares like with like.
 *
 * Models are validated before training: a layer without formulas, or one that mixes examples
 * (BatchNormalization), is refused with a message naming it.
 */
import { tf } from '../core/backend.js';
import { UsageError } from '../core/errors.js';
import { Grouping, type Batch } from './batch.js';
import { clipFactors } from './clip.js';
import { crossExampleLayers, defaultFormulaOptions, layerOps, type FormulaOptions, type LayerOp, type PerExample, type Saved, type Tap } from './layers.js';

export { clipFactors };

export interface TrainableParam {
  /** The layer weight (LayerVariable) ... */
  param: tf.LayerVariable;
  /** ... and its tf.Variable, the key optimizers update. */
  variable: tf.Variable;
}

export interface ClippedGradients {
  /** sum_i c_i grad_i, aligned with `engine.params`. */
  sums: tf.Tensor[];
  /** Each example's unclipped gradient norm ||grad_i|| (for tests and diagnostics). */
  norms: Float32Array;
  /** sum_i loss_i over the batch. */
  lossSum: number;
}

/** What one tapped pass records: the scalar it differentiates, each tapped layer's G and saved tensors. */
interface TapPass {
  origin: tf.Scalar;
  grads: (tf.Tensor | undefined)[];
  saved: Saved[];
}

/**
 * Identity on z whose gradient records dy (tf.keep'd: tf.grads disposes what it creates). With
 * `origin`, the tap also takes the scalar tf.grads differentiates, so the backward pass runs
 * through it (origin's own gradient is a dummy zero: nothing reads it).
 */
function recordingTap(record: (dy: tf.Tensor) => void, origin?: tf.Scalar): (z: tf.Tensor) => tf.Tensor {
  const f = tf.customGrad(((...args: tf.Tensor[]) => {
    const z = args[0]!;
    return {
      value: tf.reshape(z, z.shape), // a new tensor sharing z's data (no copy)
      gradFunc: (dy: tf.Tensor) => {
        record(tf.keep(tf.reshape(dy, dy.shape)));
        const dz = tf.reshape(dy, dy.shape);
        return origin ? [dz, tf.zerosLike(origin)] : dz;
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...x: tf.Tensor[]) => tf.Tensor;
  return origin ? (z) => f(z, origin) : (z) => f(z);
}

export interface MeanGradients {
  /** Gradient of (1/B) sum_i loss_i, aligned with `engine.params`. */
  grads: tf.Tensor[];
  lossSum: number;
}

/** Validates the model for per-example clipping and builds its ops. Throws a UsageError naming the first offending layer. */
export function planModel(model: tf.LayersModel, source = 'model'): LayerOp[] {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new UsageError(`${source}: only single-input, single-output models can be trained (it has ${model.inputs.length} inputs, ${model.outputs.length} outputs)`);
  }
  const ops: LayerOp[] = [];
  let previous: tf.layers.Layer | undefined;
  const isSequential = model instanceof tf.Sequential;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (crossExampleLayers.has(cls)) {
      throw new UsageError(`${source}: layer "${layer.name}" (${cls}) computes statistics across the examples of a batch, which breaks per-example clipping (DP-SGD); use LayerNormalization instead`);
    }
    const factory = layerOps[cls];
    if (!factory) {
      throw new UsageError(`${source}: layer "${layer.name}" (${cls}) is not supported by the per-example clipping engine (supported: ${Object.keys(layerOps).join(', ')})`);
    }
    if (!isSequential && cls !== 'InputLayer') {
      const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
      const expected = previous ? [previous] : [];
      const ok = inbound.length === expected.length && inbound.every((l, i) => l === expected[i] || (l.getClassName() === 'InputLayer' && !previous));
      if (!ok && !(inbound.length === 1 && inbound[0]!.getClassName() === 'InputLayer' && previous?.getClassName() === 'InputLayer')) {
        throw new UsageError(`${source}: layer "${layer.name}" is not part of a simple stack of layers (branches and merges are not supported)`);
      }
    }
    if (cls === 'LayerNormalization') {
      const axis = (layer.getConfig() as { axis?: number | number[] }).axis;
      const axes = Array.isArray(axis) ? axis : [axis ?? -1];
      const rank = (layer.outputShape as (number | null)[]).length; // tfjs stores the axis as rank-1 once built; output rank = input rank
      const last = axes.length === 1 && (axes[0] === -1 || (rank !== undefined && axes[0] === rank - 1));
      if (!last) throw new UsageError(`${source}: layer "${layer.name}" (LayerNormalization) must normalize over the last axis only`);
    }
    const op = factory(layer);
    if (op.params.length > 0) {
      const shape = layer.outputShape as (number | null)[];
      if (!Array.isArray(shape) || shape.slice(1).some((d) => typeof d !== 'number')) {
        throw new UsageError(`${source}: layer "${layer.name}" has a dynamic output shape; per-example clipping needs static shapes`);
      }
    }
    ops.push(op);
    previous = layer;
  }
  const last = ops[ops.length - 1];
  if (!last || !last.softmaxOutput) {
    throw new UsageError(`${source}: the last layer must output a softmax over classes (found "${last?.name}" ${last?.className}); the engine trains with cross-entropy on its logits`);
  }
  const outShape = model.outputs[0]!.shape;
  if (outShape.length !== 2) throw new UsageError(`${source}: the model output must be [batch, classes], got [${outShape.join(', ')}]`);
  if (!ops.some((o) => o.params.length > 0)) throw new UsageError(`${source}: the model has no trainable weights`);
  return ops;
}

export class ClippingEngine {
  readonly ops: LayerOp[];
  readonly params: TrainableParam[];
  readonly numClasses: number;
  private readonly tapped: number[];
  /** The op that reads the batch input (ids are on the host for it). */
  private readonly firstOp: number;

  readonly options: FormulaOptions;

  constructor(readonly model: tf.LayersModel, source = 'model', options: Partial<FormulaOptions> = {}) {
    this.options = { ...defaultFormulaOptions, ...options };
    this.ops = planModel(model, source);
    this.tapped = this.ops.flatMap((op, i) => (op.params.length > 0 ? [i] : []));
    this.params = this.tapped.flatMap((i) => this.ops[i]!.params.map((param) => ({ param, variable: param.read() as tf.Variable })));
    this.numClasses = model.outputs[0]!.shape[1] as number;
    this.firstOp = this.ops.findIndex((op) => op.className !== 'InputLayer');
  }

  /** Logits [R, classes] of the rows (the final softmax is fused into the loss). */
  forward(batch: Batch, pass?: TapPass, seed?: number): tf.Tensor2D {
    let x = batch.x;
    let t = 0;
    this.ops.forEach((op, i) => {
      const tapIndex = op.params.length > 0 ? t++ : -1;
      const wantInputGrad = t > (tapIndex >= 0 ? 1 : 0); // a trainable op came before this one
      let tap: Tap | undefined;
      if (pass && tapIndex >= 0) {
        const record = (dy: tf.Tensor) => (pass.grads[tapIndex] = dy);
        const origin = tapIndex === 0 ? pass.origin : undefined;
        tap = { apply: recordingTap(record, origin), record, origin };
      }
      x = op.forward(x, {
        wantInputGrad,
        wantWeightGrads: !pass,
        tap,
        save: pass && tapIndex >= 0 ? pass.saved[tapIndex] : undefined,
        skipActivation: i === this.ops.length - 1,
        seed: seed === undefined ? undefined : seed + i,
        hostIds: i === this.firstOp ? batch.hostIds : undefined,
      });
    });
    return x as tf.Tensor2D;
  }

  /** sum_r w_r * (-log p(target_r)) = sum over examples of each example's loss. */
  lossSum(logits: tf.Tensor2D, batch: Batch): tf.Scalar {
    const logp = tf.logSoftmax(logits);
    const picked = tf.sum(tf.mul(logp, tf.oneHot(batch.targets, this.numClasses)), 1);
    return tf.neg(tf.sum(tf.mul(picked, batch.rowWeights))) as tf.Scalar;
  }

  /** Non-private gradients of the batch's mean example loss, through the same forward code. */
  meanGradients(batch: Batch, seed?: number): MeanGradients {
    if (batch.numExamples === 0) return { grads: this.params.map((p) => tf.zerosLike(p.variable)), lossSum: 0 };
    let lossSum = 0;
    const grads = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const sum = this.lossSum(this.forward(batch, undefined, seed), batch);
        return tf.div(sum, batch.numExamples) as tf.Scalar;
      }, this.params.map((p) => p.variable));
      lossSum = (value.dataSync()[0] ?? NaN) * batch.numExamples;
      return this.params.map((p) => grads[p.variable.name]!);
    });
    return { grads, lossSum };
  }

  /**
   * The clipped sum sum_i min(1, C/||g_i||) g_i over the batch's examples, times `scale` (the
   * loop passes 1/qN; no noise: the loop adds it), with the unclipped per-example norms.
   */
  clippedGradients(batch: Batch, clipNorm: number, seed?: number, scale = 1): ClippedGradients {
    const B = batch.numExamples;
    if (B === 0) return { sums: this.params.map((p) => tf.zerosLike(p.variable)), norms: new Float32Array(0), lossSum: 0 };
    const grouping = new Grouping(batch.segments, B);
    const pass: TapPass = { origin: tf.scalar(0), grads: this.tapped.map(() => undefined), saved: this.tapped.map(() => ({})) };
    const states: PerExample[] = [];
    let lossSum = 0;
    let norms = new Float32Array(B);
    try {
      const sums = tf.tidy(() => {
        const { value } = tf.valueAndGrads((o: tf.Tensor) => this.lossSum(this.forward(batch, { ...pass, origin: o as tf.Scalar }, seed), batch))([pass.origin]);
        lossSum = value.dataSync()[0] ?? NaN;
        this.tapped.forEach((opIndex, k) => {
          const G = pass.grads[k];
          if (!G) throw new Error(`clipping engine: no output gradient recorded for layer "${this.ops[opIndex]!.name}"`);
          states.push(this.ops[opIndex]!.perExample!(pass.saved[k]!, G, grouping, this.options));
        });
        const onDevice = states.flatMap((s) => (s.normsSq instanceof Float32Array ? [] : [s.normsSq]));
        norms = onDevice.length > 0 ? Float32Array.from(tf.addN(onDevice).dataSync()) : new Float32Array(B);
        for (const s of states) {
          if (s.normsSq instanceof Float32Array) for (let i = 0; i < B; i++) norms[i]! += s.normsSq[i]!;
        }
        for (let i = 0; i < B; i++) norms[i] = Math.sqrt(norms[i]!);
        const cHost = clipFactors(norms, clipNorm, scale);
        const c = tf.tensor1d(cHost);
        return states.flatMap((s) => s.clippedSum(c, cHost));
      });
      return { sums, norms, lossSum };
    } finally {
      for (const s of states) s.dispose();
      // The batch input may be among the saved tensors (a first Dense layer's A): its owner disposes it.
      for (const rec of pass.saved) tf.dispose(Object.values(rec).filter((v): v is tf.Tensor => v instanceof tf.Tensor && v !== batch.x));
      tf.dispose([pass.origin, ...pass.grads.filter((g): g is tf.Tensor => g !== undefined)]);
      grouping.dispose();
    }
  }
}
