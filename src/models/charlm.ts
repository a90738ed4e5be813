/**
 * The character-level language model, built from standard tf.layers so the saved model is an
 * ordinary tfjs LayersModel: embedding of the `contextLength` previous characters -> flatten ->
 * dense hidden layer(s) (optionally layer-normalized) -> dense softmax over the vocabulary.
 * Its input is int ids [batch, contextLength] (see tokenizer.ts for the windows), its output the
 * next-character distribution [batch, vocabSize].
 */
import { tf } from '../core/backend.js';
import { addDenseStack } from './dense-stack.js';

export type HiddenActivation = 'relu' | 'tanh' | 'sigmoid' | 'elu' | 'selu' | 'softplus' | 'linear';
export const hiddenActivations: readonly HiddenActivation[] = ['relu', 'tanh', 'sigmoid', 'elu', 'selu', 'softplus', 'linear'];

export interface CharLmConfig {
  vocabSize: number;
  contextLength: number;
  embeddingDim: number;
  hiddenUnits: number[];
  activation: HiddenActivation;
  /** Layer normalization after each hidden dense layer (per example, so DP-compatible). */
  layerNorm: boolean;
  /** Seed of the weight initializers (deterministic models with --seed). */
  seed: number;
}

/** Small enough that ~2000 short notes train in well under a minute on wasm. */
export const defaultCharLmConfig: Omit<CharLmConfig, 'vocabSize' | 'seed'> = {
  contextLength: 12,
  embeddingDim: 16,
  hiddenUnits: [128],
  activation: 'relu',
  layerNorm: false,
};

export function buildCharLm(config: CharLmConfig): tf.Sequential {
  const { vocabSize, contextLength, embeddingDim, hiddenUnits, activation, layerNorm, seed } = config;
  if (vocabSize < 3) throw new RangeError(`charlm: vocabulary of ${vocabSize} tokens is too small`);
  const model = tf.sequential({ name: 'charlm' });
  model.add(
    tf.layers.embedding({
      inputDim: vocabSize,
      outputDim: embeddingDim,
      inputLength: contextLength,
      inputShape: [contextLength],
      embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed }),
      name: 'embedding',
    }),
  );
  model.add(tf.layers.flatten({ name: 'flatten' }));
  addDenseStack(model, { hiddenUnits, activation, layerNorm, seed: seed + 1, outputUnits: vocabSize, outputName: 'next_char' });
  return model;
}
