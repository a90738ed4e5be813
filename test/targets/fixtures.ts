/** Small model directories for target tests (untrained but deterministic: seeded initializers). */
import { join } from 'node:path';
import { tf } from '../../src/core/backend.js';
import { buildCharLm } from '../../src/models/charlm.js';
import { buildMlp } from '../../src/models/mlp.js';
import { saveModelDir, type ModelMeta } from '../../src/models/model-dir.js';
import { CharTokenizer } from '../../src/models/tokenizer.js';

export const sampleTexts = [
  'Patient John Smith, MRN 448-21-9931, seen on 2021-03-04 for chest pain.',
  'Follow-up visit: blood pressure 128/82, continue lisinopril 10 mg daily.',
  'Call 555-0142 to reschedule. Zip 02139.',
];

function meta(partial: Partial<ModelMeta>): ModelMeta {
  return {
    version: 1,
    task: 'lm',
    architecture: 'charlm',
    trainingData: { file: 'notes.jsonl', sha256: '0'.repeat(64), records: sampleTexts.length },
    toolVersion: '0.1.0',
    backend: tf.getBackend(),
    seed: '1',
    createdAt: new Date(0).toISOString(),
    ...partial,
  } as ModelMeta;
}

/**
 * A char LM directory. `sharpen` scales the output kernel so the distribution is peaked
 * (an untrained model is nearly uniform, which would make greedy decoding ties-driven).
 */
export async function makeCharLmDir(root: string, options: { contextLength?: number; sharpen?: number; seed?: number; endBias?: number; name?: string; trainingDataSha256?: string } = {}): Promise<string> {
  const dir = join(root, options.name ?? 'charlm');
  const tokenizer = CharTokenizer.fromTexts(sampleTexts);
  const contextLength = options.contextLength ?? 8;
  const model = buildCharLm({
    vocabSize: tokenizer.size,
    contextLength,
    embeddingDim: 8,
    hiddenUnits: [32],
    activation: 'tanh',
    layerNorm: false,
    seed: options.seed ?? 7,
  });
  const sharpen = options.sharpen ?? 8;
  const last = model.layers[model.layers.length - 1]!;
  const [kernel, bias] = last.getWeights();
  // endBias raises the logit of PAD (id 0), the end of a text, so generation stops early.
  const endBias = tf.tensor1d(Array.from({ length: tokenizer.size }, (_, i) => (i === 0 ? options.endBias ?? 0 : 0)));
  last.setWeights([tf.mul(kernel!, sharpen), tf.add(bias!, endBias)]);
  const trainingData = { file: 'notes.jsonl', sha256: options.trainingDataSha256 ?? '0'.repeat(64), records: sampleTexts.length };
  await saveModelDir(dir, model, meta({ task: 'lm', architecture: 'charlm', tokenizer: tokenizer.toJSON(), contextLength, trainingData }));
  model.dispose();
  return dir;
}

export async function makeMlpDir(root: string): Promise<string> {
  const dir = join(root, 'mlp');
  const model = buildMlp({ inputDim: 4, numLabels: 2, hiddenUnits: [8], activation: 'relu', layerNorm: false, seed: 3 });
  await saveModelDir(
    dir,
    model,
    meta({
      task: 'classifier',
      architecture: 'mlp',
      features: [
        { name: 'age', kind: 'numeric', mean: 50, std: 10 },
        { name: 'sex', kind: 'categorical', categories: ['F', 'M', 'X'] },
      ],
      labels: ['no', 'yes'],
    }),
  );
  model.dispose();
  return dir;
}
