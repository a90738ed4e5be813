import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { cliPath, runCli, tempDir } from '../helpers/cli.js';
import { freePort, noRedisReason, redisServerPath, startRedis, type TestRedis } from '../helpers/redis.js';
import { initBackend } from '../../src/core/backend.js';
import { Rng } from '../../src/core/rng.js';
import { readTrainingRecords, saveTrainedModel, trainModel } from '../../src/train/index.js';
import { jobKey, LocalPoolRunner, createJobRunner, useJobQueue, type JobSpec } from '../../src/jobs/index.js';
import { QUEUE_NAME, redactQueueUrl, redisOptionsFor } from '../../src/jobs/queue/connection.js';
import { decodeFailure, encodeFailure, parseQueuedJob } from '../../src/jobs/queue/protocol.js';
import { QueueRunner } from '../../src/jobs/queue/runner.js';

describe('queue addresses and job data (no Redis needed)', () => {
  it('never shows a password, and refuses what is not a redis URL with exit 2', () => {
    expect(redactQueueUrl('rediss://memaudit:hunter2@redis.internal:6380/1')).toBe('rediss://redis.internal:6380/1');
    expect(redactQueueUrl('redis://u:hun/ter2@h:1')).not.toContain('ter2');
    expect(redactQueueUrl('redis://:hunter2@h')).not.toContain('hunter2');
    expect(redisOptionsFor('rediss://u:p%40ss@h:6380/2')).toMatchObject({ host: 'h', port: 6380, username: 'u', password: 'p@ss', db: 2, tls: {} });
    for (const bad of ['http://h:6379', 'redis://u:hunter2@h:1/x', 'hunter2']) {
      let error: unknown;
      try {
        redisOptionsFor(bad);
      } catch (e) {
        error = e;
      }
      expect((error as { exitCode: number }).exitCode, bad).toBe(2);
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('memaudit worker: bad flags are one line, exit 2, without the password of the queue URL', async () => {
    for (const args of [
      ['worker', '--queue', 'redis://u:hunter2@127.0.0.1:1', '--concurrency', '0'],
      ['worker', '--queue', 'http://u:hunter2@127.0.0.1:1'],
      ['worker'],
    ]) {
      const r = await runCli(args, { env: { MEMAUDIT_QUEUE: '' } });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toContain('hunter2');
    }
  });

  it('memaudit worker: with Redis unreachable, /health says 503 and SIGTERM still stops it (exit 0)', async () => {
    const [deadPort, healthPort] = [await freePort(), await freePort()];
    const worker = startWorker(`redis://u:hunter2@127.0.0.1:${deadPort}`, ['--health-port', String(healthPort), '--health-host', '127.0.0.1']);
    await worker.waitFor(/ECONNREFUSED.*\(retrying\)/);
    const health = await fetch(`http://127.0.0.1:${healthPort}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'unavailable' });
    const t0 = Date.now();
    expect(await worker.stop()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(worker.log()).not.toContain('hunter2');
  }, 60_000);

  it('accepts only a well-formed job whose key and id are the content key of its spec; failures keep their exit code', () => {
    const spec: JobSpec = { version: 1, kind: 'train-shadow', seed: 's', payload: { a: 1 } };
    const key = jobKey(spec);
    expect(parseQueuedJob({ spec, key, store: '/store' }, key)).toEqual({ spec, key, store: '/store' });
    expect(() => parseQueuedJob('nope', key)).toThrow(/malformed job: its data is not a JSON object/);
    expect(() => parseQueuedJob({ spec: { kind: 'x' }, key, store: '/store' }, key)).toThrow(/"spec" must be a job spec/);
    expect(() => parseQueuedJob({ spec, key, store: 'relative' }, key)).toThrow(/"store" must be an absolute/);
    expect(() => parseQueuedJob({ spec: { ...spec, seed: 't' }, key, store: '/store' }, key)).toThrow(/content key/);
    expect(decodeFailure(encodeFailure(2, 'data.csv: line 3: bad'))).toEqual({ exitCode: 2, line: 'data.csv: line 3: bad' });
    expect(decodeFailure('some crash').exitCode).toBe(70);
  });

  it('runs on the local pool unless a queue is set', async () => {
    expect(await createJobRunner({ cacheDir: tempDir() })).toBeInstanceOf(LocalPoolRunner);
    useJobQueue({ url: 'redis://127.0.0.1:1', timeoutSeconds: 1 });
    try {
      expect(await createJobRunner({ cacheDir: tempDir() })).toBeInstanceOf(QueueRunner);
    } finally {
      useJobQueue(undefined);
    }
  });
});

/** A `memaudit worker` process with its log lines. */
interface TestWorker {
  child: ChildProcess;
  log: () => string;
  /** The first match of `pattern` in the log from character `from` on. */
  waitFor: (pattern: RegExp, from?: number) => Promise<RegExpExecArray>;
  stop: () => Promise<number | null>;
}

function startWorker(url: string, extra: string[] = []): TestWorker {
  const child = spawn(process.execPath, [cliPath, 'worker', '--queue', url, '--stalled-interval', '1000', '--backend', 'wasm', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const waitFor = (pattern: RegExp, from = 0, timeoutMs = 60_000) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const started = Date.now();
      const look = () => {
        const m = pattern.exec(log.slice(from));
        if (m) resolve(m);
        else if (Date.now() - started > timeoutMs || child.exitCode !== null) reject(new Error(`worker log never matched ${pattern}: ${log}`));
        else setTimeout(look, 50);
      };
      look();
    });
  const stop = () =>
    new Promise<number | null>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
      child.kill('SIGTERM');
    });
  return { child, log: () => log, waitFor, stop };
}

/** The probe result without its wall-clock fields: what must not depend on where the shadows ran. */
function figures(path: string): unknown {
  const { startedAt: _s, finishedAt: _f, ...rest } = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  return rest;
}

describe.skipIf(!redisServerPath)(`LiRA shadow models through a BullMQ queue${redisServerPath ? '' : ` (skipped: ${noRedisReason})`}`, () => {
  let redis: TestRedis;
  let dir: string;
  let workers: TestWorker[] = [];
  const probe = (out: string, extra: string[]) =>
    runCli(['probe', 'membership', '--target', 'model', '--manifest', 'manifest.json', '--out', out, '--shadows', '4', '--bootstrap', '20', '--seed', '3', '--backend', 'wasm', '--audit-log', 'log.jsonl', '--quiet', ...extra], { cwd: dir });
  const viaQueue = (out: string, store: string, extra: string[] = []) => probe(out, ['--queue', redis.url, '--job-store', store, ...extra]);

  beforeAll(async () => {
    redis = await startRedis();
    dir = tempDir();
    const rng = new Rng('queue-notes');
    const words = ['patient', 'seen', 'today', 'stable', 'no', 'new', 'complaints', 'plan', 'continue', 'meds'];
    writeFileSync(join(dir, 'notes.jsonl'), Array.from({ length: 60 }, () => JSON.stringify({ text: Array.from({ length: 6 }, () => rng.pick(words)).join(' ') })).join('\n') + '\n');
    const cli = (args: string[]) => runCli([...args, '--seed', '3', '--quiet'], { cwd: dir });
    expect((await cli(['canary', 'generate', '--pack', 'pin', '--count', '16', '--out', 'canaries.json'])).code).toBe(0);
    const insert = await cli(['canary', 'insert', '--data', 'notes.jsonl', '--canaries', 'canaries.json', '--repetitions', '2', '--mode', 'bernoulli', '--out', 'train.jsonl', '--manifest', 'manifest.json']);
    expect(insert.code, insert.stderr).toBe(0);
    await initBackend('wasm');
    // Shadows copy the target's configuration: a tiny char LM, about a second per shadow.
    const trained = await trainModel(
      { model: 'charlm', dp: false, clipNorm: 1, batchSize: 32, epochs: 2, learningRate: 0.01, optimizer: 'adam', accountant: 'rdp', seed: 'q', architecture: { contextLength: 8, embeddingDim: 8, hiddenUnits: [16] } },
      await readTrainingRecords(join(dir, 'train.jsonl')),
    );
    await saveTrainedModel(join(dir, 'model'), trained);
    trained.model.dispose();
    const local = await probe('local.json', ['--shadow-cache', 'local-cache']);
    expect(local.code, local.stderr).toBe(0);
  }, 180_000);

  afterAll(async () => {
    const codes = await Promise.all(workers.map((w) => w.stop()));
    await redis?.stop();
    // SIGTERM is a clean stop (the SIGKILLed worker has no exit code)
    expect(codes.filter((c) => c !== null)).toEqual(codes.filter((c) => c !== null).map(() => 0));
  }, 60_000);

  const shadowKeys = () => readdirSync(join(dir, 'local-cache')).filter((n) => !n.startsWith('.'));
  const sameShadows = (store: string) => {
    for (const key of shadowKeys()) {
      expect(readFileSync(join(dir, store, key, 'model', 'weights.bin')).equals(readFileSync(join(dir, 'local-cache', key, 'model', 'weights.bin'))), key).toBe(true);
    }
  };

  it('gives the local pool\'s LiRA figures and byte-identical shadows with 2 workers, answers /health, and a rerun reuses the store', async () => {
    const healthPort = await freePort();
    workers = [startWorker(redis.url, ['--health-port', String(healthPort), '--health-host', '127.0.0.1']), startWorker(redis.url)];
    await workers[0]!.waitFor(/health on http/);
    let health = await fetch(`http://127.0.0.1:${healthPort}/health`);
    for (let i = 0; i < 100 && health.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 100));
      health = await fetch(`http://127.0.0.1:${healthPort}/health`);
    }
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', redis: 'ready' });
    expect((await fetch(`http://127.0.0.1:${healthPort}/other`)).status).toBe(404);

    const run = await viaQueue('queue.json', 'store');
    expect(run.code, run.stderr).toBe(0);
    expect(figures(join(dir, 'queue.json'))).toEqual(figures(join(dir, 'local.json')));
    sameShadows('store');
    const served = workers.map((w) => (w.log().match(/: done in/g) ?? []).length);
    expect(served[0]! + served[1]!).toBe(4);

    const again = await viaQueue('again.json', 'store', ['--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).shadows).toMatchObject({ count: 4, trained: 0, cached: 4 });
  }, 180_000);

  it('retries the job of a worker killed with SIGKILL mid-shadow elsewhere, with the same result', async () => {
    await Promise.all(workers.map((w) => w.stop()));
    workers = [startWorker(redis.url), startWorker(redis.url)];
    const running = viaQueue('killed.json', 'store-killed');
    // The first worker to take a job is killed while it trains.
    const first = await Promise.race(workers.map((w, i) => w.waitFor(/job train-shadow ([0-9a-f]{12}): started/).then((m) => ({ i, key: m[1]! }))));
    workers[first.i]!.child.kill('SIGKILL');
    const survivor = workers[1 - first.i]!;
    const run = await running;
    expect(run.code, run.stderr).toBe(0);
    expect(survivor.log()).toMatch(new RegExp(`job train-shadow ${first.key}: done in`));
    expect(figures(join(dir, 'killed.json'))).toEqual(figures(join(dir, 'local.json')));
    sameShadows('store-killed');
  }, 180_000);

  it('fails the probe with the job\'s own error (exit 2, one line) on a deterministic failure, and rejects a malformed job, the worker serving on', async () => {
    writeFileSync(join(dir, 'bad-config.json'), JSON.stringify({ model: 'charlm', batchSize: 0 }));
    const run = await viaQueue('bad.json', 'store-bad', ['--shadow-config', 'bad-config.json']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^memaudit probe membership: job train-shadow [0-9a-f]{12}: --batch-size must be an integer >= 1 <= 10000000, got "0"$/m);
    expect(existsSync(join(dir, 'bad.json'))).toBe(false);

    const queue = new Queue(QUEUE_NAME, { connection: redisOptionsFor(redis.url) });
    try {
      const job = await queue.add('train-shadow', { spec: { kind: 'train-shadow' }, key: 'x', store: '/tmp' }, { jobId: 'malformed-1' });
      for (let i = 0; i < 200 && !(await job.isFailed()); i++) await new Promise((r) => setTimeout(r, 100));
      const failed = await queue.getJob('malformed-1');
      expect(failed!.failedReason).toMatch(/^\[exit 2\] malformed job: "spec" must be a job spec/);
    } finally {
      await queue.close();
    }
    const survivor = workers.find((w) => w.child.exitCode === null && w.child.signalCode === null)!;
    expect(survivor.log()).toMatch(/malformed job/);
    const rerun = await viaQueue('after.json', 'store', ['--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
  }, 180_000);

  it('a worker stopped with SIGTERM mid-job finishes that job, then exits 0', async () => {
    const alive = workers.find((w) => w.child.exitCode === null && w.child.signalCode === null)!;
    const before = alive.log().length;
    const running = viaQueue('sigterm.json', 'store-sigterm');
    const started = await alive.waitFor(/job train-shadow ([0-9a-f]{12}): started/, before);
    const exited = alive.stop();
    const fresh = startWorker(redis.url);
    workers.push(fresh);
    expect(await exited).toBe(0);
    expect(alive.log()).toMatch(new RegExp(`job train-shadow ${started[1]}: done in`));
    const run = await running;
    expect(run.code, run.stderr).toBe(0);
    expect(figures(join(dir, 'sigterm.json'))).toEqual(figures(join(dir, 'local.json')));
  }, 180_000);

  it('waits for a restarted Redis and resumes; gives up after --queue-timeout with one line, exit 2, no password shown', async () => {
    const running = viaQueue('restart.json', 'store-restart');
    const alive = workers.find((w) => w.child.exitCode === null && w.child.signalCode === null)!;
    const before = (alive.log().match(/: done in/g) ?? []).length;
    for (let i = 0; i < 600 && (alive.log().match(/: done in/g) ?? []).length === before; i++) await new Promise((r) => setTimeout(r, 100));
    await redis.stop(); // the queue is lost with it (no persistence): the submitter must queue its jobs again
    await new Promise((r) => setTimeout(r, 1500));
    await redis.start();
    const run = await running;
    expect(run.code, run.stderr).toBe(0);
    expect(figures(join(dir, 'restart.json'))).toEqual(figures(join(dir, 'local.json')));

    const deadPort = await freePort();
    const t0 = Date.now();
    const down = await probe('down.json', ['--queue', `redis://memaudit:hunter2@127.0.0.1:${deadPort}`, '--job-store', 'store-down', '--queue-timeout', '2']);
    expect(down.code).toBe(2);
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
    expect(down.stderr).toMatch(/queue redis:\/\/127\.0\.0\.1:\d+: Redis unreachable for 2 s \(--queue-timeout\)/);
    expect(down.stderr).not.toContain('hunter2');
    expect(existsSync(join(dir, 'down.json'))).toBe(false);
  }, 180_000);
});
