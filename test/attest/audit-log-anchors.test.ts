/**
 * The audit log against the heads audits sign: attacks by a writer who has the log but not the
 * signing key, each planted and caught; and the repository's own log left alone by test runs.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';
import { appendAuditLog, appendAuditLogAfter, auditLogHead, entryHash, verifyAuditLog, type AuditLogEntry } from '../../src/attest/audit-log.js';
import { attestStatement } from '../../src/attest/attestation.js';
import { loadSigningKey, writeKeyPair } from '../../src/attest/keys.js';
import { privacyAuditStatement } from '../../src/attest/predicate.js';
import { buildReport, serializeReport } from '../../src/report/assemble.js';
import { defaultPolicy } from '../../src/policy/load.js';
import { sha256Hex } from '../../src/core/hash.js';
import { cleanEvidence, target } from '../policy/fixtures.js';

async function keyPair(dir: string) {
  const pair = await writeKeyPair(join(dir, 'keys'));
  return { key: loadSigningKey(pair.privateKeyPath)!, pub: pair.publicKeyPath };
}

/** What runAudit does: compute the entry, sign the head that includes it, write, append. */
async function signedAudit(dir: string, log: string, key: ReturnType<typeof loadSigningKey>, name: string): Promise<string> {
  const { report, verdict } = buildReport({ ...cleanEvidence(), target, backend: 'wasm', seed: '1', startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:00:01.000Z' }, defaultPolicy());
  const reportSha = sha256Hex(serializeReport(report));
  const path = join(dir, `${name}.dsse.json`);
  await appendAuditLogAfter({ command: 'audit', verdict: verdict.verdict, exitCode: verdict.exitCode, outputs: [{ name: 'report.json', sha256: reportSha }] }, log, async (entry) => {
    const attestation = attestStatement(privacyAuditStatement(report, reportSha, { seq: entry.seq, hash: entry.hash }), key);
    writeFileSync(path, JSON.stringify(attestation.envelope));
    return { value: path, undo: () => rmSync(path) };
  });
  return path;
}

const readEntries = (log: string): AuditLogEntry[] => readFileSync(log, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as AuditLogEntry);

/** Rewrites the whole chain from the genesis hash, as a writer without the key can. */
function writeRecomputedChain(log: string, entries: AuditLogEntry[]): void {
  let prev = '0'.repeat(64);
  const out = entries.map((e, i) => {
    const { hash: _old, ...body } = { ...e, seq: i + 1, prev };
    const hash = entryHash(body);
    prev = hash;
    return JSON.stringify({ ...body, hash });
  });
  writeFileSync(log, out.join('\n') + '\n');
}

async function setUp() {
  const dir = tempDir();
  const log = join(dir, 'audit-log.jsonl');
  const { key, pub } = await keyPair(dir);
  appendAuditLog({ command: 'train' }, log);
  const first = await signedAudit(dir, log, key, 'first');
  appendAuditLog({ command: 'gate', verdict: 'NOT_PHI' }, log);
  const second = await signedAudit(dir, log, key, 'second');
  const verify = (...extra: string[]) => runCli(['audit-log', 'verify', '--audit-log', log, '--attestation', first, '--attestation', second, '--key', pub, '--json', ...extra]);
  return { dir, log, key, pub, first, second, verify };
}

describe('audit-log verify --attestation: the log against signed heads', () => {
  it('an attestation signs the head that includes its own audit entry, and the intact log verifies against it', async () => {
    const { log, verify } = await setUp();
    const entries = readEntries(log);
    expect(entries.map((e) => e.command)).toEqual(['train', 'audit', 'gate', 'audit']);
    expect(auditLogHead(log)).toEqual({ seq: 4, hash: entries[3]!.hash });
    const r = await verify();
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, entries: 4, anchors: { ok: true, anchoredSeqs: [2, 4], unanchoredTail: 0 } });
  });

  it('catches a chain recomputed by a writer without the key (the verdict of an audit entry rewritten)', async () => {
    const { log, verify } = await setUp();
    const entries = readEntries(log);
    entries[1] = { ...entries[1]!, verdict: entries[1]!.verdict === 'PHI' ? 'NOT_PHI' : 'PHI' };
    writeRecomputedChain(log, entries);
    // The chain alone cannot tell: it was recomputed consistently.
    expect(verifyAuditLog(log)).toMatchObject({ ok: true, entries: 4 });
    const r = await verify();
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).anchors.problem).toMatch(/^line 2: the entry is not the one .*first\.dsse\.json signs \(the log was rewritten\)$/);
  });

  it('catches a forged audit entry appended without the key, and a truncated log', async () => {
    const { log, verify } = await setUp();
    const honest = readFileSync(log);
    appendAuditLog({ command: 'audit', verdict: 'NOT_PHI', exitCode: 0 }, log);
    const forged = await verify();
    expect(forged.code).toBe(1);
    expect(JSON.parse(forged.stdout).anchors.problem).toMatch(/^line 5: an audit entry that no given attestation signs/);
    // Text output: one line on stderr naming the log and the problem.
    const text = await runCli(['audit-log', 'verify', '--audit-log', log, '--attestation', join(log, '..', 'second.dsse.json'), '--key', join(log, '..', 'keys', 'memaudit.pub')]);
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(/^memaudit audit-log verify: .*audit-log\.jsonl: line 2: an audit entry that no given attestation signs/);

    writeFileSync(log, honest.subarray(0, honest.indexOf('\n', honest.indexOf('"command":"gate"')) + 1));
    const truncated = await verify();
    expect(truncated.code).toBe(1);
    expect(JSON.parse(truncated.stdout).anchors.problem).toMatch(/second\.dsse\.json signs entry 4, but the log has only 3 entries/);
  });

  it('refuses an attestation signed by another key, and --attestation without --key', async () => {
    const { dir, log, first, second } = await setUp();
    const other = await writeKeyPair(join(dir, 'other'));
    const r = await runCli(['audit-log', 'verify', '--audit-log', log, '--attestation', first, '--attestation', second, '--key', other.publicKeyPath]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/first\.dsse\.json: no signature verifies with this public key/);
    const missingKey = await runCli(['audit-log', 'verify', '--audit-log', log, '--attestation', first]);
    expect(missingKey.code).toBe(2);
  });

  it('a log ending in a partial line is refused (exit 2) and left as it is', async () => {
    const { log } = await setUp();
    writeFileSync(log, readFileSync(log, 'utf8') + '{"actor":"ci","comm');
    const before = readFileSync(log);
    const r = await runCli(['gate', '--report', join(log, '..', 'missing.json'), '--audit-log', log]);
    expect(r.code).toBe(2);
    expect(() => appendAuditLog({ command: 'train' }, log)).toThrow(/the last line is incomplete \(an interrupted write\)/);
    expect(readFileSync(log).equals(before)).toBe(true);
    const v = await runCli(['audit-log', 'verify', '--audit-log', log]);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/line 5: the last line is incomplete/);
  });
});

describe('the repository audit log', () => {
  const repoLog = join(repoRoot, 'reports', 'audit-log.jsonl');
  const snapshot = () => (existsSync(repoLog) ? statSync(repoLog).mtimeMs + ':' + statSync(repoLog).size : 'absent');

  it('is untouched by a CLI run: tests append to a temporary log, and the default log is relative to the working directory', async () => {
    const before = snapshot();
    const dir = tempDir();
    const { report } = buildReport({ ...cleanEvidence(), target, backend: 'wasm', seed: '1', startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:00:01.000Z' }, defaultPolicy());
    writeFileSync(join(dir, 'report.json'), serializeReport(report));
    // The test helper's default (cwd = repository root) goes to a temporary log.
    expect((await runCli(['gate', '--report', join(dir, 'report.json')])).code).toBe(0);
    // No log flag or variable, cwd in a temporary folder: the default log lands there.
    const r = await runCli(['gate', '--report', join(dir, 'report.json')], { cwd: dir, env: { MEMAUDIT_AUDIT_LOG: undefined } });
    expect(r.code, r.stderr).toBe(0);
    expect(verifyAuditLog(join(dir, 'reports', 'audit-log.jsonl'))).toMatchObject({ ok: true, entries: 1 });
    expect(snapshot()).toBe(before);
  });
});
