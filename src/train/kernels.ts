/**
 * Matrix products and lookups written so that the wasm backend takes its fast paths.
 *
 * Measured on tfjs-backend-wasm 4.22 (2-core machine): a 2-D matMul without transposes runs on
 * XNNPACK (~80 ms for 6291x192 @ 192x128), while the same product with transposeA or transposeB,
 * or any batched (rank-3) matMul, takes a generic loop 5-9x slower; tf.gather is ~25x slower
 * than tf.gatherND. tfjs's own MatMul gradient uses the transposed forms, so the forward and
 * backward passes here use explicit transposes (cheap) and 2-D products, with custom gradients
 * that compute only the gradients asked for (the tap pass needs no weight gradients).
 */
import { tf } from '../core/backend.js';

type GradFn = Parameters<typeof tf.customGrad>[0];

/** a^T b for 2-D a, b, on the fast path. */
export function matMulTA(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(tf.transpose(a), b);
}

/** a b^T for 2-D a, b, on the fast path. */
export function matMulTB(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(a, tf.transpose(b));
}

/**
 * x W for 2-D x, with gradients for x (when `wantX`) and W (when `wantW`) only. Tensors that
 * need no gradient are closed over rather than passed as inputs, so the backward pass never
 * computes them.
 */
export function linear(x: tf.Tensor2D, W: tf.Tensor2D, wantX: boolean, wantW: boolean): tf.Tensor2D {
  if (!wantX && !wantW) return tf.matMul(x, W);
  const inputs: tf.Tensor[] = [];
  if (wantX) inputs.push(x);
  if (wantW) inputs.push(W);
  const f = tf.customGrad(((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xs = wantX ? (args[0] as tf.Tensor2D) : x;
    const ws = wantW ? (args[wantX ? 1 : 0] as tf.Tensor2D) : W;
    // Saved explicitly: tensors made inside a tf.grads function are gone by the backward pass.
    save([xs, ws]);
    return {
      value: tf.matMul(xs, ws),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
        const out: tf.Tensor[] = [];
        if (wantX) out.push(matMulTB(dy as tf.Tensor2D, sw));
        if (wantW) out.push(matMulTA(sx, dy as tf.Tensor2D));
        return out;
      },
    };
  }) as unknown as GradFn);
  return f(...inputs) as tf.Tensor2D;
}

/**
 * x W + b whose backward pass hands dL/d(x W + b) to `record` (the engine's tap, fused) and
 * returns a gradient for x only (when `wantX`); W and b are closed over. `origin`, the scalar
 * the engine differentiates, is taken as an unused input (zero gradient) so that the backward
 * pass runs through this op even when x needs no gradient.
 */
export function tappedLinear(x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor | undefined, wantX: boolean, record: (dz: tf.Tensor) => void, origin?: tf.Scalar): tf.Tensor2D {
  const inputs: tf.Tensor[] = [];
  if (wantX) inputs.push(x);
  if (origin) inputs.push(origin);
  if (inputs.length === 0) throw new Error('tappedLinear: neither x nor origin is differentiated, so the tap would never record');
  const f = tf.customGrad(((...args: unknown[]) => {
    const xs = wantX ? (args[0] as tf.Tensor2D) : x;
    const z = tf.matMul(xs, W);
    return {
      value: b ? tf.add(z, b) : z,
      gradFunc: (dy: tf.Tensor) => {
        record(tf.keep(tf.reshape(dy, dy.shape)));
        const out: tf.Tensor[] = [];
        if (wantX) out.push(matMulTB(dy as tf.Tensor2D, W));
        if (origin) out.push(tf.zerosLike(origin));
        return out;
      },
    };
  }) as unknown as GradFn);
  return f(...inputs) as tf.Tensor2D;
}

/** Rows of `table` at `ids` (gatherND), with a scatter gradient for the table when `wantTable`. */
export function lookup(table: tf.Tensor2D, ids: tf.Tensor1D, wantTable: boolean): tf.Tensor2D {
  const index = ids.expandDims(1) as tf.Tensor2D;
  if (!wantTable) return tf.gatherND(table, index) as tf.Tensor2D;
  const shape = table.shape;
  const f = tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
    save([index]);
    return {
      value: tf.gatherND(t, index),
      // tf.gather's default gradient needs UnsortedSegmentSum (absent on wasm); a scatter sums repeats.
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.scatterND(saved[0]!, dy, shape),
    };
  }) as unknown as GradFn);
  return f(table) as tf.Tensor2D;
}

/** Rows of a 2-D tensor at int32 indices, on the fast path. */
export function rows(values: tf.Tensor2D, index: tf.Tensor1D): tf.Tensor2D {
  return tf.gatherND(values, index.expandDims(1)) as tf.Tensor2D;
}
