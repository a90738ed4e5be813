/**
 * Every command that writes, on a real full disk (a filled tmpfs): exit 2, one stderr line naming
 * the file the user asked for, and nothing partial left on the disk.
 */
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { mountFullDisk, type FullDisk } from '../helpers/full-disk.js';
import { appendAuditLog, verifyAuditLog } from '../../src/attest/audit-log.js';
import { buildReport, serializeReport } from '../../src/report/assemble.js';
import { defaultPolicy } from '../../src/policy/load.js';
import { cleanEvidence, target } from '../policy/fixtures.js';

const mounted = mountFullDisk();
const disk: FullDisk | null = 'dir' in mounted ? mounted : null;
let inputs: string;

/** Skips the test, saying why, when no full disk can be simulated here. */
function needsDisk(ctx: TestContext): FullDisk {
  if (!disk) ctx.skip((mounted as { unavailable: string }).unavailable);
  return disk!;
}

function expectCleanFailure(r: CliResult, command: string, path: string): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toBe(`memaudit ${command}: ${path}: cannot write (no space left on the device)`);
  // Only the filler is on the disk: no output, no temporary, no folder created for the output.
  expect(readdirSync(disk!.dir)).toEqual(['filler']);
}

beforeAll(async () => {
  inputs = tempDir();
  const run = async (args: string[]) => {
    const r = await runCli([...args, '--seed', '1', '--quiet'], { env: { MEMAUDIT_AUDIT_LOG: join(inputs, 'log.jsonl') } });
    if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  };
  await run(['synth', 'notes', '--count', '40', '--out', join(inputs, 'notes.jsonl')]);
  await run(['canary', 'generate', '--pack', 'mrn', '--count', '4', '--out', join(inputs, 'canaries.json')]);
  await run(['canary', 'insert', '--data', join(inputs, 'notes.jsonl'), '--canaries', join(inputs, 'canaries.json'), '--repetitions', '1,2', '--references', '2',
    '--out', join(inputs, 'train.jsonl'), '--manifest', join(inputs, 'manifest.json')]);
  await run(['train', '--data', join(inputs, 'train.jsonl'), '--out', join(inputs, 'model'), '--epochs', '0.5', '--batch-size', '16', '--hidden', '8', '--embedding-dim', '4', '--backend', 'wasm']);
  const { report } = buildReport({ ...cleanEvidence(), target, backend: 'wasm', seed: '1', startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:00:01.000Z' }, defaultPolicy());
  writeFileSync(join(inputs, 'report.json'), serializeReport(report));
  writeFileSync(join(inputs, 'policy.json'), JSON.stringify({ ...defaultPolicy().policy, name: 'exposure-only', requiredProbes: ['exposure'] }));
  disk?.fill();
}, 120_000);

afterAll(() => disk?.unmount());

describe('a full disk: exit 2, one line naming the file, nothing partial', () => {
  it('canary generate', async (ctx) => {
    const out = join(needsDisk(ctx).dir, 'canaries.json');
    expectCleanFailure(await runCli(['canary', 'generate', '--pack', 'mrn', '--count', '6', '--out', out]), 'canary generate', out);
  });

  it('attest keygen', async (ctx) => {
    const out = join(needsDisk(ctx).dir, 'keys');
    expectCleanFailure(await runCli(['attest', 'keygen', '--out', out]), 'attest keygen', join(out, 'memaudit.key'));
  });

  it('gate --junit', async (ctx) => {
    const out = join(needsDisk(ctx).dir, 'junit.xml');
    const r = await runCli(['gate', '--report', join(inputs, 'report.json'), '--junit', out, '--audit-log', join(inputs, 'gate-log.jsonl')]);
    expectCleanFailure(r, 'gate', out);
  });

  it('train', async (ctx) => {
    const out = join(needsDisk(ctx).dir, 'model');
    const r = await runCli(['train', '--data', join(inputs, 'train.jsonl'), '--out', out, '--epochs', '0.2', '--batch-size', '16', '--hidden', '8', '--embedding-dim', '4', '--backend', 'wasm', '--audit-log', join(inputs, 'train-log.jsonl')]);
    expectCleanFailure(r, 'train', out);
  });

  it('audit', async (ctx) => {
    const out = join(needsDisk(ctx).dir, 'run');
    const log = join(inputs, 'audit-log.jsonl');
    const r = await runCli(['audit', '--target', join(inputs, 'model'), '--manifest', join(inputs, 'manifest.json'), '--policy', join(inputs, 'policy.json'), '--out', out,
      '--backend', 'wasm', '--seed', '1', '--audit-log', log]);
    expectCleanFailure(r, 'audit', join(out, 'report.json'));
    // No outputs, so no entry: the log never names an attestation that does not exist.
    expect(() => statSync(log)).toThrow();
  });

  it('the audit log: a short write is undone and reported, and the next run appends normally', async (ctx) => {
    const { dir } = needsDisk(ctx);
    const log = join(dir, 'audit-log.jsonl');
    const filler = join(dir, 'filler');
    writeFileSync(filler, '');
    // tmpfs allocates whole pages: leave the log's last page 100 bytes short of full, so the next
    // entry lands partly (those 100 bytes) and the disk refuses the rest.
    appendAuditLog({ command: 'train' }, log, { MEMAUDIT_ACTOR: 'ci' });
    const one = statSync(log).size;
    appendAuditLog({ command: 'train', purpose: 'x' }, log, { MEMAUDIT_ACTOR: 'ci' });
    const entryWithOneCharPurpose = statSync(log).size - one;
    const padding = (((4096 - 100 - statSync(log).size - entryWithOneCharPurpose + 1) % 4096) + 4096) % 4096 || 4096;
    appendAuditLog({ command: 'train', purpose: 'x'.repeat(padding) }, log, { MEMAUDIT_ACTOR: 'ci' });
    expect(4096 - (statSync(log).size % 4096)).toBe(100);
    disk!.fill();
    const bytes = readFileSync(log);
    const r = await runCli(['gate', '--report', join(inputs, 'report.json'), '--audit-log', log]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      `memaudit gate: ${log}: cannot write (no space left on the device); audit log entry 4 was not appended and the log is unchanged`,
    ]);
    expect(readFileSync(log).equals(bytes)).toBe(true);
    expect(verifyAuditLog(log)).toMatchObject({ ok: true, entries: 3 });
    // Space again: the next run appends after the intact entries.
    writeFileSync(filler, '');
    const again = await runCli(['gate', '--report', join(inputs, 'report.json'), '--audit-log', log]);
    expect(again.code, again.stderr).toBe(0);
    expect(verifyAuditLog(log)).toMatchObject({ ok: true, entries: 4 });
  });
});

describe('an output path that cannot be a file: exit 2, one line naming it', () => {
  it('a file where the output folder should be', async () => {
    const dir = tempDir();
    const blocker = join(dir, 'not-a-folder');
    writeFileSync(blocker, 'a user file');
    const cases: [string[], string, string][] = [
      [['canary', 'generate', '--pack', 'mrn', '--count', '3', '--out', join(blocker, 'c.json')], 'canary generate', join(blocker, 'c.json')],
      [['attest', 'keygen', '--out', join(blocker, 'keys')], 'attest keygen', join(blocker, 'keys', 'memaudit.key')],
      [['synth', 'notes', '--count', '3', '--out', join(blocker, 'n.jsonl')], 'synth notes', join(blocker, 'n.jsonl')],
    ];
    for (const [args, command, path] of cases) {
      const r = await runCli(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(new RegExp(`^memaudit ${command}: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot write \\(`))]);
    }
    expect(readdirSync(dir)).toEqual(['not-a-folder']);
  });

  it('an audit log that cannot be written: exit 2 naming the log, before any result is printed, and the outputs are removed', async () => {
    const dir = tempDir();
    const blocker = join(dir, 'not-a-folder');
    writeFileSync(blocker, 'a user file');
    const log = join(blocker, 'audit-log.jsonl');
    const junit = join(dir, 'junit.xml');
    const model = join(dir, 'model');
    const runs: [string[], string][] = [
      [['gate', '--report', join(inputs, 'report.json'), '--junit', junit, '--audit-log', log, '--json'], 'gate'],
      [['train', '--data', join(inputs, 'train.jsonl'), '--out', model, '--epochs', '0.2', '--batch-size', '16', '--hidden', '8', '--embedding-dim', '4', '--backend', 'wasm', '--audit-log', log, '--json'], 'train'],
    ];
    for (const [args, command] of runs) {
      const r = await runCli(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n')).toEqual([`memaudit ${command}: ${log}: cannot write (a file is in the way of its folder)`]);
    }
    expect(readdirSync(dir)).toEqual(['not-a-folder']);
  });
});
