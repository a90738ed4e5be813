/**
 * Temporaries left by a killed run (SIGKILL cannot be caught, so nothing cleans up) hold training
 * data and canaries: the next run writing into the same folder removes those whose process is gone.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';
import { removeStaleTemps, tempPathFor, writeFileAtomic } from '../../src/core/atomic.js';

/** The pid of a process that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid!;
}

describe('stale temporary files', () => {
  it('are named with the owning pid, so a later run can tell whose they are', () => {
    const dir = tempDir();
    const temp = tempPathFor(join(dir, 'train.jsonl'));
    expect(temp).toMatch(new RegExp(`/\\.memaudit-tmp\\.${process.pid}\\.[0-9a-f]{8}\\.train\\.jsonl$`));
  });

  it('removes files and folders of dead processes only, and nothing it did not name', () => {
    const dir = tempDir();
    const dead = `.memaudit-tmp.${deadPid()}.0badc0de.train.jsonl`;
    const deadModel = `.memaudit-tmp.${deadPid()}.0badc0de.model`;
    const live = `.memaudit-tmp.${process.pid}.1234abcd.train.jsonl`;
    writeFileSync(join(dir, dead), '{"text":"MRN 4417-2291 canary"}\n');
    mkdirSync(join(dir, deadModel));
    writeFileSync(join(dir, deadModel, 'weights.bin'), 'w');
    writeFileSync(join(dir, live), 'in progress');
    writeFileSync(join(dir, '.notes.jsonl.123.tmp'), 'a user file');
    expect(removeStaleTemps(dir).sort()).toEqual([dead, deadModel].sort());
    expect(readdirSync(dir).sort()).toEqual(['.notes.jsonl.123.tmp', live].sort());
  });

  it('the next canary insert into the same folder removes the temporaries a killed one left', async () => {
    const dir = tempDir();
    const notes = join(dir, 'notes.jsonl');
    const canaries = join(dir, 'canaries.json');
    const out = join(dir, 'out');
    mkdirSync(out);
    writeFileAtomic(notes, Array.from({ length: 20 }, (_, i) => JSON.stringify({ text: `visit note ${i} for follow-up` })).join('\n') + '\n');
    expect((await runCli(['canary', 'generate', '--pack', 'mrn', '--count', '3', '--out', canaries, '--seed', '1', '--quiet'])).code).toBe(0);
    // What SIGKILL during `canary insert` leaves behind: the data with canaries, and the manifest.
    const stale = [`.memaudit-tmp.${deadPid()}.a1b2c3d4.train.jsonl`, `.memaudit-tmp.${deadPid()}.a1b2c3d5.manifest.json`];
    for (const name of stale) writeFileSync(join(out, name), 'training records with canary secrets');
    const r = await runCli(['canary', 'insert', '--data', notes, '--canaries', canaries, '--repetitions', '1', '--references', '1',
      '--out', join(out, 'train.jsonl'), '--manifest', join(out, 'manifest.json'), '--seed', '1', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['manifest.json', 'train.jsonl']);
    for (const name of stale) expect(existsSync(join(out, name))).toBe(false);
  });
});
