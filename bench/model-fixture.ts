/** An untrained (seeded) charlm model directory over a corpus's characters, for benchmarks that time scoring, not learning. */
import { join } from 'node:path';
import { currentBackend } from '../src/core/backend.js';
import { toolVersion } from '../src/core/version.js';
import { buildCharLm, defaultCharLmConfig } from '../src/models/charlm.js';
import { saveModelDir } from '../src/models/model-dir.js';
import { CharTokenizer } from '../src/models/tokenizer.js';

export async function untrainedCharLmDir(dir: string, corpus: string[], seed: number): Promise<string> {
  const tokenizer = CharTokenizer.fromTexts(corpus);
  const model = buildCharLm({ ...defaultCharLmConfig, vocabSize: tokenizer.size, seed });
  const out = join(dir, 'model');
  await saveModelDir(out, model, {
    version: 1,
    task: 'lm',
    architecture: 'charlm',
    tokenizer: tokenizer.toJSON(),
    contextLength: defaultCharLmConfig.contextLength,
    trainingData: { file: 'bench.txt', sha256: '0'.repeat(64), records: corpus.length },
    toolVersion,
    backend: currentBackend().backend,
    seed: String(seed),
    createdAt: new Date().toISOString(),
  });
  model.dispose();
  return out;
}
