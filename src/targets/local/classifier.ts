/** The local classifier target: rows featurized as at training time, then the model's class probabilities. */
import { tf } from '../../core/backend.js';
import { featurize, featureWidth, type FeatureSpec } from '../../models/features.js';
import { BaseTarget, noCapabilities } from '../base.js';
import type { ClassProbabilities, FeatureRow, TargetCapabilities, TargetDescriptor } from '../target.js';
import type { LogProbFn } from './forward.js';

export interface LocalClassifierOptions {
  label: string;
  model: tf.LayersModel | tf.GraphModel;
  logProbs: LogProbFn;
  features: FeatureSpec[];
  labels: string[];
  describe: () => TargetDescriptor;
  batchRows?: number;
}

export class LocalClassifierTarget extends BaseTarget {
  readonly kind = 'local' as const;
  readonly task = 'classifier' as const;
  readonly label: string;
  readonly capabilities: TargetCapabilities = { ...noCapabilities, classProbabilities: true };
  private readonly options: LocalClassifierOptions;

  constructor(options: LocalClassifierOptions) {
    super();
    this.options = options;
    this.label = options.label;
  }

  async describe(): Promise<TargetDescriptor> {
    return this.options.describe();
  }

  override async classProbabilities(rows: FeatureRow[]): Promise<ClassProbabilities> {
    const { features, labels } = this.options;
    const width = featureWidth(features);
    const x = featurize(rows, features);
    const batch = this.options.batchRows ?? 8192;
    const probabilities: number[][] = [];
    for (let from = 0; from < rows.length; from += batch) {
      const n = Math.min(batch, rows.length - from);
      const p = tf.tidy(() => tf.exp(this.options.logProbs(tf.tensor2d(x.subarray(from * width, (from + n) * width), [n, width]))));
      const data = (await p.data()) as Float32Array;
      p.dispose();
      if (data.length !== n * labels.length) {
        throw new Error(`the model outputs ${data.length / n} classes, ${labels.length} labels expected`);
      }
      for (let r = 0; r < n; r++) probabilities.push(Array.from(data.subarray(r * labels.length, (r + 1) * labels.length)));
    }
    return { labels: [...labels], probabilities };
  }

  override async close(): Promise<void> {
    this.options.model.dispose();
  }
}
