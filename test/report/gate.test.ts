import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'node-html-parser';
import { runCli, tempDir } from '../helpers/cli.js';
import { buildReport, serializeReport } from '../../src/report/assemble.js';
import { defaultPolicy } from '../../src/policy/load.js';
import type { AuditEvidence } from '../../src/policy/evidence.js';
import { cleanEvidence, exposure, manifest, target } from '../policy/fixtures.js';
import { sha256Hex } from '../../src/core/hash.js';
import { loadSigningKey, writeKeyPair } from '../../src/attest/keys.js';
import { attestStatement } from '../../src/attest/attestation.js';
import { privacyAuditStatement } from '../../src/attest/predicate.js';
import { readReport } from '../../src/report/assemble.js';

function writeReport(dir: string, e: AuditEvidence = cleanEvidence()): string {
  const { report } = buildReport({ ...e, target, backend: 'wasm', seed: '1', startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:00:01.000Z' }, defaultPolicy());
  const path = join(dir, 'report.json');
  writeFileSync(path, serializeReport(report));
  return path;
}

describe('gate (CLI)', () => {
  it('decides an old report (estimates without intervals) conservatively, and states the coverage a policy asks for', async () => {
    const dir = tempDir();
    const old = cleanEvidence();
    const ex = old.results.exposure!;
    ex.mode = 'estimated';
    for (const c of ex.canaries) Object.assign(c, { method: 'estimated', estimator: 'skew-normal', exposureBits: 1 });
    const inconclusive = await runCli(['gate', '--report', writeReport(dir, old), '--json']);
    expect(inconclusive.code).toBe(3);
    expect(JSON.parse(inconclusive.stdout).reasons).toContainEqual(expect.objectContaining({ metric: 'exceedingFraction@1x', message: expect.stringMatching(/200 have intervals straddling 10 bits or unresolved/) }));

    const exposed = cleanEvidence();
    exposed.results.exposure = exposure((r, i) => (r === 16 && i < 100 ? 29 : 1), exposed.manifest);
    const upTo4 = join(dir, 'up-to-4.json');
    writeFileSync(upTo4, JSON.stringify({ ...defaultPolicy().policy, name: 'up-to-4', coverage: { repetitions: [1, 4] } }));
    const report = writeReport(dir, exposed);
    const pass = await runCli(['gate', '--report', report, '--policy', upTo4]);
    expect(pass.code, pass.stderr).toBe(0);
    expect(pass.stdout).toMatch(/NOT_PHI for records that occur up to 4 times/);
    expect(pass.stdout).toMatch(/records repeated 16 times are exposed/);
    expect((await runCli(['gate', '--report', report])).code).toBe(1);
  });

  it('re-decides from a report: 0 under its own policy, 1 under a stricter one, with JUnit and GitHub annotations', async () => {
    const dir = tempDir();
    const log = join(dir, 'audit-log.jsonl');
    const report = writeReport(dir);
    const pass = await runCli(['gate', '--report', report, '--audit-log', log, '--json']);
    expect(pass.code, pass.stderr).toBe(0);
    expect(JSON.parse(pass.stdout)).toMatchObject({ verdict: 'NOT_PHI', previousVerdict: 'NOT_PHI' });

    const strict = join(dir, 'strict.json');
    writeFileSync(strict, JSON.stringify({ ...defaultPolicy().policy, name: 'strict', dp: { ...defaultPolicy().policy.dp, required: true } }));
    const junit = join(dir, 'junit.xml');
    const fail = await runCli(['gate', '--report', report, '--policy', strict, '--junit', junit, '--audit-log', log, '--purpose', 'REL-42'], { env: { GITHUB_ACTIONS: 'true' } });
    expect(fail.code).toBe(1);
    expect(fail.stdout).toMatch(/^::error file=.*report.json,title=memaudit PHI%3A dp-ledger epsilon::the model was trained without DP/m);
    const xml = parse(readFileSync(junit, 'utf8'));
    const failures = xml.querySelectorAll('testcase failure');
    expect(failures.map((f) => f.getAttribute('type'))).toEqual(['PHI']);
    expect(xml.querySelector('testsuites')!.getAttribute('failures')).toBe('1');

    // Both runs are in the audit log, which verifies.
    const entries = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(entries.map((e) => [e.command, e.verdict, e.exitCode, e.purpose])).toEqual([
      ['gate', 'NOT_PHI', 0, null],
      ['gate', 'PHI', 1, 'REL-42'],
    ]);
    const v = await runCli(['audit-log', 'verify', '--audit-log', log]);
    expect(v.code).toBe(0);
    writeFileSync(log, readFileSync(log, 'utf8').replace('REL-42', 'REL-43'));
    const broken = await runCli(['audit-log', 'verify', '--audit-log', log]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/line 2: the entry does not match its hash/);
  });

  it('exits 3 when the report lacks power, without annotations outside GitHub Actions', async () => {
    const dir = tempDir();
    const e = cleanEvidence();
    e.manifest = manifest(2, 1200);
    e.results.exposure = exposure(() => 1, e.manifest);
    const r = await runCli(['gate', '--report', writeReport(dir, e), '--audit-log', join(dir, 'log.jsonl')], { env: { GITHUB_ACTIONS: '' } });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/INCONCLUSIVE/);
    expect(r.stdout).not.toMatch(/::error/);
  });

  it('a bad report or policy is one line, exit 2, and nothing is logged', async () => {
    const dir = tempDir();
    const log = join(dir, 'log.jsonl');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ version: 1 }));
    const r = await runCli(['gate', '--report', bad, '--audit-log', log]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/bad.json: \/: must have required property/);
    const p = join(dir, 'p.json');
    writeFileSync(p, JSON.stringify({ ...defaultPolicy().policy, alpha: 2 }));
    const r2 = await runCli(['gate', '--report', writeReport(dir), '--policy', p, '--audit-log', log]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/p.json: \/alpha: must be <= 0.2/);
    const missing = await runCli(['gate', '--audit-log', log]);
    expect(missing.code).toBe(2);
    expect(() => readFileSync(log)).toThrow();
  });
});

describe('gate --attestation --key (CLI)', () => {
  /** A report and its attestation as `audit` writes them, signed with a fresh key (or unsigned). */
  async function signedRun(dir: string, sign = true) {
    const keys = await writeKeyPair(join(dir, 'keys'));
    const report = writeReport(dir);
    const json = readFileSync(report, 'utf8');
    const attestation = join(dir, 'attestation.dsse.json');
    const { envelope } = attestStatement(privacyAuditStatement(readReport(report), sha256Hex(json), null), sign ? loadSigningKey(keys.privateKeyPath) : null);
    writeFileSync(attestation, JSON.stringify(envelope));
    return { report, attestation, pub: keys.publicKeyPath, dir };
  }

  it('decides a report the signed attestation vouches for, and is documented in --help', async () => {
    const r = await signedRun(tempDir());
    const g = await runCli(['gate', '--report', r.report, '--attestation', r.attestation, '--key', r.pub, '--json']);
    expect(g.code, g.stderr).toBe(0);
    expect(JSON.parse(g.stdout)).toMatchObject({ verdict: 'NOT_PHI', attestation: { path: r.attestation, reportSha256: sha256Hex(readFileSync(r.report, 'utf8')) } });
    const help = await runCli(['gate', '--help']);
    expect(help.stdout).toMatch(/--attestation/);
    expect(help.stdout).toMatch(/--key/);
  });

  it('fails (exit 1, one line, nothing logged) on an edited report, another key, or an unsigned attestation', async () => {
    const r = await signedRun(tempDir());
    const log = join(r.dir, 'log.jsonl');
    // An edited report: the verdict says NOT_PHI still, but it is not the attested report.
    writeFileSync(r.report, readFileSync(r.report, 'utf8').replace('"seed": "1"', '"seed": "2"'));
    const edited = await runCli(['gate', '--report', r.report, '--attestation', r.attestation, '--key', r.pub, '--audit-log', log]);
    expect(edited.code).toBe(1);
    expect(edited.stderr.trim().split('\n')).toEqual([expect.stringMatching(/report.json: sha256 [0-9a-f]{64} is not the report attested in .*attestation.dsse.json/)]);
    expect(edited.stdout).toBe('');

    const other = await writeKeyPair(join(r.dir, 'other'));
    const fresh = await signedRun(tempDir());
    const wrongKey = await runCli(['gate', '--report', fresh.report, '--attestation', fresh.attestation, '--key', other.publicKeyPath, '--audit-log', log]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr.trim().split('\n')).toHaveLength(1);

    const unsigned = await signedRun(tempDir(), false);
    const u = await runCli(['gate', '--report', unsigned.report, '--attestation', unsigned.attestation, '--key', unsigned.pub, '--audit-log', log]);
    expect(u.code).toBe(1);
    expect(u.stderr.trim().split('\n')).toHaveLength(1);
    expect(() => readFileSync(log)).toThrow();

    const alone = await runCli(['gate', '--report', fresh.report, '--attestation', fresh.attestation]);
    expect(alone.code).toBe(2);
  });
});

describe('audit (CLI) bad input', () => {
  it('a missing manifest, a bad policy or a malformed --probe-option is one line, exit 2, nothing written or logged', async () => {
    const dir = tempDir();
    const log = join(dir, 'log.jsonl');
    const out = join(dir, 'run');
    const base = ['audit', '--target', join(dir, 'model'), '--out', out, '--audit-log', log];
    const m = await runCli([...base, '--manifest', join(dir, 'missing.json')]);
    expect(m.code).toBe(2);
    expect(m.stderr.trim().split('\n')).toEqual([expect.stringMatching(/missing.json: file not found/)]);
    const p = join(dir, 'p.json');
    writeFileSync(p, '{"version": 2}');
    const bad = await runCli([...base, '--manifest', join(dir, 'missing.json'), '--policy', p]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/p.json: \/: must have required property/);
    const opt = await runCli([...base, '--manifest', join(dir, 'missing.json'), '--probe-option', 'nonsense']);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toMatch(/--probe-option must look like PROBE.OPTION=VALUE/);
    expect(() => readFileSync(log)).toThrow();
    expect(() => readFileSync(join(out, 'report.json'))).toThrow();
  });
});
