import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, tempDir } from '../helpers/cli.js';
import { jobKey, runJobs, type JobSpec } from '../../src/jobs/index.js';
import { ExitCode, MemauditError } from '../../src/core/errors.js';

const handlersModule = join(repoRoot, 'test', 'jobs', 'fixtures', 'handlers.mjs');
const spin = (seed: string, ms = 50): JobSpec => ({ version: 1, kind: 'spin', seed, payload: { ms, input: { path: `/data/${seed}`, sha256: 'abc' } } });

describe('job keys', () => {
  it('depend on content digests, config and seed, not on file locations', () => {
    const a = spin('1');
    const moved: JobSpec = { ...a, payload: { ms: 50, input: { path: '/elsewhere/file', sha256: 'abc' } } };
    const changed: JobSpec = { ...a, payload: { ms: 50, input: { path: '/data/1', sha256: 'abd' } } };
    expect(jobKey(moved)).toBe(jobKey(a));
    expect(jobKey(changed)).not.toBe(jobKey(a));
    expect(jobKey(spin('2'))).not.toBe(jobKey(a));
    expect(jobKey(spin('1', 51))).not.toBe(jobKey(a));
  });
});

describe('local worker pool', () => {
  it('runs jobs on several worker threads, returns outcomes in spec order, and reuses the cache on a rerun', async () => {
    const cacheDir = tempDir();
    const specs = ['a', 'b', 'c', 'd', 'a'].map((s) => spin(s));
    const progress: number[] = [];
    const first = await runJobs(specs, { workers: 2, cacheDir, backend: 'cpu', handlersModule, onProgress: (p) => progress.push(p.done) });
    expect(first.map((o) => (o.result as { seed: string }).seed)).toEqual(['a', 'b', 'c', 'd', 'a']);
    expect(first.every((o) => !o.cached)).toBe(true);
    expect(first[4]!.dir).toBe(first[0]!.dir); // identical specs run once
    expect(progress).toEqual([1, 2, 3, 4]);
    expect(new Set(first.map((o) => (o.result as { thread: number }).thread)).size).toBe(2);
    for (const o of first) {
      expect(readFileSync(join(o.dir, 'out.txt'), 'utf8')).toBe(`seed ${(o.result as { seed: string }).seed}\n`);
      expect(JSON.parse(readFileSync(join(o.dir, 'job.json'), 'utf8')).key).toBe(o.key);
    }
    const second = await runJobs(specs, { workers: 2, cacheDir, backend: 'cpu', handlersModule });
    expect(second.every((o) => o.cached && o.ms === 0)).toBe(true);
    expect(second.map((o) => o.dir)).toEqual(first.map((o) => o.dir));
    // nothing temporary left behind
    expect(readdirSync(cacheDir).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('stops at the first failure with one line, its exit-code class, and nothing partial in the cache', async () => {
    const cacheDir = tempDir();
    const errorsModule = join(repoRoot, 'dist', 'src', 'core', 'errors.js');
    const bad: JobSpec = { version: 1, kind: 'fail', seed: '1', payload: { errorsModule, file: 'members.txt' } };
    const error = await runJobs([spin('x', 200), bad], { workers: 2, cacheDir, backend: 'cpu', handlersModule }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemauditError);
    expect((error as MemauditError).exitCode).toBe(ExitCode.usage);
    expect((error as Error).message).toMatch(/^job fail [0-9a-f]{12}: members\.txt: line 3: bad record$/);
    expect(existsSync(join(cacheDir, jobKey(bad)))).toBe(false);
    expect(readdirSync(cacheDir).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('refuses an unknown job kind and a bad worker count', async () => {
    const cacheDir = tempDir();
    await expect(runJobs([{ version: 1, kind: 'nope', seed: '1', payload: null }], { cacheDir, backend: 'cpu', handlersModule })).rejects.toThrow(/unknown job kind "nope"/);
    await expect(runJobs([], { cacheDir, workers: 0 })).rejects.toThrow(/--workers must be a positive integer/);
  });
});
