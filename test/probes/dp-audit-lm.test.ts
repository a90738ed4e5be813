import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { initBackend } from '../../src/core/backend.js';
import { silentProgress } from '../../src/core/progress.js';
import { Rng } from '../../src/core/rng.js';
import { generateCanaries, loadPack, type Manifest, type ManifestCanary } from '../../src/canary/index.js';
import { saveTrainedModel, trainModel, type TrainConfig } from '../../src/train/index.js';
import { openTarget } from '../../src/targets/index.js';
import { runDpAudit } from '../../probes/dp-audit.js';
import type { ProbeContext } from '../../probes/registry.js';
import { brownSentences } from '../../bench/corpus.js';
import { tempDir } from '../helpers/cli.js';

/** MRN canaries, each inserted once with probability 1/2, among real English sentences (the Brown corpus). */
function experiment(seed: string, canaryCount: number, sentences: number): { texts: string[]; manifest: Manifest } {
  const rng = new Rng(seed);
  const set = generateCanaries(loadPack('mrn'), { count: canaryCount, rng });
  const texts = brownSentences(sentences);
  const canaries: ManifestCanary[] = set.canaries.map((c) => {
    const inserted = rng.bernoulli(0.5);
    if (inserted) texts.push(c.text);
    return { ...c, role: inserted ? 'inserted' : 'reference', repetitions: inserted ? 1 : 0 };
  });
  const manifest = { version: 1, mode: 'bernoulli', kind: 'text', pack: 'mrn', canaries } as unknown as Manifest;
  return { texts, manifest };
}

describe('black-box one-run audit of a language model (secret given prefix)', () => {
  beforeAll(async () => {
    expect((await initBackend('wasm')).backend).toBe('wasm');
  });

  it('refutes a claimed epsilon of 2 at 99.9% for a model that memorized its 1000 canaries (half inserted)', async () => {
    const { texts, manifest } = experiment('bb', 1000, 100);
    const config: TrainConfig = { model: 'charlm', dp: false, clipNorm: 1, batchSize: 32, epochs: 14, learningRate: 0.01, optimizer: 'adam', accountant: 'rdp', seed: 'bb' };
    const trained = await trainModel(config, { task: 'lm', texts, source: { file: 'texts', sha256: '0'.repeat(64), records: texts.length } });
    const dir = tempDir();
    await saveTrainedModel(join(dir, 'model'), trained);
    trained.model.dispose();
    const target = await openTarget(join(dir, 'model'));
    const ctx: ProbeContext = {
      target,
      targetDescriptor: await target.describe(),
      manifest,
      manifestDigest: 'f'.repeat(64),
      rng: new Rng('bb/probe'),
      seed: 'bb',
      backend: 'wasm',
      progress: silentProgress,
      options: { claimedEpsilon: 2, confidence: 0.999 },
    };
    try {
      const result = await runDpAudit(ctx);
      expect(result.attack).toBe('secret');
      expect(result.method).toBe('one-run');
      expect(result.confidence).toBeCloseTo(0.999, 12);
      expect(result.ceiling).toBeGreaterThan(3);
      expect(result.epsilonLowerBound).toBeGreaterThan(2);
      expect(result.epsilonLowerBound).toBeLessThanOrEqual(result.ceiling);
      expect(result.refuted).toBe(true);
    } finally {
      await target.close();
    }
  });
});
