/**
 * Log-probabilities from a tfjs model, in batches.
 *
 * A model ending in a Dense layer with softmax (memaudit's char LM and MLP, most Keras models) is
 * evaluated up to that layer's logits and passed through logSoftmax, so tiny probabilities keep
 * their precision instead of underflowing in float32 softmax followed by a log. Other models'
 * outputs are used as they are: probabilities when they look like them, else logits.
 */
import { tf } from '../../core/backend.js';

export type LogProbFn = (input: tf.Tensor) => tf.Tensor2D;

interface DenseConfig {
  activation?: string;
  useBias?: boolean;
}

/** The model's final dense softmax layer, when it has one (then logits are recoverable). */
function denseSoftmaxTail(model: tf.LayersModel): { body: tf.LayersModel; kernel: tf.Tensor2D; bias?: tf.Tensor1D } | undefined {
  const last = model.layers[model.layers.length - 1];
  if (!last || last.getClassName() !== 'Dense' || model.outputs.length !== 1) return undefined;
  const config = last.getConfig() as DenseConfig;
  if (config.activation !== 'softmax') return undefined;
  const weights = last.getWeights();
  const kernel = weights[0] as tf.Tensor2D | undefined;
  if (!kernel || kernel.rank !== 2) return undefined;
  const bias = config.useBias === false ? undefined : (weights[1] as tf.Tensor1D | undefined);
  const input = last.input;
  if (Array.isArray(input)) return undefined;
  const body = tf.model({ inputs: model.inputs, outputs: input as tf.SymbolicTensor });
  return { body, kernel, bias };
}

/** How a model's output turns into log-probabilities. */
export type OutputKind = 'logits-from-dense' | 'probabilities' | 'logits';

/** A function from a batch of inputs to [batch, classes] log-probabilities (call inside tf.tidy). */
export function logProbFunction(model: tf.LayersModel | tf.GraphModel, outputKind?: 'probabilities' | 'logits'): { fn: LogProbFn; kind: OutputKind } {
  if (model instanceof tf.LayersModel) {
    const tail = denseSoftmaxTail(model);
    if (tail) {
      return {
        kind: 'logits-from-dense',
        fn: (input) => {
          const h = tail.body.predict(input) as tf.Tensor2D;
          let logits = tf.matMul(h, tail.kernel);
          if (tail.bias) logits = tf.add(logits, tail.bias);
          return tf.logSoftmax(logits) as tf.Tensor2D;
        },
      };
    }
  }
  const predict = (input: tf.Tensor): tf.Tensor2D => {
    const out = model.predict(input);
    const t = Array.isArray(out) ? out[0]! : out instanceof tf.Tensor ? out : Object.values(out)[0]!;
    return t.reshape([t.shape[0]!, -1]) as tf.Tensor2D;
  };
  const kind = outputKind ?? 'logits';
  return {
    kind,
    fn:
      kind === 'probabilities'
        ? (input) => tf.log(tf.clipByValue(predict(input), 1e-45, 1)) as tf.Tensor2D
        : (input) => tf.logSoftmax(predict(input)) as tf.Tensor2D,
  };
}

/** Whether a batch of outputs looks like probabilities (non-negative rows summing to 1). */
export function looksLikeProbabilities(rows: Float32Array, width: number): boolean {
  for (let r = 0; r * width < rows.length; r++) {
    let sum = 0;
    for (let j = 0; j < width; j++) {
      const v = rows[r * width + j]!;
      if (v < 0) return false;
      sum += v;
    }
    if (Math.abs(sum - 1) > 1e-3) return false;
  }
  return true;
}
