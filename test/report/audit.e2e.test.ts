/**
 * `memaudit audit` end to end on real charlms (wasm): canaries with 5-digit secrets inserted 1, 4
 * and 16 times into synthetic notes; one model trained without DP (must be PHI, exit 1, for an
 * extraction or exposure reason) and one with DP-SGD at epsilon <= 3 on the same data (exit 0 or
 * 3, never PHI for a memorization reason). Then the report, attestation, gate and audit log.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'node-html-parser';
import { initBackend } from '../../src/core/backend.js';
import { Rng } from '../../src/core/rng.js';
import { sha256File } from '../../src/core/hash.js';
import { secretSpaceFromSpec } from '../../src/canary/secret-space.js';
import type { Manifest, ManifestCanary } from '../../src/canary/types.js';
import { readTrainingRecords } from '../../src/train/examples.js';
import { saveTrainedModel, trainModel } from '../../src/train/loop.js';
import type { TrainConfig } from '../../src/train/config.js';
import { runCli, tempDir } from '../helpers/cli.js';

const spaceSpec = { slots: [{ format: 'digits', params: { length: 5 } }] };
const prefix = 'My PIN code is ';
const reps = [1, 4, 16];
const perRep = 5;
const references = 20;

let dir: string;
let manifestPath: string;
let manifest: Manifest;
let trainPath: string;
let keys: string;
let log: string;

function notes(rng: Rng, count: number): string[] {
  const complaints = ['cough', 'fever', 'back pain', 'headache', 'rash', 'fatigue', 'sore throat', 'nausea'];
  const plans = ['rest and fluids', 'follow up in two weeks', 'start ibuprofen', 'order blood work', 'refer to clinic'];
  return Array.from({ length: count }, () => `Seen for ${rng.pick(complaints)}. Plan: ${rng.pick(plans)}.`);
}

async function train(name: string, config: Partial<TrainConfig>): Promise<string> {
  const result = await trainModel(
    { model: 'charlm', dp: false, clipNorm: 1, batchSize: 16, epochs: 10, learningRate: 0.01, optimizer: 'adam', accountant: 'rdp', seed: 'audit-e2e', ...config },
    await readTrainingRecords(trainPath),
    { backend: 'wasm' },
  );
  const out = join(dir, name);
  await saveTrainedModel(out, result);
  return out;
}

async function audit(model: string, run: string, extra: string[] = []) {
  return runCli(['audit', '--target', model, '--manifest', manifestPath, '--out', join(dir, run), '--audit-log', log, '--sign-key', join(keys, 'memaudit.key'), '--seed', '3', '--backend', 'wasm', '--probe-option', 'extraction.samples=0', '--purpose', 'e2e', '--json', ...extra], { timeoutMs: 600_000 });
}

beforeAll(async () => {
  await initBackend('wasm');
  dir = tempDir();
  log = join(dir, 'audit-log.jsonl');
  keys = join(dir, 'keys');
  expect((await runCli(['attest', 'keygen', '--out', keys])).code).toBe(0);
  const rng = new Rng('audit-e2e');
  const space = secretSpaceFromSpec(spaceSpec);
  const secrets = new Set<string>();
  while (secrets.size < reps.length * perRep + references) secrets.add(space.sample(rng));
  const pool = [...secrets];
  const canaries: ManifestCanary[] = [];
  const make = (id: string, role: 'inserted' | 'reference', repetitions: number): ManifestCanary => {
    const secret = pool.pop()!;
    return { id, text: `${prefix}${secret}.`, prefix, secret, suffix: '.', format: 'digits', role, repetitions };
  };
  for (const r of reps) for (let i = 0; i < perRep; i++) canaries.push(make(`pin-${r}x-${i}`, 'inserted', r));
  for (let i = 0; i < references; i++) canaries.push(make(`ref-${i}`, 'reference', 0));
  const base = notes(rng, 200);
  const inputPath = join(dir, 'notes.jsonl');
  writeFileSync(inputPath, base.map((text) => JSON.stringify({ text })).join('\n') + '\n');
  const records = [...base];
  for (const c of canaries) for (let k = 0; k < c.repetitions; k++) records.splice(rng.int(records.length + 1), 0, c.text);
  trainPath = join(dir, 'train.jsonl');
  writeFileSync(trainPath, records.map((text) => JSON.stringify({ text })).join('\n') + '\n');
  manifest = {
    version: 1, mode: 'fixed', seed: 'audit-e2e', pack: 'pin-5', kind: 'text', secretSpace: spaceSpec,
    spaceSize: String(space.size), spaceSizeLog2: space.log2Size,
    input: { path: 'notes.jsonl', sha256: await sha256File(inputPath), records: base.length, format: 'jsonl' },
    output: { path: 'train.jsonl', sha256: await sha256File(trainPath), records: records.length, format: 'jsonl' },
    textField: 'text', canaries, createdAt: new Date().toISOString(), toolVersion: '0.1.0',
  };
  manifestPath = join(dir, 'manifest.json');
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
}, 600_000);

interface AuditJson {
  verdict: string;
  reasons: { probe: string; metric: string; value: number | null; threshold: number | null; outcome: string; message: string }[];
  report: string;
  attestation: string;
  signed: boolean;
  probes: string[];
  backend: string;
}

describe('audit on a charlm trained without DP, canaries inserted up to 16 times', () => {
  let model: string;
  let r: Awaited<ReturnType<typeof audit>>;
  let out: AuditJson;
  beforeAll(async () => {
    model = await train('model-nodp', {});
    r = await audit(model, 'run-nodp');
    out = JSON.parse(r.stdout) as AuditJson;
  }, 600_000);

  it('exits 1 (PHI) with an extraction or exposure reason naming value and threshold', () => {
    expect(r.code, r.stderr).toBe(1);
    expect(out.verdict).toBe('PHI');
    const memorization = out.reasons.filter((x) => x.outcome === 'PHI' && (x.probe === 'extraction' || x.probe === 'exposure'));
    expect(memorization.length).toBeGreaterThan(0);
    for (const x of memorization) {
      expect(x.value).toBeGreaterThan(x.threshold!);
      expect(x.message.length).toBeGreaterThan(20);
    }
    console.log(`[audit e2e] no-DP: ${out.verdict} on ${out.backend}; ${out.reasons.map((x) => `${x.probe} ${x.metric} ${x.value} > ${x.threshold}`).join('; ')}`);
  });

  it('writes a schema-valid report, a self-contained HTML with charts, and a signed attestation that verifies against the model', async () => {
    const report = JSON.parse(readFileSync(out.report, 'utf8'));
    expect(report.verdict.verdict).toBe('PHI');
    const html = parse(readFileSync(join(dir, 'run-nodp', 'report.html'), 'utf8'));
    expect(html.querySelector('#chart-exposure svg')).not.toBeNull();
    expect(out.signed).toBe(true);
    const v = await runCli(['attest', 'verify', '--attestation', out.attestation, '--key', join(keys, 'memaudit.pub'), '--model', model, '--json']);
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout).verdict).toBe('PHI');
    // No canary secret or record in any output.
    for (const f of ['report.json', 'report.md', 'report.html', 'attestation.dsse.json']) {
      const text = readFileSync(join(dir, 'run-nodp', f), 'utf8');
      const decoded = f.endsWith('dsse.json') ? Buffer.from(JSON.parse(text).payload, 'base64').toString() : text;
      for (const c of manifest.canaries) expect(decoded.includes(c.text)).toBe(false);
    }
  });

  it('binds the manifest to the model: both digests in the report, and another dataset\'s manifest is refused (exit 2, one line, nothing written)', async () => {
    const report = JSON.parse(readFileSync(out.report, 'utf8'));
    expect(report.binding).toEqual({ manifestOutputSha256: manifest.output.sha256, modelTrainingDataSha256: manifest.output.sha256 });
    expect(report.verdict.checks).toContainEqual(expect.objectContaining({ probe: 'manifest', outcome: 'PASS' }));
    const other = join(dir, 'other-manifest.json');
    writeFileSync(other, JSON.stringify({ ...manifest, output: { ...manifest.output, sha256: '0'.repeat(64) } }));
    const wrong = await runCli(['audit', '--target', model, '--manifest', other, '--out', join(dir, 'run-wrong'), '--backend', 'wasm', '--audit-log', join(dir, 'wrong-log.jsonl')]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr.trim().split('\n')).toEqual([expect.stringMatching(/other-manifest.json: the manifest does not belong to the model: .*model-nodp\/memaudit.json/)]);
    expect(existsSync(join(dir, 'run-wrong'))).toBe(false);
    expect(existsSync(join(dir, 'wrong-log.jsonl'))).toBe(false);
  });

  it('a manifest with inserted and reference canaries swapped (same counts and digests) no longer hides the leak: exit 2 naming a canary, nothing written', async () => {
    const swapped = structuredClone(manifest);
    const inserted = swapped.canaries.find((c) => c.repetitions === 16)!;
    const reference = swapped.canaries.find((c) => c.role === 'reference')!;
    [inserted.role, reference.role, inserted.repetitions, reference.repetitions] = [reference.role, inserted.role, reference.repetitions, inserted.repetitions];
    const path = join(dir, 'swapped-manifest.json');
    writeFileSync(path, JSON.stringify(swapped));
    const run = join(dir, 'run-swapped');
    const r = await runCli(['audit', '--target', model, '--manifest', path, '--data', trainPath, '--out', run, '--backend', 'wasm']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`swapped-manifest.json: canary (${inserted.id}|${reference.id}) is recorded as .*train.jsonl: the manifest's roles do not match the training data`))]);
    for (const c of manifest.canaries) expect(r.stderr).not.toContain(c.secret);
    expect(existsSync(run)).toBe(false);
    // The honest manifest's report says what was and was not checked.
    expect(JSON.parse(readFileSync(out.report, 'utf8')).manifestIntegrity).toEqual({ signature: { status: 'unsigned', keyid: null }, roles: { status: 'not-checked', data: null, dataSha256: null } });
  });

  it('gate re-decides the report (exit 1), and the audit log chains both runs', async () => {
    const g = await runCli(['gate', '--report', out.report, '--audit-log', log]);
    expect(g.code).toBe(1);
    const v = await runCli(['audit-log', 'verify', '--audit-log', log, '--json']);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout).entries).toBeGreaterThanOrEqual(2);
    // The attestation signs the log head that includes the audit's own entry.
    const auditEntry = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.command === 'audit');
    const predicate = JSON.parse(Buffer.from(JSON.parse(readFileSync(out.attestation, 'utf8')).payload, 'base64').toString('utf8')).predicate;
    expect(predicate.auditLogCheckpoint).toEqual({ seq: auditEntry.seq, headHash: { sha256: auditEntry.hash } });
    const anchored = await runCli(['audit-log', 'verify', '--audit-log', log, '--attestation', out.attestation, '--key', join(keys, 'memaudit.pub'), '--json']);
    expect(anchored.code, anchored.stderr).toBe(0);
    expect(JSON.parse(anchored.stdout).anchors).toMatchObject({ ok: true, anchoredSeqs: [auditEntry.seq] });
  });
});

describe('audit on a DP model (epsilon <= 3) trained on the same data', () => {
  it('exits 0 or 3 and never PHI for a memorization reason', async () => {
    const model = await train('model-dp', { dp: true, targetEpsilon: 3, batchSize: 32, epochs: 10, learningRate: 0.01 });
    const ledger = JSON.parse(readFileSync(join(model, 'privacy.json'), 'utf8'));
    expect(ledger.epsilon[ledger.accountant]).toBeLessThanOrEqual(3);
    const r = await audit(model, 'run-dp');
    const out = JSON.parse(r.stdout) as AuditJson;
    expect([0, 3], r.stderr).toContain(r.code);
    expect(out.reasons.filter((x) => x.outcome === 'PHI')).toEqual([]);
    // The DP claim is audited at the policy's confidence (1 - alpha), the level a refutation needs.
    expect(JSON.parse(readFileSync(out.report, 'utf8')).results['dp-audit'].confidence).toBeCloseTo(0.999, 9);
    console.log(`[audit e2e] DP (epsilon ${ledger.epsilon[ledger.accountant].toFixed(2)}): ${out.verdict} (exit ${r.code}) on ${out.backend}; ${out.reasons.map((x) => `${x.probe} ${x.metric}: ${x.message}`).join(' | ')}`);
  }, 600_000);
});
