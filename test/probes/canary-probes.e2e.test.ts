/**
 * End to end on a real charlm trained without DP (wasm): synthetic notes with PIN canaries
 * inserted 1, 4 and 16 times, then exposure (exact and estimated), extraction, and the CLI.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../src/core/backend.js';
import { Rng } from '../../src/core/rng.js';
import { sha256File } from '../../src/core/hash.js';
import { secretSpaceFromSpec } from '../../src/canary/secret-space.js';
import type { Manifest, ManifestCanary } from '../../src/canary/types.js';
import { readTrainingRecords } from '../../src/train/examples.js';
import { saveTrainedModel, trainModel } from '../../src/train/loop.js';
import { openProbeSession, runProbe, type ProbeSession } from '../../probes/common.js';
import { exposureProbe, type ExposureResultDetail } from '../../probes/exposure.js';
import { extractionProbe, type ExtractionResultDetail } from '../../probes/extraction.js';
import { runCli, tempDir } from '../helpers/cli.js';

const spaceSpec = { slots: [{ format: 'digits', params: { length: 4 } }] };
const prefix = 'My PIN code is ';

function syntheticNotes(rng: Rng, count: number): string[] {
  const complaints = ['cough', 'fever', 'back pain', 'headache', 'rash', 'fatigue', 'sore throat', 'nausea'];
  const plans = ['rest and fluids', 'follow up in two weeks', 'start ibuprofen', 'order blood work', 'refer to clinic'];
  const days = ['two', 'three', 'five', 'several'];
  return Array.from({ length: count }, () => `Seen for ${rng.pick(complaints)} for ${rng.pick(days)} days. Plan: ${rng.pick(plans)}.`);
}

let dir: string;
let modelDir: string;
let manifestPath: string;
let trainPath: string;
let manifest: Manifest;

beforeAll(async () => {
  await initBackend('wasm');
  dir = tempDir();
  const rng = new Rng('e2e');
  const space = secretSpaceFromSpec(spaceSpec);
  const secrets = new Set<string>();
  while (secrets.size < 11) secrets.add(space.sample(rng));
  const [s16, s4a, s4b, s1a, s1b, ...refs] = [...secrets];
  const make = (id: string, secret: string, role: 'inserted' | 'reference', repetitions: number): ManifestCanary => ({
    id, text: `${prefix}${secret}.`, prefix, secret, suffix: '.', format: 'digits', role, repetitions,
  });
  const canaries = [
    make('pin-16', s16!, 'inserted', 16),
    make('pin-4a', s4a!, 'inserted', 4),
    make('pin-4b', s4b!, 'inserted', 4),
    make('pin-1a', s1a!, 'inserted', 1),
    make('pin-1b', s1b!, 'inserted', 1),
    ...refs.map((s, i) => make(`ref-${i}`, s!, 'reference', 0)),
  ];
  const notes = syntheticNotes(rng, 160);
  const inputPath = join(dir, 'notes.jsonl');
  writeFileSync(inputPath, notes.map((text) => JSON.stringify({ text })).join('\n') + '\n');
  const records = [...notes];
  for (const c of canaries) for (let k = 0; k < c.repetitions; k++) records.splice(rng.int(records.length + 1), 0, c.text);
  trainPath = join(dir, 'train.jsonl');
  writeFileSync(trainPath, records.map((text) => JSON.stringify({ text })).join('\n') + '\n');
  manifest = {
    version: 1, mode: 'fixed', seed: 'e2e', pack: 'pin-4', kind: 'text', secretSpace: spaceSpec,
    spaceSize: String(space.size), spaceSizeLog2: space.log2Size,
    input: { path: 'notes.jsonl', sha256: await sha256File(inputPath), records: notes.length, format: 'jsonl' },
    output: { path: 'train.jsonl', sha256: await sha256File(trainPath), records: records.length, format: 'jsonl' },
    textField: 'text', canaries, createdAt: new Date().toISOString(), toolVersion: '0.1.0',
  };
  manifestPath = join(dir, 'manifest.json');
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  const result = await trainModel(
    { model: 'charlm', dp: false, clipNorm: 1, batchSize: 16, epochs: 12, learningRate: 0.01, optimizer: 'adam', accountant: 'rdp', seed: 'e2e' },
    await readTrainingRecords(trainPath),
    { backend: 'wasm' },
  );
  modelDir = join(dir, 'model');
  await saveTrainedModel(modelDir, result);
});

async function session(seed = 'probe'): Promise<ProbeSession> {
  return openProbeSession({ target: modelDir, manifestPath, seed, backend: 'wasm' });
}

describe('exposure on a charlm trained without DP', () => {
  let exact: ExposureResultDetail;
  let estimated: ExposureResultDetail;
  let skewed: ExposureResultDetail;

  beforeAll(async () => {
    const s = await session();
    try {
      exact = (await runProbe(exposureProbe, s.contextFor(exposureProbe, { mode: 'exact' }))) as ExposureResultDetail;
      estimated = (await runProbe(exposureProbe, s.contextFor(exposureProbe, { mode: 'estimated', samples: 1000 }))) as ExposureResultDetail;
      skewed = (await runProbe(exposureProbe, s.contextFor(exposureProbe, { mode: 'estimated', estimator: 'skew-normal', samples: 1000 }))) as ExposureResultDetail;
    } finally {
      await s.close();
    }
  });

  it('grows with repetitions; references stay near the random baseline', () => {
    const by = Object.fromEntries(exact.byRepetitions.map((g) => [g.repetitions, g.meanExposureBits]));
    expect(exact.scoring).toBe('prefix-shared');
    expect(by[16]).toBeGreaterThan(by[4]!);
    expect(by[4]).toBeGreaterThan(by[1]!);
    expect(by[16]).toBeGreaterThan(10);
    expect(exact.reference.count).toBe(6);
    // Six uniform ranks: mean exposure 1.44 bits, standard error about 0.6.
    expect(exact.reference.meanExposureBits).toBeLessThan(exact.randomBaselineBits + 2);
    expect(exact.insertedVsReference!.pValue).toBeLessThan(0.05);
  });

  it('exact and estimated exposure agree within 1 bit', () => {
    expect(estimated.canaries.every((c) => c.method === 'estimated')).toBe(true);
    for (const c of exact.canaries) {
      // Default estimator on a char LM: importance sampling guided by the model.
      const e = estimated.canaries.find((x) => x.id === c.id)!;
      expect(e.estimator).toBe('importance');
      expect(e.exposureInterval!.lower, c.id).toBeLessThanOrEqual(c.exposureBits);
      expect(e.exposureInterval!.upper, c.id).toBeGreaterThanOrEqual(c.exposureBits);
      // Only enumeration shows rank 1: a sampled canary at the top keeps a point below log2|R|, its interval open above.
      if (c.rank === 1) expect(e.exposureBits, c.id).toBeLessThan(exact.spaceSizeLog2);
      else expect(Math.abs(e.exposureBits - c.exposureBits), `${c.id}: exact ${c.exposureBits}, importance ${e.exposureBits}`).toBeLessThan(1);
      // The skew-normal estimator, within the range its 1000 uniform samples support.
      const k = skewed.canaries.find((x) => x.id === c.id)!;
      expect(k.estimator).toBe('skew-normal');
      if (c.exposureBits <= Math.log2(1000)) {
        expect(Math.abs(k.exposureBits - c.exposureBits), `${c.id}: exact ${c.exposureBits}, skew-normal ${k.exposureBits}`).toBeLessThan(1);
      }
    }
  });
});

describe('extraction on the same model', () => {
  let result: ExtractionResultDetail;
  beforeAll(async () => {
    const s = await session();
    try {
      result = (await runProbe(extractionProbe, s.contextFor(extractionProbe, { samples: 20, sampleLength: 80, trainingData: trainPath }))) as ExtractionResultDetail;
    } finally {
      await s.close();
    }
  });

  it('extracts the secret planted 16 times by greedy decoding', () => {
    const c16 = result.targeted.canaries.find((c) => c.id === 'pin-16')!;
    expect(c16.greedy).toBe(true);
    expect(c16.beamRank).toBe(1);
    expect(result.targeted.beam).toBe('target');
    expect(result.targeted.byRepetitions.find((g) => g.repetitions === 16)!.extracted).toBe(1);
  });

  it('untargeted samples are counted, never included', () => {
    expect(result.untargeted.samples).toBe(20);
    expect(result.untargeted.verbatimTrainingMatches).not.toBeNull();
    const json = JSON.stringify(result);
    for (const c of manifest.canaries) expect(json).not.toContain(`${c.secret}.`);
    expect(json).not.toContain('Seen for');
  });
});

describe('memaudit probe (CLI)', () => {
  it('runs exposure, writes the schema-checked result and prints the contract fields', async () => {
    const out = join(dir, 'exposure.json');
    const r = await runCli(['probe', 'exposure', '--target', modelDir, '--manifest', manifestPath, '--out', out, '--json', '--seed', '7', '--backend', 'wasm', '--mode', 'estimated', '--samples', '200']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout) as ExposureResultDetail;
    expect(printed.canaries[0]).toHaveProperty('exposureBits');
    expect(printed.byRepetitions.map((g) => g.repetitions)).toEqual([1, 4, 16]);
    expect(printed.reference.count).toBe(6);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(printed);
  });

  it('prints a short table for humans, without secrets or generated text', async () => {
    const out = join(dir, 'extraction.json');
    const samples = join(dir, 'samples.jsonl');
    const r = await runCli(['probe', 'extraction', '--target', modelDir, '--manifest', manifestPath, '--out', out, '--seed', '7', '--backend', 'wasm', '--samples', '5', '--sample-length', '40', '--include-samples', samples]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('16 repetitions');
    expect(r.stdout).toContain(`result written to ${out}`);
    for (const c of manifest.canaries) expect(r.stdout).not.toContain(c.secret);
    const written = JSON.parse(readFileSync(out, 'utf8')) as ExtractionResultDetail;
    expect(written.untargeted.samples).toBe(5);
    expect(readFileSync(samples, 'utf8').trim().split('\n')).toHaveLength(5);
  });

  it('bad flags and bad inputs: one line, exit 2, nothing written', async () => {
    const out = join(dir, 'never.json');
    const flag = await runCli(['probe', 'extraction', '--target', modelDir, '--manifest', manifestPath, '--out', out, '--beam-width', 'abc']);
    expect(flag.code).toBe(2);
    expect(flag.stderr.trim().split('\n')).toHaveLength(1);
    expect(flag.stderr).toContain('--beam-width');
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"version": 1, "canaries": [');
    const bad = await runCli(['probe', 'exposure', '--target', modelDir, '--manifest', broken, '--out', out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('broken.json');
    const noModel = await runCli(['probe', 'exposure', '--target', join(dir, 'nope'), '--manifest', manifestPath, '--out', out]);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });
});
