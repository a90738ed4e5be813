/**
 * `audit` records the DP claim check in report.json, report.md and the attestation: a charlm
 * trained with `train --dp --sign-key` is verified (ledger recomputed and matched to memaudit.json,
 * provenance trusted under --trust-key); the same model with privacy.json's epsilon edited 3 -> 0.5
 * is recorded as not verified (the field named) with invalid provenance, and dp-audit tests the
 * recomputed epsilon, not the edited one.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/core/rng.js';
import { sha256File } from '../../src/core/hash.js';
import { secretSpaceFromSpec } from '../../src/canary/secret-space.js';
import type { Manifest, ManifestCanary } from '../../src/canary/types.js';
import defaultPolicy from '../../src/policy/default-policy.json' with { type: 'json' };
import { runCli, tempDir } from '../helpers/cli.js';

const spaceSpec = { slots: [{ format: 'digits', params: { length: 4 } }] };
const prefix = 'Code ';

let dir: string;
let manifestPath: string;
let policyPath: string;
let model: string;
let keys: string;

async function audit(target: string, run: string) {
  const r = await runCli(['audit', '--target', target, '--manifest', manifestPath, '--policy', policyPath, '--out', join(dir, run), '--trust-key', join(keys, 'memaudit.pub'), '--audit-log', join(dir, 'log.jsonl'), '--seed', '1', '--backend', 'wasm', '--json'], { timeoutMs: 300_000 });
  expect([0, 1, 3], r.stderr).toContain(r.code);
  const report = JSON.parse(readFileSync(join(dir, run, 'report.json'), 'utf8'));
  return { r, report, markdown: readFileSync(join(dir, run, 'report.md'), 'utf8'), html: readFileSync(join(dir, run, 'report.html'), 'utf8'), attestation: JSON.parse(Buffer.from(JSON.parse(readFileSync(join(dir, run, 'attestation.dsse.json'), 'utf8')).payload, 'base64').toString()) };
}

beforeAll(async () => {
  dir = tempDir();
  keys = join(dir, 'keys');
  expect((await runCli(['attest', 'keygen', '--out', keys])).code).toBe(0);
  const rng = new Rng('dp-claim-e2e');
  const space = secretSpaceFromSpec(spaceSpec);
  const secrets = new Set<string>();
  while (secrets.size < 30) secrets.add(space.sample(rng));
  const pool = [...secrets];
  const canaries: ManifestCanary[] = pool.map((secret, i) => ({ id: `c-${i}`, text: `${prefix}${secret}.`, prefix, secret, suffix: '.', format: 'digits', role: i < 10 ? 'inserted' : 'reference', repetitions: i < 10 ? 1 : 0 }));
  const base = Array.from({ length: 60 }, () => `Seen for ${rng.pick(['cough', 'fever', 'rash'])}.`);
  const inputPath = join(dir, 'notes.jsonl');
  writeFileSync(inputPath, base.map((text) => JSON.stringify({ text })).join('\n') + '\n');
  const records = [...base];
  for (const c of canaries) if (c.role === 'inserted') records.splice(rng.int(records.length + 1), 0, c.text);
  const trainPath = join(dir, 'train.jsonl');
  writeFileSync(trainPath, records.map((text) => JSON.stringify({ text })).join('\n') + '\n');
  const manifest: Manifest = {
    version: 1, mode: 'fixed', seed: 'dp-claim-e2e', pack: 'pin-4', kind: 'text', secretSpace: spaceSpec,
    spaceSize: String(space.size), spaceSizeLog2: space.log2Size,
    input: { path: 'notes.jsonl', sha256: await sha256File(inputPath), records: base.length, format: 'jsonl' },
    output: { path: 'train.jsonl', sha256: await sha256File(trainPath), records: records.length, format: 'jsonl' },
    textField: 'text', canaries, createdAt: new Date().toISOString(), toolVersion: '0.1.0',
  };
  manifestPath = join(dir, 'manifest.json');
  writeFileSync(manifestPath, JSON.stringify(manifest));
  policyPath = join(dir, 'policy.json');
  writeFileSync(policyPath, JSON.stringify({ ...defaultPolicy, name: 'dp-claim-test', requiredProbes: ['membership'], membership: { ...defaultPolicy.membership, attacks: ['loss'] } }));
  model = join(dir, 'model');
  const t = await runCli(['train', '--data', trainPath, '--model', 'charlm', '--dp', '--target-epsilon', '3', '--batch-size', '10', '--epochs', '1', '--context-length', '8', '--embedding-dim', '8', '--hidden', '16', '--out', model, '--sign-key', join(keys, 'memaudit.key'), '--seed', '5', '--backend', 'wasm'], { env: { MEMAUDIT_SIGNING_KEY: '' } });
  expect(t.code, t.stderr).toBe(0);
}, 300_000);

describe('audit records the DP claim check', () => {
  it('a signed, unedited DP model: ledger verified, provenance trusted, in report.json, report.md and the attestation', async () => {
    const { report, markdown, attestation } = await audit(model, 'run-ok');
    const ledger = JSON.parse(readFileSync(join(model, 'privacy.json'), 'utf8'));
    const keyid = JSON.parse((await runCli(['attest', 'verify', '--attestation', join(model, 'provenance.dsse.json'), '--key', join(keys, 'memaudit.pub'), '--json'])).stdout).keyid;
    expect(report.dpClaim).toEqual({ ledgerVerified: true, mismatches: [], recomputedEpsilon: expect.closeTo(ledger.epsilon.rdp, 6), provenance: 'trusted', provenanceKeyId: keyid });
    expect(report.results['dp-audit'].claimedEpsilon).toBeCloseTo(ledger.epsilon.rdp, 6);
    expect(markdown).toContain('| ledger recomputed and matched to the training config | verified |');
    expect(markdown).toMatch(/\| training provenance \| signed by a trusted key/);
    expect(attestation.predicate.dpClaim).toEqual(report.dpClaim);
  }, 300_000);

  it('privacy.json epsilon edited 3 -> 0.5: not verified (epsilon.rdp named), provenance invalid, dp-audit tests the recomputed epsilon', async () => {
    const edited = join(dir, 'edited');
    cpSync(model, edited, { recursive: true });
    const path = join(edited, 'privacy.json');
    const ledger = JSON.parse(readFileSync(path, 'utf8'));
    const recorded = ledger.epsilon.rdp;
    ledger.epsilon.rdp = 0.5;
    ledger.epsilonHistory.at(-1).epsilon = 0.5;
    writeFileSync(path, JSON.stringify(ledger, null, 2));
    const { r, report, markdown, html } = await audit(edited, 'run-edited');
    expect(report.dpClaim.ledgerVerified).toBe(false);
    expect(report.dpClaim.mismatches).toEqual([{ field: 'epsilon.rdp', ledger: '0.5', expected: expect.any(String) }]);
    expect(report.dpClaim.recomputedEpsilon).toBeCloseTo(recorded, 6);
    expect(report.dpClaim.provenance).toBe('invalid');
    expect(report.dpClaim.provenanceProblem).toMatch(/privacy\.json was modified/);
    expect(markdown).toContain('| mismatch: epsilon.rdp | ledger 0.5, expected');
    expect(markdown).toMatch(/\| training provenance \| INVALID .*privacy\.json was modified/);
    expect(html).toContain('mismatch: epsilon.rdp');
    // gate re-decides from the report with the DP claim evidence in it, to the same exit code.
    const gate = await runCli(['gate', '--report', join(dir, 'run-edited', 'report.json'), '--audit-log', join(dir, 'log.jsonl')]);
    expect(gate.code, gate.stderr).toBe(r.code);
    const da = report.results['dp-audit'];
    expect(da.claimedEpsilon).toBeCloseTo(recorded, 6);
    expect(da.recordedEpsilon).toBe(0.5);
    expect(da.note).toMatch(/privacy\.json records epsilon 0\.5 but its own parameters give/);
  }, 300_000);
});
