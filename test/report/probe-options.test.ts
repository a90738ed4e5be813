/**
 * The policy is the contract for probe options in `audit`: an option may only make the run
 * stricter; a weaker or unknown one exits 2 naming it and the policy value (nothing written), and
 * the options a run used are recorded in the report. Library checks first, then the CLI on a
 * small charlm (wasm) so the only thing wrong in the refused runs is the option.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../src/core/backend.js';
import { Rng } from '../../src/core/rng.js';
import { sha256File } from '../../src/core/hash.js';
import { UsageError } from '../../src/core/errors.js';
import { secretSpaceFromSpec } from '../../src/canary/secret-space.js';
import type { Manifest, ManifestCanary } from '../../src/canary/types.js';
import { loadPolicy } from '../../src/policy/load.js';
import { probeOptionsFor } from '../../src/report/probe-options.js';
import { readTrainingRecords } from '../../src/train/examples.js';
import { saveTrainedModel, trainModel } from '../../src/train/loop.js';
import { runCli, tempDir } from '../helpers/cli.js';

const policy = loadPolicy().policy;

describe('probe options against the policy (library)', () => {
  it('fills the policy values the user left out, and keeps stricter ones', () => {
    expect(probeOptionsFor('exposure', policy, {})).toEqual({ samples: 2000, maxSamples: 20000, intervalConfidence: 0.9999, maxBits: 10 });
    expect(probeOptionsFor('exposure', policy, { samples: '4000', intervalConfidence: 0.99999 })).toMatchObject({ samples: 4000, intervalConfidence: 0.99999, maxSamples: 20000 });
    expect(probeOptionsFor('membership', policy, { attacks: 'loss,zlib,min-k,min-k++,reference' })).toEqual({ attacks: 'loss,zlib,min-k,min-k++,reference' });
    // Left out, the attack list is the probe's own default (every attack the target allows), a superset.
    expect(probeOptionsFor('membership', policy, {}).attacks).toBeUndefined();
    expect(probeOptionsFor('extraction', policy, { beamWidth: 8 })).toEqual({ beamWidth: 8 });
  });

  it('refuses options weaker than the policy, naming the option and the policy value', () => {
    const refused = (probe: Parameters<typeof probeOptionsFor>[0], given: Record<string, unknown>, pattern: RegExp) => {
      let error: unknown;
      try {
        probeOptionsFor(probe, policy, given);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toMatch(pattern);
    };
    refused('exposure', { samples: 1000 }, /exposure\.samples=1000 .*policy's exposure\.samples = 2000/);
    refused('exposure', { intervalConfidence: 0.99 }, /interval-confidence=0\.99 .*exposure\.intervalConfidence = 0\.9999/);
    refused('exposure', { maxSamples: 4000 }, /exposure\.maxSamples = 20000/);
    refused('exposure', { maxBits: 12 }, /max-bits=12 cannot change the policy's exposure\.maxBits = 10/);
    refused('membership', { attacks: 'zlib,min-k' }, /drops loss, min-k\+\+, required by the policy's membership\.attacks/);
    refused('extraction', { beamWidth: 2 }, /beam-width=2 .*default 5/);
    refused('dp-audit', { confidence: 0.95 }, /1 - alpha = 0\.999/);
    refused('dp-audit', { claimedEpsilon: 50 }, /claimed-epsilon=50 cannot be set in an audit/);
    refused('exposure', { bogus: 1 }, /exposure\.bogus: .*no such option \(known: mode, max-exact, samples, max-samples, interval-confidence, max-bits/);
  });
});

const spaceSpec = { slots: [{ format: 'digits', params: { length: 5 } }] };
const prefix = 'My PIN code is ';
let dir: string;
let model: string;
let manifestPath: string;

beforeAll(async () => {
  await initBackend('wasm');
  dir = tempDir();
  const rng = new Rng('probe-options');
  const space = secretSpaceFromSpec(spaceSpec);
  const secrets = new Set<string>();
  while (secrets.size < 8) secrets.add(space.sample(rng));
  const pool = [...secrets];
  const canaries: ManifestCanary[] = pool.map((secret, i) => {
    const role = i < 4 ? 'inserted' : 'reference';
    return { id: `pin-${i}`, text: `${prefix}${secret}.`, prefix, secret, suffix: '.', format: 'digits', role, repetitions: role === 'inserted' ? 4 : 0 };
  });
  const base = Array.from({ length: 60 }, (_, i) => `Seen for visit ${i % 7}. Plan: rest.`);
  const inputPath = join(dir, 'notes.jsonl');
  writeFileSync(inputPath, base.map((text) => JSON.stringify({ text })).join('\n') + '\n');
  const records = [...base];
  for (const c of canaries) for (let k = 0; k < c.repetitions; k++) records.splice(rng.int(records.length + 1), 0, c.text);
  const trainPath = join(dir, 'train.jsonl');
  writeFileSync(trainPath, records.map((text) => JSON.stringify({ text })).join('\n') + '\n');
  const manifest: Manifest = {
    version: 1, mode: 'fixed', seed: 'probe-options', pack: 'pin-5', kind: 'text', secretSpace: spaceSpec,
    spaceSize: String(space.size), spaceSizeLog2: space.log2Size,
    input: { path: 'notes.jsonl', sha256: await sha256File(inputPath), records: base.length, format: 'jsonl' },
    output: { path: 'train.jsonl', sha256: await sha256File(trainPath), records: records.length, format: 'jsonl' },
    textField: 'text', canaries, createdAt: new Date().toISOString(), toolVersion: '0.1.0',
  };
  manifestPath = join(dir, 'manifest.json');
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  const trained = await trainModel(
    { model: 'charlm', dp: false, clipNorm: 1, batchSize: 16, epochs: 2, learningRate: 0.01, optimizer: 'adam', accountant: 'rdp', seed: 'probe-options' },
    await readTrainingRecords(trainPath),
    { backend: 'wasm' },
  );
  model = join(dir, 'model');
  await saveTrainedModel(model, trained);
}, 300_000);

const audit = (run: string, options: string[]) =>
  runCli(
    ['audit', '--target', model, '--manifest', manifestPath, '--out', join(dir, run), '--seed', '1', '--backend', 'wasm', '--audit-log', join(dir, 'audit-log.jsonl'), '--json', ...options.flatMap((o) => ['--probe-option', o])],
    { timeoutMs: 300_000 },
  );

describe('memaudit audit --probe-option (CLI)', () => {
  it.each([
    ['membership.attacks=zlib,min-k', /membership\.attacks=zlib,min-k drops loss, min-k\+\+, required by the policy's membership\.attacks/],
    ['exposure.samples=10', /exposure\.samples=10 would weaken the evidence below the policy's exposure\.samples = 2000/],
    ['exposure.bogus=1', /exposure\.bogus: probe exposure has no such option \(known: mode, max-exact, samples/],
  ])('%s exits 2 with one line naming it, and writes nothing', async (option, message) => {
    const run = `refused-${option.split('=')[0]}`;
    const r = await audit(run, ['extraction.samples=0', option]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(existsSync(join(dir, run))).toBe(false);
  });

  it('accepts stricter options and records every option used in report.json and report.md', async () => {
    const r = await audit('stricter', ['extraction.samples=0', 'exposure.samples=4000', 'extraction.beam-width=8', 'membership.attacks=loss,zlib,min-k,min-k++,loss']);
    expect([0, 1, 3], r.stderr).toContain(r.code);
    const report = JSON.parse(readFileSync(join(dir, 'stricter', 'report.json'), 'utf8'));
    expect(report.probeOptions.exposure).toMatchObject({ samples: 4000, maxSamples: 20000, intervalConfidence: 0.9999, maxBits: 10 });
    expect(report.probeOptions.extraction).toMatchObject({ beamWidth: 8, samples: 0 });
    expect(report.probeOptions.membership.attacks).toBe('loss,zlib,min-k,min-k++,loss');
    const md = readFileSync(join(dir, 'stricter', 'report.md'), 'utf8');
    expect(md).toMatch(/## Probe options/);
    expect(md).toMatch(/\| exposure \| [^\n]*samples=4000[^\n]*maxSamples=20000/);
  });
});
