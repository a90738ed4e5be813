/** `memaudit train` as a user runs it: the --json contract, a loadable model directory, one-line errors, nothing partial. */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, tf } from '../../src/core/backend.js';
import { loadModelDir } from '../../src/models/model-dir.js';
import { serializeModel } from '../../src/models/model-dir.js';
import { runCli, tempDir } from '../helpers/cli.js';

let dir: string;
beforeAll(async () => {
  await initBackend('wasm');
  dir = tempDir();
  const notes = Array.from({ length: 30 }, (_, i) => JSON.stringify({ note: `pt ${i} bp ${100 + i}` })).join('\n');
  writeFileSync(join(dir, 'notes.jsonl'), notes + '\n');
  const csv = ['age,site,outcome', ...Array.from({ length: 30 }, (_, i) => `${20 + i},${i % 2 ? 'a' : 'b'},${i % 3 ? 'yes' : 'no'}`)].join('\n');
  writeFileSync(join(dir, 'rows.csv'), csv + '\n');
});

const small = ['--context-length', '4', '--embedding-dim', '4', '--hidden', '16', '--epochs', '1', '--batch-size', '10'];

describe('memaudit train', () => {
  it('trains a DP charlm and prints the --json contract', async () => {
    const out = join(dir, 'lm');
    const r = await runCli(['train', '--data', join(dir, 'notes.jsonl'), '--text-field', 'note', '--dp', '--noise-multiplier', '1', '--delta', '1e-3', '--out', out, '--json', '--seed', '3', ...small]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    for (const key of ['modelDir', 'steps', 'epsilon', 'delta', 'noiseMultiplier', 'samplingRate', 'finalLoss']) expect(json).toHaveProperty(key);
    expect(json).toMatchObject({ modelDir: out, steps: 3, delta: 1e-3, noiseMultiplier: 1, noiseSource: 'seeded' });
    expect(json.samplingRate).toBeCloseTo(1 / 3, 12);
    expect(json.epsilon).toBeGreaterThan(0);
    const loaded = await loadModelDir(out);
    expect(loaded.meta).toMatchObject({ task: 'lm', architecture: 'charlm', contextLength: 4, textField: 'note', seed: '3', trainingData: { file: 'notes.jsonl', records: 30 } });
    expect(loaded.privacy.dp && loaded.privacy.steps).toBe(3);
  });

  it('trains a non-private mlp from CSV (epsilon and noiseMultiplier null)', async () => {
    const out = join(dir, 'mlp');
    const r = await runCli(['train', '--data', join(dir, 'rows.csv'), '--model', 'mlp', '--label-column', 'outcome', '--out', out, '--json', '--hidden', '8', '--epochs', '1', '--batch-size', '10']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ epsilon: null, noiseMultiplier: null, steps: 3, task: 'classifier' });
    const loaded = await loadModelDir(out);
    expect(loaded.meta.labels).toEqual(['no', 'yes']);
    expect(loaded.privacy).toEqual({ version: 1, dp: false });
  });

  it('exits 2 with one line for bad flags and inputs, writing nothing', async () => {
    const out = join(dir, 'never');
    const cases: [string[], RegExp][] = [
      [['--data', join(dir, 'notes.jsonl'), '--clip-norm', 'abc'], /--clip-norm must be a number > 0 <= 10000, got "abc"/],
      [['--data', join(dir, 'missing.jsonl')], /missing\.jsonl/],
      [['--data', join(dir, 'rows.csv'), '--model', 'mlp'], /--model mlp needs --label-column/],
      [['--data', join(dir, 'notes.jsonl'), '--text-field', 'note', '--dp'], /--dp needs --noise-multiplier S or --target-epsilon E/],
      [['--data', join(dir, 'notes.jsonl'), '--text-field', 'note', '--noise-multiplier', '1'], /need --dp/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['train', ...args, '--out', out, ...small]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a user model with a BatchNormalization layer before training, naming it', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 4 }),
        tf.layers.batchNormalization({ name: 'bn_1' }),
        tf.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    });
    const { modelJson, weights } = await serializeModel(model);
    const userDir = tempDir();
    writeFileSync(join(userDir, 'model.json'), modelJson);
    writeFileSync(join(userDir, 'weights.bin'), weights);
    const out = join(dir, 'bn');
    const r = await runCli(['train', '--data', join(dir, 'rows.csv'), '--model', join(userDir, 'model.json'), '--label-column', 'outcome', '--dp', '--noise-multiplier', '1', '--delta', '1e-3', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/layer "bn_1" \(BatchNormalization\) computes statistics across the examples/);
    expect(existsSync(out)).toBe(false);
  });
});
