/**
 * Membership on real records: members sampled from the training output's real records, non-members
 * the manifest's holdout (`canary insert --holdout K`), both verified against the manifest's
 * digests. The sample, the counts in the result, the refusals of changed files, and no record text
 * in any audit output, on a tiny charlm trained on the wasm backend.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCanaries, insertCanaries, loadPack, type Manifest } from '../../src/canary/index.js';
import { initBackend } from '../../src/core/backend.js';
import { InputError, UsageError } from '../../src/core/errors.js';
import { sha256File } from '../../src/core/hash.js';
import { Rng } from '../../src/core/rng.js';
import { readRecords } from '../../src/data/index.js';
import { writeSyntheticNotes, writeSyntheticRecords } from '../../src/data/synth/index.js';
import { readTrainingRecords } from '../../src/train/examples.js';
import { saveTrainedModel, trainModel } from '../../src/train/loop.js';
import { candidatesFromRecords } from '../../probes/membership/candidates.js';
import { runCli, tempDir } from '../helpers/cli.js';

const holdoutRecords = 40;
let dir: string;
let manifestPath: string;
let manifest: Manifest;
let model: string;
/** Every real record's text (input notes): none may appear in an output. */
let recordTexts: string[];

async function texts(path: string): Promise<string[]> {
  const out: string[] = [];
  for await (const r of readRecords(path)) out.push(r.text!);
  return out;
}

const verified = async (path: string, records: number) => ({ path, sha256: await sha256File(path), records });

beforeAll(async () => {
  await initBackend('wasm');
  dir = tempDir();
  const notes = join(dir, 'notes.jsonl');
  await writeSyntheticNotes(notes, 160, new Rng('records'));
  recordTexts = await texts(notes);
  manifestPath = join(dir, 'manifest.json');
  const canaries = generateCanaries(loadPack('mrn'), { count: 8, rng: new Rng('records') });
  manifest = await insertCanaries({ data: notes, canaries, repetitions: [1, 4], references: 2, out: join(dir, 'train.jsonl'), manifest: manifestPath, holdout: holdoutRecords, rng: new Rng('records') });
  const result = await trainModel(
    { model: 'charlm', dp: false, clipNorm: 1, batchSize: 32, epochs: 1, learningRate: 0.01, optimizer: 'adam', accountant: 'rdp', seed: 'records', architecture: { contextLength: 16, embeddingDim: 8, hiddenUnits: [32] } },
    await readTrainingRecords(manifest.output.path),
    { backend: 'wasm' },
  );
  model = join(dir, 'model');
  await saveTrainedModel(model, result);
}, 300_000);

describe('real-record candidates (candidatesFromRecords)', () => {
  it('draws distinct real records of the training output as members (never a canary) and every holdout record as non-members', async () => {
    const training = await verified(manifest.output.path, manifest.output.records);
    const holdout = await verified(manifest.holdout!.path, manifest.holdout!.records);
    const set = await candidatesFromRecords(manifest, training, holdout, 'lm', { members: 100, rng: new Rng(1) });
    const members = set.candidates.filter((c) => c.member);
    const nonMembers = set.candidates.filter((c) => !c.member);
    expect(set.population).toBe('records');
    expect(members).toHaveLength(100);
    expect(new Set(members.map((c) => c.origin.kind === 'file' && c.origin.index)).size).toBe(100);
    const canaryTexts = new Set(manifest.canaries.map((c) => c.text));
    const held = new Set(await texts(holdout.path));
    for (const c of members) {
      expect(canaryTexts.has(c.text!)).toBe(false);
      expect(held.has(c.text!)).toBe(false);
      expect(recordTexts).toContain(c.text);
    }
    expect(nonMembers.map((c) => c.text)).toEqual([...held]);
    expect(set.records).toEqual({ training: { sha256: training.sha256, realRecords: 120 }, holdout: { sha256: holdout.sha256, records: holdoutRecords }, members: 100, nonMembers: holdoutRecords });
    // Default size: as many members as non-members; another seed draws others; all 120 is every real record.
    const byDefault = await candidatesFromRecords(manifest, training, holdout, 'lm', { rng: new Rng(1) });
    expect(byDefault.candidates.filter((c) => c.member)).toHaveLength(holdoutRecords);
    const other = await candidatesFromRecords(manifest, training, holdout, 'lm', { rng: new Rng(2) });
    expect(other.candidates.filter((c) => c.member).map((c) => c.id)).not.toEqual(byDefault.candidates.filter((c) => c.member).map((c) => c.id));
    const all = await candidatesFromRecords(manifest, training, holdout, 'lm', { members: 120, rng: new Rng(3) });
    expect(new Set(all.candidates.filter((c) => c.member).map((c) => c.text))).toEqual(new Set(recordTexts.filter((t) => !held.has(t))));
    await expect(candidatesFromRecords(manifest, training, holdout, 'lm', { members: 121, rng: new Rng(1) })).rejects.toThrow(UsageError);
    // A training file with other record counts than the manifest's is refused.
    await expect(candidatesFromRecords(manifest, { ...training, records: training.records + 1 }, holdout, 'lm', { rng: new Rng(1) })).rejects.toThrow(InputError);
  });

  it('CSV table rows (classifier): members are real rows with their labels, never a canary row', async () => {
    const data = join(dir, 'records.csv');
    await writeSyntheticRecords(data, 150, new Rng('rows'));
    const set = generateCanaries(loadPack('patient-record'), { count: 6, rng: new Rng('rows') });
    const m = await insertCanaries({ data, canaries: set, repetitions: [1, 3], references: 2, out: join(dir, 'rows', 'train.csv'), manifest: join(dir, 'rows', 'm.json'), holdout: 30, rng: new Rng('rows') });
    const training = await verified(m.output.path, m.output.records);
    const holdout = await verified(m.holdout!.path, m.holdout!.records);
    const rows = await candidatesFromRecords(m, training, holdout, 'classifier', { members: 120, rng: new Rng(1) });
    const members = rows.candidates.filter((c) => c.member);
    expect(members).toHaveLength(120);
    expect(rows.candidates.filter((c) => !c.member)).toHaveLength(30);
    const canaryRows = new Set(m.canaries.map((c) => JSON.stringify(Object.values(c.record!).map(String))));
    for (const c of rows.candidates) {
      expect(c.label).toMatch(/^[01]$/);
      expect(canaryRows.has(JSON.stringify(Object.keys(m.canaries[0]!.record!).map((k) => c.row![k])))).toBe(false);
    }
  });
});

describe('probe membership and audit on real records', () => {
  it('probe membership --members N: population records, members and non-members in every attack equal the sample sizes; --population manifest still tests canaries', async () => {
    const run = async (extra: string[]) => {
      const r = await runCli(['probe', 'membership', '--target', model, '--manifest', manifestPath, '--out', join(dir, 'mem.json'), '--seed', '4', '--backend', 'wasm', '--bootstrap', '0', '--json', ...extra], { timeoutMs: 300_000 });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    // (The default size, as many members as holdout records, is the audit test's below.)
    const more = await run(['--members', '90']);
    expect(more.population).toBe('records');
    expect(more.records).toMatchObject({ members: 90, nonMembers: holdoutRecords, holdout: { sha256: manifest.holdout!.sha256, records: holdoutRecords } });
    expect(more.attacks.length).toBeGreaterThan(0);
    for (const a of more.attacks) expect([a.members, a.nonMembers]).toEqual([90, holdoutRecords]);
    // The canary population can still be chosen.
    const canaries = await run(['--population', 'manifest']);
    expect(canaries.population).toBe('manifest');
    expect(canaries.attacks[0].members).toBe(manifest.canaries.filter((c) => c.role === 'inserted').length);
  });

  it('a training file or holdout that differs from its digest exits 2 with one line naming it, writing nothing', async () => {
    const changed = join(dir, 'changed.jsonl');
    writeFileSync(changed, readFileSync(manifest.output.path, 'utf8').replace(/\n$/, '\n{"text":"one more"}\n'));
    const out = join(dir, 'refused.json');
    const r = await runCli(['probe', 'membership', '--target', model, '--manifest', manifestPath, '--out', out, '--backend', 'wasm', '--data', changed]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/changed\.jsonl: sha256 .* is not the manifest's training data/);
    expect(existsSync(out)).toBe(false);
    const runDir = join(dir, 'run-refused');
    const a = await runCli(['audit', '--target', model, '--manifest', manifestPath, '--out', runDir, '--backend', 'wasm', '--holdout', changed, '--audit-log', join(dir, 'log.jsonl')]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/changed\.jsonl: sha256 .* is not the manifest's holdout/);
    expect(existsSync(runDir)).toBe(false);
  });

  it('audit uses the holdout by default, and no record text reaches report.json, report.md, report.html or the attestation', async () => {
    const runDir = join(dir, 'run');
    const r = await runCli(
      ['audit', '--target', model, '--manifest', manifestPath, '--out', runDir, '--seed', '5', '--backend', 'wasm', '--audit-log', join(dir, 'log.jsonl'), '--probe-option', 'extraction.samples=0', '--probe-option', 'membership.bootstrap=0', '--json'],
      { timeoutMs: 300_000 },
    );
    expect([0, 1, 3], r.stderr).toContain(r.code);
    const report = JSON.parse(readFileSync(join(runDir, 'report.json'), 'utf8'));
    const membership = report.results.membership;
    expect(membership.population).toBe('records');
    for (const a of membership.attacks) expect([a.members, a.nonMembers]).toEqual([holdoutRecords, holdoutRecords]);
    for (const f of ['report.json', 'report.md', 'report.html', 'attestation.dsse.json']) {
      const text = readFileSync(join(runDir, f), 'utf8');
      const decoded = f.endsWith('dsse.json') ? Buffer.from(JSON.parse(text).payload, 'base64').toString() : text;
      for (const t of recordTexts) expect(decoded.includes(t), `${f} holds a record`).toBe(false);
      for (const c of manifest.canaries) expect(decoded.includes(c.secret), `${f} holds a canary secret`).toBe(false);
    }
  });
});
