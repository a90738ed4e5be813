/**
 * Shadow models through the BullMQ queue (a private redis-server, `memaudit worker` processes):
 * the 8 LiRA shadows of the `shadows` suite with 2 worker processes vs 1, and the queue's overhead
 * per job against the local pool with one worker thread, all in the same run.
 *
 * Each setting has its own Redis database and its own warm worker processes (started, and given one
 * untimed batch, before timing: a worker is a long-running service), and every timed batch uses a
 * fresh job store so every job really trains. Settings alternate over ROUNDS rounds and ratios are
 * of the total times, so a change in machine load does not land on one setting only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { currentBackend } from '../src/core/backend.js';
import { Rng } from '../src/core/rng.js';
import { LocalPoolRunner, type JobSpec, type Json } from '../src/jobs/index.js';
import { QueueRunner } from '../src/jobs/queue/runner.js';
import { candidatesFromFiles } from '../probes/membership/candidates.js';
import { shadowJobs } from '../probes/membership/shadows.js';
import { demoPlan } from '../src/demo/plan.js';
import { noRedisReason, redisServerPath, startRedis } from '../test/helpers/redis.js';
import { availableParallelism, notes } from './shadows.js';
import type { BenchRow, BenchSuite } from './suite.js';

const SHADOWS = 8;
const ROUNDS = 2;
const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function startWorker(url: string, backend: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'worker', '--queue', url, '--backend', backend], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('serving')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`bench: worker exited with code ${code}: ${log}`)));
  });
}

async function benchSpecs(dir: string): Promise<JobSpec[]> {
  const rng = new Rng('bench-shadows');
  const members = join(dir, 'members.txt');
  const nonMembers = join(dir, 'non-members.txt');
  writeFileSync(members, notes(rng, 120));
  writeFileSync(nonMembers, notes(rng, 120));
  const set = await candidatesFromFiles(members, nonMembers, 'lm');
  const train = JSON.parse(JSON.stringify(demoPlan(false).runs.find((r) => r.name === 'no-dp')!.train)) as Json;
  return shadowJobs(set, { count: SHADOWS, workers: 1, cacheDir: dir, backend: currentBackend().backend, train }).specs;
}

export const queueSuite: BenchSuite = {
  name: 'queue',
  async run(): Promise<BenchRow[]> {
    if (!redisServerPath) {
      process.stderr.write(`bench: queue suite skipped: ${noRedisReason}\n`);
      return [];
    }
    const dir = mkdtempSync(join(tmpdir(), 'memaudit-bench-queue-'));
    const redis = await startRedis();
    const workers: ChildProcess[] = [];
    try {
      const backend = currentBackend().backend;
      const specs = await benchSpecs(dir);
      const url = (db: number) => `${redis.url}/${db}`;
      for (const [db, count] of [[1, 1], [2, 2]] as const) for (let i = 0; i < count; i++) workers.push(await startWorker(url(db), backend));
      let batch = 0;
      const time = async (setting: 'local' | 1 | 2): Promise<number> => {
        const store = join(dir, `store-${setting}-${batch++}`);
        const runner = setting === 'local' ? new LocalPoolRunner({ workers: 1, cacheDir: store, backend }) : new QueueRunner({ url: url(setting), store, timeoutSeconds: 60 });
        const t0 = performance.now();
        const outcomes = await runner.run(specs);
        if (outcomes.some((o) => o.cached)) throw new Error('bench: a shadow came from the job store');
        return performance.now() - t0;
      };
      await time(1);
      await time(2);
      const total = { local: 0, 1: 0, 2: 0 };
      for (let r = 0; r < ROUNDS; r++) for (const setting of ['local', 1, 2] as const) total[setting] += (await time(setting)) / ROUNDS;
      const speedup = total[1] / total[2];
      const overhead = (total[1] - total.local) / total.local;
      const control = await availableParallelism();
      return [
        { area: 'queue', figure: 'control: CPU parallelism available (pure-JS loop, 2 threads vs 1)', value: control, unit: 'x' },
        { area: 'queue', figure: `${SHADOWS} shadow models (demo no-DP config), local pool, 1 worker thread`, value: total.local / 1000, unit: 's' },
        { area: 'queue', figure: `${SHADOWS} shadow models through the queue, 1 worker process`, value: total[1] / 1000, unit: 's' },
        { area: 'queue', figure: `${SHADOWS} shadow models through the queue, 2 worker processes`, value: total[2] / 1000, unit: 's' },
        { area: 'queue', figure: `queue speed-up, 2 worker processes vs 1 (${SHADOWS} shadows)`, value: speedup, unit: 'x', target: '>= 1.6', pass: speedup >= 1.6 },
        { area: 'queue', figure: 'queue overhead per job vs the local pool (1 worker each)', value: overhead * 100, unit: '%', target: '<= 5', pass: overhead <= 0.05 },
      ];
    } finally {
      for (const w of workers) w.kill('SIGTERM');
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
