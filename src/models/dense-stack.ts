/**
 * The dense part both built-in architectures share: hidden Dense layers (each optionally followed
 * by LayerNormalization and then its activation) and a softmax output layer. Initializers are
 * seeded in layer order, so a model is reproducible from its seed.
 */
import { tf } from '../core/backend.js';
import type { HiddenActivation } from './charlm.js';

export interface DenseStackOptions {
  hiddenUnits: readonly number[];
  activation: HiddenActivation;
  layerNorm: boolean;
  /** Seed of the first initializer; each Dense layer takes the next one. */
  seed: number;
  outputUnits: number;
  outputName: string;
  /** Input shape for the first layer when the stack starts the model. */
  inputShape?: number[];
}

export function addDenseStack(model: tf.Sequential, o: DenseStackOptions): void {
  let seed = o.seed;
  const first = (i: number) => (i === 0 && o.inputShape ? { inputShape: o.inputShape } : {});
  o.hiddenUnits.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        units,
        // With LayerNormalization the activation comes after the normalization.
        activation: o.layerNorm ? 'linear' : o.activation,
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }),
        name: `hidden${i + 1}`,
        ...first(i),
      }),
    );
    if (o.layerNorm) {
      model.add(tf.layers.layerNormalization({ name: `norm${i + 1}` }));
      if (o.activation !== 'linear') model.add(tf.layers.activation({ activation: o.activation, name: `act${i + 1}` }));
    }
  });
  model.add(
    tf.layers.dense({
      units: o.outputUnits,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }),
      name: o.outputName,
      ...first(o.hiddenUnits.length),
    }),
  );
}
