import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, tf } from '../../src/core/backend.js';
import { InputError, UsageError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { featurize } from '../../src/models/features.js';
import { loadModelDir, type ModelMeta } from '../../src/models/model-dir.js';
import { contextWindows, CharTokenizer } from '../../src/models/tokenizer.js';
import { distributionStats, openTarget, LocalLmTarget } from '../../src/targets/index.js';
import { openLocalTarget } from '../../src/targets/local/open.js';
import { tempDir } from '../helpers/cli.js';
import { makeCharLmDir, makeMlpDir, sampleTexts } from './fixtures.js';

let lmDir: string;
let lm: LocalLmTarget;

beforeAll(async () => {
  await initBackend('wasm');
  lmDir = await makeCharLmDir(tempDir(), { sharpen: 30 });
  lm = (await openTarget(lmDir)) as LocalLmTarget;
});

describe('local LM target', () => {
  it('scores every character, the first included, matching a naive softmax-then-log over the saved model', async () => {
    const { model, meta } = await loadModelDir(lmDir);
    const tokenizer = CharTokenizer.fromJSON(meta.tokenizer!);
    const text = sampleTexts[0]!;
    const ids = tokenizer.encode(text);
    const { contexts } = contextWindows(ids, meta.contextLength!);
    const probs = (model.predict(tf.tensor2d(Float32Array.from(contexts), [ids.length, meta.contextLength!])) as tf.Tensor).arraySync() as number[][];
    const [scored] = await lm.scoreTexts([text]);
    expect(scored!.tokens).toHaveLength(text.length);
    scored!.tokens.forEach((t, i) => {
      expect(t.start).toBe(i);
      expect(Math.abs(t.logprob - Math.log(probs[i]![ids[i]!]!))).toBeLessThan(1e-4);
    });
    model.dispose();
  });

  it('gives the same numbers whatever the batch size', async () => {
    const small = (await openLocalTarget(lmDir, { batchWindows: 7 })) as LocalLmTarget;
    const a = await lm.scoreTexts(sampleTexts, { distributionStats: true });
    const b = await small.scoreTexts(sampleTexts, { distributionStats: true });
    expect(b).toEqual(a);
    await small.close();
  });

  it('distribution statistics agree with the next-token distributions of each prefix', async () => {
    const text = 'Zip 02139, MRN 448';
    const [scored] = await lm.scoreTexts([text], { distributionStats: true });
    const dists = await lm.nextTokenDistributions([...text].map((_, i) => text.slice(0, i)));
    dists.forEach((d, i) => {
      expect(d.complete).toBe(true);
      expect(d.tokens).toHaveLength(lm.vocabSize);
      const s = distributionStats(d.logprobs);
      const tok = scored!.tokens[i]!;
      expect(Math.abs(tok.meanLogprob! - s.mean)).toBeLessThan(1e-4);
      expect(Math.abs(tok.stdLogprob! - s.std)).toBeLessThan(1e-4);
      expect(Math.abs(tok.logprob - d.logprobs[d.tokens.indexOf(text[i]!)]!)).toBeLessThan(1e-5);
    });
  });

  it('greedy decoding is the argmax chain, and beam width 1 equals greedy', async () => {
    const prompt = 'Patient ';
    const [[greedy]] = await lm.generate([{ prompt, maxTokens: 12, decoding: { kind: 'greedy' } }]);
    let text = prompt;
    let logprob = 0;
    for (let i = 0; i < 12; i++) {
      const [d] = await lm.nextTokenDistributions([text]);
      let best = 0;
      for (let v = 1; v < d!.logprobs.length; v++) if (d!.logprobs[v]! > d!.logprobs[best]!) best = v;
      if (best === 0) break; // PAD ends a text
      text += d!.tokens[best];
      logprob += d!.logprobs[best]!;
    }
    expect(greedy!.text).toBe(text.slice(prompt.length));
    expect(greedy!.logprob!).toBeCloseTo(logprob, 3);
    const [[beam1]] = await lm.generate([{ prompt, maxTokens: 12, decoding: { kind: 'beam', width: 1 } }]);
    expect(beam1!.text).toBe(greedy!.text);
    const [beams] = await lm.generate([{ prompt, maxTokens: 12, decoding: { kind: 'beam', width: 5 }, n: 5 }]);
    expect(beams).toHaveLength(5);
    expect(new Set(beams!.map((b) => b.text)).size).toBe(5);
    // Each beam reports its text's own log-probability.
    const rescored = await lm.scoreTexts(beams!.map((b) => prompt + b.text));
    beams!.forEach((b, i) => {
      const sum = rescored[i]!.tokens.slice(prompt.length).reduce((x, t) => x + t.logprob, 0);
      expect(b.logprob!).toBeCloseTo(sum, 3);
    });
  });

  it('beam search as wide as the whole space finds the exact best 2-token continuation', async () => {
    const prompt = 'MRN 4';
    const V = lm.vocabSize;
    const [first] = await lm.nextTokenDistributions([prompt]);
    const second = await lm.nextTokenDistributions(first!.tokens.map((t) => prompt + t));
    // Brute force over [end], [c, end] and [c1, c2]; the end token (PAD, id 0) costs its log-probability.
    let best = { text: '', score: first!.logprobs[0]! };
    for (let c1 = 1; c1 < V; c1++) {
      const base = first!.logprobs[c1]!;
      for (let c2 = 0; c2 < V; c2++) {
        const score = base + second[c1]!.logprobs[c2]!;
        if (score > best.score) best = { text: first!.tokens[c1]! + (c2 === 0 ? '' : second[c1]!.tokens[c2]!), score };
      }
    }
    const [[top]] = await lm.generate([{ prompt, maxTokens: 2, decoding: { kind: 'beam', width: V * V } }]);
    expect(top!.text).toBe(best.text);
  });

  it('samples from the given Rng: same seed same text, top-k respected', async () => {
    const req = [{ prompt: 'Call ', maxTokens: 20, decoding: { kind: 'sample' as const, temperature: 1.5, topK: 1 }, n: 2 }];
    const [top1] = await lm.generate(req, new Rng(1));
    const [[greedy]] = await lm.generate([{ prompt: 'Call ', maxTokens: 20, decoding: { kind: 'greedy' } }]);
    expect(top1!.map((g) => g.text)).toEqual([greedy!.text, greedy!.text]);
    const wide = [{ prompt: 'Call ', maxTokens: 20, decoding: { kind: 'sample' as const, temperature: 1 }, n: 4 }];
    expect(await lm.generate(wide, new Rng(9))).toEqual(await lm.generate(wide, new Rng(9)));
  });

  it('describes itself with the model files and their digests', async () => {
    const d = await lm.describe();
    expect(d).toMatchObject({ kind: 'local', task: 'lm', tokenizer: 'char', model: 'charlm' });
    expect(d.files!.map((f) => f.name)).toEqual(['memaudit.json', 'model.json', 'privacy.json', 'weights.bin']);
    expect(d.digest).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('local classifier target', () => {
  it('featurizes rows as at training time and returns the model probabilities', async () => {
    const dir = await makeMlpDir(tempDir());
    const t = await openTarget(dir);
    expect(t.capabilities).toMatchObject({ classProbabilities: true, scoreText: false });
    const rows = [
      { age: 61, sex: 'F' },
      { age: '35', sex: 'M' },
      { age: 50, sex: 'unseen' },
    ];
    const r = await t.classProbabilities(rows);
    const { model, meta } = await loadModelDir(dir);
    const expected = (model.predict(tf.tensor2d(featurize(rows, meta.features!), [3, 4])) as tf.Tensor).arraySync() as number[][];
    expect(r.labels).toEqual(['no', 'yes']);
    r.probabilities.forEach((p, i) => p.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 5)));
    await expect(t.classProbabilities([{ age: 'old', sex: 'F' }])).rejects.toThrow(InputError);
    await expect(t.generate([{ prompt: 'x', maxTokens: 1, decoding: { kind: 'greedy' } }])).rejects.toThrow(/cannot generate text/);
  });
});

describe("a user's tfjs model without memaudit.json", () => {
  function bareCopy(from: string): string {
    const dir = join(tempDir(), 'bare');
    mkdirSync(dir);
    for (const f of ['model.json', 'weights.bin']) copyFileSync(join(from, f), join(dir, f));
    return dir;
  }

  it('names the missing flags, then scores like the memaudit model given the vocabulary', async () => {
    const dir = bareCopy(lmDir);
    await expect(openTarget(dir)).rejects.toThrow(new UsageError(`--target ${dir}: it has no memaudit.json; give --task lm (with --vocab-file) or --task classifier (with --features)`));
    await expect(openTarget(dir, { task: 'lm' })).rejects.toThrow(/--task lm needs --vocab-file/);
    const meta = JSON.parse(readFileSync(join(lmDir, 'memaudit.json'), 'utf8')) as ModelMeta;
    const vocabFile = join(dir, '..', 'vocab.json');
    writeFileSync(vocabFile, JSON.stringify(meta.tokenizer!.vocab));
    await expect(openTarget(dir, { task: 'lm', vocabFile, contextLength: 3 })).rejects.toThrow(/--context-length 3 does not match the model's input length 8/);
    const user = await openTarget(dir, { task: 'lm', vocabFile });
    expect(await user.scoreTexts(sampleTexts)).toEqual(await lm.scoreTexts(sampleTexts));
    const d = await user.describe();
    expect(d.files!.map((f) => f.name)).toEqual(['model.json', 'vocab:vocab.json', 'weights.bin']);
    writeFileSync(vocabFile, JSON.stringify(meta.tokenizer!.vocab.slice(0, 10)));
    await expect(openTarget(dir, { task: 'lm', vocabFile })).rejects.toThrow(/has 10 tokens but the model predicts/);
  });

  it('a classifier takes its columns from --features', async () => {
    const dir = bareCopy(await makeMlpDir(tempDir()));
    await expect(openTarget(dir, { task: 'classifier' })).rejects.toThrow(/--task classifier needs --features/);
    await expect(openTarget(dir, { task: 'classifier', features: ['a', 'b'] })).rejects.toThrow(/--features names 2 columns but the model takes 4/);
    const t = await openTarget(dir, { task: 'classifier', features: ['a', 'b', 'c', 'd'], labels: ['n', 'y'] });
    const r = await t.classProbabilities([{ a: 1, b: 0, c: 1, d: 0 }]);
    expect(r.labels).toEqual(['n', 'y']);
    expect(r.probabilities[0]!.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
  });
});

describe('a GraphModel (converted from a TF SavedModel)', () => {
  /** A hand-written graph: probs = softmax(x W + b), in the tfjs graph-model JSON format. */
  function writeGraphClassifier(dir: string, W: number[][], b: number[]): void {
    mkdirSync(dir, { recursive: true });
    const f32 = { type: 'DT_FLOAT' };
    const modelJson = {
      format: 'graph-model',
      generatedBy: 'hand',
      convertedBy: 'test',
      modelTopology: {
        node: [
          { name: 'x', op: 'Placeholder', attr: { dtype: f32, shape: { shape: { dim: [{ size: '-1' }, { size: String(W.length) }] } } } },
          { name: 'W', op: 'Const', attr: { dtype: f32, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: String(W.length) }, { size: String(b.length) }] } } } } },
          { name: 'b', op: 'Const', attr: { dtype: f32, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: String(b.length) }] } } } } },
          { name: 'logits', op: 'MatMul', input: ['x', 'W'], attr: { T: f32, transpose_a: { b: false }, transpose_b: { b: false } } },
          { name: 'biased', op: 'AddV2', input: ['logits', 'b'], attr: { T: f32 } },
          { name: 'probs', op: 'Softmax', input: ['biased'], attr: { T: f32 } },
        ],
        library: {},
        versions: { producer: 1 },
      },
      weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [{ name: 'W', shape: [W.length, b.length], dtype: 'float32' }, { name: 'b', shape: [b.length], dtype: 'float32' }] }],
    };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
    writeFileSync(join(dir, 'group1-shard1of1.bin'), Buffer.from(new Float32Array([...W.flat(), ...b]).buffer));
  }

  it('loads without file:// and returns its class probabilities', async () => {
    const dir = join(tempDir(), 'graph');
    const W = [
      [1, -1],
      [0.5, 0],
      [0, 2],
    ];
    const b = [0.1, -0.2];
    writeGraphClassifier(dir, W, b);
    const t = await openTarget(dir, { task: 'classifier', features: ['a', 'b', 'c'], labels: ['n', 'y'] });
    const row = { a: 1, b: 2, c: -1 };
    const z = [0, 1].map((j) => row.a * W[0]![j]! + row.b * W[1]![j]! + row.c * W[2]![j]! + b[j]!);
    const p1 = Math.exp(z[1]!) / (Math.exp(z[0]!) + Math.exp(z[1]!));
    const r = await t.classProbabilities([row]);
    expect(r.probabilities[0]![1]).toBeCloseTo(p1, 5);
    expect((await t.describe()).files!.map((f) => f.name)).toEqual(['group1-shard1of1.bin', 'model.json']);
  });
});
