/**
 * The tabular classifier: dense hidden layers (optionally layer-normalized) -> dense softmax over
 * the labels, from standard tf.layers. Its input is the feature vector of features.ts.
 */
import { tf } from '../core/backend.js';
import { addDenseStack } from './dense-stack.js';
import type { HiddenActivation } from './charlm.js';

export interface MlpConfig {
  inputDim: number;
  numLabels: number;
  hiddenUnits: number[];
  activation: HiddenActivation;
  layerNorm: boolean;
  seed: number;
}

export const defaultMlpConfig: Omit<MlpConfig, 'inputDim' | 'numLabels' | 'seed'> = {
  hiddenUnits: [64, 64],
  activation: 'relu',
  layerNorm: false,
};

export function buildMlp(config: MlpConfig): tf.Sequential {
  const { inputDim, numLabels, hiddenUnits, activation, layerNorm, seed } = config;
  if (inputDim < 1) throw new RangeError('mlp: no input features');
  if (numLabels < 2) throw new RangeError(`mlp: a classifier needs at least 2 labels, got ${numLabels}`);
  const model = tf.sequential({ name: 'mlp' });
  addDenseStack(model, { hiddenUnits, activation, layerNorm, seed, outputUnits: numLabels, outputName: 'label', inputShape: [inputDim] });
  return model;
}
