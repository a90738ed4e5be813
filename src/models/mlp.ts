/**
 * The tabular classifier: dense hidden layers (optionally layer-normalized) -> dense softmax over
 * the labels, from standard tf.layers. Its input is the feature vector of features.ts.
 */
import { tf } from '../core/backend.js';
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
  let s = seed;
  const model = tf.sequential({ name: 'mlp' });
  hiddenUnits.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        units,
        activation: layerNorm ? 'linear' : activation,
        kernelInitializer: tf.initializers.glorotUniform({ seed: s++ }),
        name: `hidden${i + 1}`,
        ...(i === 0 ? { inputShape: [inputDim] } : {}),
      }),
    );
    if (layerNorm) {
      model.add(tf.layers.layerNormalization({ name: `norm${i + 1}` }));
      if (activation !== 'linear') model.add(tf.layers.activation({ activation, name: `act${i + 1}` }));
    }
  });
  model.add(
    tf.layers.dense({
      units: numLabels,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: s++ }),
      name: 'label',
      ...(hiddenUnits.length === 0 ? { inputShape: [inputDim] } : {}),
    }),
  );
  return model;
}
