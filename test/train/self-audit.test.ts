/**
 * The white-box self-audit (`train --dp --self-audit M`): classic DP-SGD bugs are planted in the
 * trainer's own modules (vi.mock of the noise source and of the clip factors; no flag in shipped
 * code) and each run claims epsilon 3; the self-audit must refute every one at 99.9% confidence,
 * and never refute a correct run.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from '../../src/core/backend.js';
import { Rng } from '../../src/core/rng.js';
import { parsePrivacyFile, verifyLedger } from '../../src/accounting/index.js';
import { readModelMeta } from '../../src/models/model-dir.js';
import { trainModel, type TrainConfig, type TrainingRecords } from '../../src/train/index.js';
import { AuditCanaries, canaryNormOverClip } from '../../src/train/self-audit.js';
import { runCli, tempDir } from '../helpers/cli.js';

/** The planted bug of the current test (none: a correct trainer). */
const planted = vi.hoisted(() => ({ noiseScale: 1, clipping: true }));

vi.mock('../../src/train/noise.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/train/noise.js')>();
  return {
    ...real,
    seededGaussian: (rng: Rng) => {
      const source = real.seededGaussian(rng);
      return { ...source, fill: (out: Float32Array, std: number) => source.fill(out, std * planted.noiseScale) };
    },
  };
});

vi.mock('../../src/train/clip.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/train/clip.js')>();
  return {
    clipFactors: (norms: Float32Array, clipNorm: number, scale = 1) => (planted.clipping ? real.clipFactors(norms, clipNorm, scale) : new Float32Array(norms.length).fill(scale)),
  };
});

beforeAll(async () => {
  await initBackend('wasm');
});

/** Triage-like rows: vitals, a site, and an admission label that depends on them. */
function triageRows(n: number, seed: string): TrainingRecords {
  const rng = new Rng(seed);
  const rows = Array.from({ length: n }, () => {
    const age = Math.round(20 + 60 * rng.next());
    const systolic = Math.round(100 + 25 * rng.normal() + 0.4 * (age - 50));
    const heartRate = Math.round(80 + 15 * rng.normal());
    const risk = 0.04 * (age - 50) + 0.05 * (systolic - 130) + 0.04 * (heartRate - 80) + rng.normal();
    return { age, systolic, heartRate, site: rng.pick(['north', 'south', 'east']), admitted: risk > 0.5 ? 'yes' : 'no' };
  });
  return { task: 'classifier', rows, labelColumn: 'admitted', source: { file: 'triage.csv', sha256: 'c'.repeat(64), records: n } };
}

const canaries = 1000;
const records = triageRows(400, 'triage');

/** N = 400 records + 1000 canaries, q = 140 / 1400 = 0.1, 6 epochs = 60 steps, epsilon 3 at delta 1e-5 (the default for this N). */
function config(seed: string): TrainConfig {
  return {
    model: 'mlp',
    architecture: { hiddenUnits: [16] },
    dp: true,
    targetEpsilon: 3,
    clipNorm: 1,
    batchSize: 140,
    epochs: 6,
    learningRate: 0.01,
    optimizer: 'adam',
    accountant: 'rdp',
    seed,
    selfAudit: { canaries, confidence: 0.999 },
  };
}

async function selfAudit(seed: string, bug: Partial<typeof planted> = {}) {
  Object.assign(planted, { noiseScale: 1, clipping: true }, bug);
  try {
    const result = await trainModel(config(seed), records);
    result.model.dispose();
    expect(result.privacy.dp).toBe(true);
    const privacy = parsePrivacyFile(JSON.parse(JSON.stringify(result.privacy)), 'privacy.json');
    if (!privacy.dp || !privacy.selfAudit) throw new Error('no selfAudit in privacy.json');
    expect(privacy.datasetSize).toBe(400 + canaries);
    expect(privacy.selfAudit).toEqual(result.selfAudit);
    return { audit: privacy.selfAudit, epsilon: result.epsilon!, loss: result.finalLoss };
  } finally {
    Object.assign(planted, { noiseScale: 1, clipping: true });
  }
}

describe('audit canaries', () => {
  it('are Dirac gradients of norm 100 C that the clip factors bring to exactly C; excluded ones never contribute', () => {
    expect(canaryNormOverClip).toBeGreaterThanOrEqual(10);
    const canariesAll = new AuditCanaries({ count: 400, samplingRate: 1, noiseMultiplier: 1, bits: new Rng('bits'), sampling: new Rng('sampling') });
    const block = canariesAll.clippedSum(2, 0.25); // C = 2, scale 1/qN = 1/4: each sampled canary adds C / qN = 0.5
    const nonzero = [...block].filter((x) => x !== 0);
    expect(nonzero.length).toBeGreaterThan(160); // the included half, all sampled at q = 1
    expect(nonzero.length).toBeLessThan(240);
    for (const x of nonzero) expect(x).toBeCloseTo(0.5, 6);
    // the same block every step (q = 1): without noise the scores separate the bits perfectly
    for (let t = 0; t < 5; t++) canariesAll.observe(canariesAll.clippedSum(2, 0.25), 0.5);
    const audit = canariesAll.audit(1, 1e-5, 0.95);
    expect(audit.correct).toBe(audit.guesses);
    expect(audit.epsilonLowerBound).toBeCloseTo(audit.ceiling, 9);
  });
});

describe('white-box self-audit: planted DP-SGD bugs (claimed epsilon 3, M = 1000, 99.9%)', () => {
  it('refutes the claim when the noise is off', async () => {
    const { audit, epsilon } = await selfAudit('bug-noise-off', { noiseScale: 0 });
    expect(epsilon).toBeCloseTo(3, 1);
    expect(audit.refuted).toBe(true);
    expect(audit.epsilonLowerBound).toBeGreaterThan(3);
    expect(audit.epsilonLowerBound).toBeLessThanOrEqual(audit.ceiling);
  });

  it('refutes the claim when the noise is 10x too small', async () => {
    const { audit } = await selfAudit('bug-noise-tenth', { noiseScale: 0.1 });
    expect(audit.refuted).toBe(true);
  });

  it('refutes the claim when clipping is off', async () => {
    const { audit } = await selfAudit('bug-no-clipping', { clipping: false });
    expect(audit.refuted).toBe(true);
  });

  it('never refutes a correct DP-SGD run (5 seeds)', async () => {
    for (const seed of ['ok-1', 'ok-2', 'ok-3', 'ok-4', 'ok-5']) {
      const { audit, epsilon } = await selfAudit(seed);
      expect(audit.claimedEpsilon).toBe(epsilon);
      expect(audit.refuted).toBe(false);
      expect(audit.ceiling).toBeGreaterThan(3); // a correct run is not refuted although it could have been
    }
  });
});

describe('memaudit train --self-audit', () => {
  function csv(): string {
    const dir = tempDir();
    const rows = triageRows(300, 'cli');
    if (rows.task !== 'classifier') throw new Error('rows');
    const header = Object.keys(rows.rows[0]!);
    writeFileSync(join(dir, 'triage.csv'), [header.join(','), ...rows.rows.map((r) => header.map((h) => r[h]).join(','))].join('\n') + '\n');
    return dir;
  }

  it('writes the self-audit to privacy.json and --json, counting the canaries in the dataset size (q and steps from the real records), and the ledger verifies', async () => {
    const dir = csv();
    const out = join(dir, 'model');
    const r = await runCli(['train', '--data', join(dir, 'triage.csv'), '--model', 'mlp', '--label-column', 'admitted', '--hidden', '8', '--dp', '--target-epsilon', '3', '--batch-size', '50', '--epochs', '2', '--self-audit', '200', '--seed', '7', '--out', out, '--json', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    const privacy = parsePrivacyFile(JSON.parse(readFileSync(join(out, 'privacy.json'), 'utf8')), 'privacy.json');
    if (!privacy.dp) throw new Error('not DP');
    expect(privacy.datasetSize).toBe(500);
    expect(privacy.samplingRate).toBeCloseTo(50 / 300, 12);
    expect(privacy.expectedBatchSize).toBeCloseTo((50 / 300) * 500, 9);
    const meta = readModelMeta(out);
    const verified = verifyLedger(privacy, { records: meta.trainingData.records, seed: meta.seed, training: meta.training });
    expect(verified.mismatches).toEqual([]);
    expect(privacy.selfAudit).toEqual(json.selfAudit);
    expect(json.selfAudit).toMatchObject({ method: 'one-run-whitebox', canaries: 200, confidence: 0.999, refuted: false, claimedEpsilon: json.epsilon });
    expect(JSON.stringify(privacy.selfAudit)).not.toMatch(/scores|included|bits/);
  });

  it('refuses --self-audit without --dp, or a bad count, with one line and exit 2, writing nothing', async () => {
    const dir = csv();
    const out = join(dir, 'model');
    const base = ['train', '--data', join(dir, 'triage.csv'), '--model', 'mlp', '--label-column', 'admitted', '--out', out];
    const noDp = await runCli([...base, '--self-audit', '100']);
    expect(noDp.code).toBe(2);
    expect(noDp.stderr.trim()).toBe('memaudit train: --self-audit needs --dp (it audits the DP-SGD claim)');
    const zero = await runCli([...base, '--dp', '--target-epsilon', '3', '--self-audit', '0']);
    expect(zero.code).toBe(2);
    expect(zero.stderr.trim().split('\n')).toHaveLength(1);
    expect(zero.stderr).toContain('--self-audit');
    expect(existsSync(out)).toBe(false);
  });
});
