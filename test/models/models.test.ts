import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, tf } from '../../src/core/backend.js';
import { InputError, UsageError } from '../../src/core/errors.js';
import { CharTokenizer, contextWindows, lastContext, PAD_ID, UNK_ID } from '../../src/models/tokenizer.js';
import { buildCharLm, buildMlp, featurize, fitFeatures, loadModelDir, modelFiles, saveModelDir, type ModelMeta } from '../../src/models/index.js';
import { tempDir } from '../helpers/cli.js';
import { PrivacyLedger } from '../../src/accounting/index.js';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('CharTokenizer', () => {
  it('reserves PAD/BOS and UNK, round-trips text and maps each token to its offsets', () => {
    const tok = CharTokenizer.fromTexts(['ab c', 'ca😀']);
    expect(tok.vocab.slice(0, 2)).toEqual(['<pad>', '<unk>']);
    expect(tok.size).toBe(2 + 5);
    const text = 'a😀b';
    const enc = tok.encodeWithOffsets(text);
    expect(enc.ids).toHaveLength(3);
    expect(enc.ids.every((id) => id > UNK_ID)).toBe(true);
    expect(enc.starts.map((s, i) => text.slice(s, enc.ends[i]))).toEqual(['a', '😀', 'b']);
    expect(tok.decode(enc.ids)).toBe(text);
    expect(tok.encode('z')).toEqual([UNK_ID]);
    expect(CharTokenizer.fromJSON(tok.toJSON()).encode(text)).toEqual(enc.ids);
  });

  it('gives every character, including the first, a left-padded context', () => {
    const { contexts, targets } = contextWindows([5, 6, 7], 2);
    expect([...targets]).toEqual([5, 6, 7]);
    expect([...contexts]).toEqual([PAD_ID, PAD_ID, PAD_ID, 5, 5, 6]);
    expect([...lastContext([5, 6, 7], 4)]).toEqual([PAD_ID, 5, 6, 7]);
  });
});

describe('features', () => {
  it('standardizes numeric columns and one-hot encodes categorical ones', () => {
    const rows = [
      { age: '30', sex: 'F', y: 'a' },
      { age: 50, sex: 'M', y: 'b' },
    ];
    const specs = fitFeatures(rows, ['y']);
    expect(specs).toEqual([
      { name: 'age', kind: 'numeric', mean: 40, std: 10 },
      { name: 'sex', kind: 'categorical', categories: ['F', 'M'] },
    ]);
    expect([...featurize([{ age: 60, sex: 'M' }, { age: 40, sex: 'X' }], specs)]).toEqual([2, 0, 1, 0, 0, 0]);
    expect(() => featurize([{ age: 'old', sex: 'F' }], specs, 'rows.csv row')).toThrow(/rows.csv row 1: feature "age" must be a number/);
  });
});

function lmMeta(tok: CharTokenizer, contextLength: number): ModelMeta {
  return {
    version: 1,
    task: 'lm',
    architecture: 'charlm',
    tokenizer: tok.toJSON(),
    contextLength,
    textField: 'text',
    trainingData: { file: 'notes.jsonl', sha256: 'a'.repeat(64), records: 2 },
    toolVersion: '0.1.0',
    backend: 'wasm',
    seed: '1',
    createdAt: new Date().toISOString(),
  };
}

describe('model directory', () => {
  it('saves and loads a charlm with identical predictions, metadata, ledger and file digests', async () => {
    const tok = CharTokenizer.fromTexts(['hello world']);
    const model = buildCharLm({ vocabSize: tok.size, contextLength: 4, embeddingDim: 3, hiddenUnits: [8], activation: 'relu', layerNorm: true, seed: 7 });
    const dir = join(tempDir(), 'model');
    const ledger = new PrivacyLedger({ datasetSize: 100, delta: 1e-5, clipNorm: 1, noiseSource: 'seeded' });
    ledger.addSteps(0.1, 1.1, 10);
    const privacy = ledger.toJSON();
    await saveModelDir(dir, model, lmMeta(tok, 4), privacy);
    expect(readdirSync(dir).sort()).toEqual(['memaudit.json', 'model.json', 'privacy.json', 'weights.bin']);
    expect(readdirSync(join(dir, '..')).filter((n) => n.startsWith('.memaudit-tmp.'))).toEqual([]);

    const loaded = await loadModelDir(dir);
    expect(loaded.meta.tokenizer?.vocab).toEqual(tok.vocab);
    expect(loaded.privacy).toEqual(privacy);
    const x = tf.tensor2d([[0, 0, 2, 3], [4, 5, 6, 7]], undefined, 'int32');
    const a = (model.predict(x) as tf.Tensor).arraySync() as number[][];
    const b = (loaded.model.predict(x) as tf.Tensor).arraySync() as number[][];
    expect(b).toEqual(a);

    const files = modelFiles(dir);
    expect(files.map((f) => f.name)).toEqual(['memaudit.json', 'model.json', 'privacy.json', 'weights.bin']);
    expect(files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);

    // Saving again replaces the directory whole.
    await saveModelDir(dir, model, lmMeta(tok, 4));
    expect((await loadModelDir(dir)).privacy).toEqual({ version: 1, dp: false });
    tf.dispose(x);
  });

  it('saves an mlp classifier', async () => {
    const model = buildMlp({ inputDim: 3, numLabels: 2, hiddenUnits: [4], activation: 'tanh', layerNorm: false, seed: 1 });
    const dir = join(tempDir(), 'mlp');
    const meta: ModelMeta = {
      ...lmMeta(CharTokenizer.fromTexts(['x']), 1),
      task: 'classifier',
      architecture: 'mlp',
      tokenizer: undefined,
      contextLength: undefined,
      features: [{ name: 'a', kind: 'numeric', mean: 0, std: 1 }, { name: 'b', kind: 'categorical', categories: ['u', 'v'] }],
      labels: ['no', 'yes'],
      labelColumn: 'y',
    };
    await saveModelDir(dir, model, meta);
    const loaded = await loadModelDir(dir);
    expect(loaded.meta.labels).toEqual(['no', 'yes']);
    expect(loaded.model.outputs[0]!.shape).toEqual([null, 2]);
  });

  it('reports a missing or invalid memaudit.json in one line naming the file', async () => {
    const dir = tempDir();
    await expect(loadModelDir(dir)).rejects.toThrow(/not a memaudit model directory \(memaudit.json not found\)/);
    await expect(loadModelDir(join(dir, 'nope'))).rejects.toThrow(InputError);
    const tok = CharTokenizer.fromTexts(['ab']);
    const model = buildCharLm({ vocabSize: tok.size, contextLength: 2, embeddingDim: 2, hiddenUnits: [4], activation: 'relu', layerNorm: false, seed: 1 });
    const good = join(dir, 'm');
    await saveModelDir(good, model, lmMeta(tok, 2));
    const metaPath = join(good, 'memaudit.json');
    const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
    writeFileSync(metaPath, JSON.stringify({ ...meta, task: 'poem' }));
    await expect(loadModelDir(good)).rejects.toThrow(/memaudit.json: \/task: must be one of "lm", "classifier"/);
    writeFileSync(metaPath, '{"version": 1,');
    await expect(loadModelDir(good)).rejects.toThrow(/memaudit.json line 1 column \d+: not valid JSON/);
    writeFileSync(metaPath, JSON.stringify({ ...meta, contextLength: 3 }));
    await expect(loadModelDir(good)).rejects.toThrow(/contextLength 3 does not match/);
    writeFileSync(metaPath, JSON.stringify(meta));
    writeFileSync(join(good, 'privacy.json'), JSON.stringify({ version: 1, dp: true }));
    await expect(loadModelDir(good)).rejects.toThrow(/privacy.json: \/: must have required property/);
  });

  it('refuses to overwrite a folder that is not a model directory', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'precious.txt'), 'keep me');
    const tok = CharTokenizer.fromTexts(['ab']);
    const model = buildCharLm({ vocabSize: tok.size, contextLength: 2, embeddingDim: 2, hiddenUnits: [4], activation: 'relu', layerNorm: false, seed: 1 });
    await expect(saveModelDir(dir, model, lmMeta(tok, 2))).rejects.toThrow(UsageError);
    expect(existsSync(join(dir, 'precious.txt'))).toBe(true);
    expect(existsSync(join(dir, 'model.json'))).toBe(false);
  });
});
