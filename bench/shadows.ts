/**
 * Shadow-model training as pool jobs: 8 LiRA shadows (char LM) with --workers 2 vs --workers 1,
 * each run on a fresh cache so every job really trains (worker start-up included). The two
 * settings alternate over ROUNDS rounds and the ratio is of the total times, so a change in
 * machine load during the run does not land on one setting only.
 *
 * LiRA shadows mirror the target's training configuration, so the shadows train like a small
 * real target: the no-DP model of `memaudit demo` (default char-LM architecture, batch 16, its
 * epochs) on about 120 notes each, a couple of seconds per shadow on wasm. (A toy 0.45 s shadow
 * would measure mostly the fixed per-worker start-up, which the `fixed cost` row reports apart.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentBackend } from '../src/core/backend.js';
import { Rng } from '../src/core/rng.js';
import { runJobs, type Json } from '../src/jobs/index.js';
import { candidatesFromFiles } from '../probes/membership/candidates.js';
import { shadowJobs } from '../probes/membership/shadows.js';
import { demoPlan } from '../src/demo/plan.js';
import type { BenchSuite } from './suite.js';

const SHADOWS = 8;
const ROUNDS = 2;

export function notes(rng: Rng, count: number): string {
  const words = ['patient', 'seen', 'today', 'follow', 'up', 'stable', 'no', 'new', 'complaints', 'bp', 'normal', 'plan', 'continue', 'meds', 'mrn'];
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = 6 + rng.int(6);
    lines.push(Array.from({ length: n }, () => rng.pick(words)).join(' ') + ' ' + String(rng.int(1e6)).padStart(6, '0'));
  }
  return lines.join('\n') + '\n';
}

/**
 * Control: how much parallelism the machine gives right now. The same pure-JS loop on 1 and on 2
 * threads at once; the ratio of throughputs is the ceiling any worker pool can reach here.
 */
export async function availableParallelism(): Promise<number> {
  const loop = `let x = 0; for (let i = 0; i < 1.5e8; i++) x += Math.sqrt(i ^ (x & 1023)); require('node:worker_threads').parentPort.postMessage(x);`;
  const run = (threads: number) =>
    Promise.all(
      Array.from({ length: threads }, () => new Promise<void>((resolve, reject) => {
        const w = new Worker(loop, { eval: true });
        w.once('message', () => void w.terminate().then(() => resolve()));
        w.once('error', reject);
      })),
    );
  const t0 = performance.now();
  await run(1);
  const one = performance.now() - t0;
  const t1 = performance.now();
  await run(2);
  const two = performance.now() - t1;
  return (2 * one) / two;
}

export const shadowsSuite: BenchSuite = {
  name: 'shadows',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'memaudit-bench-shadows-'));
    try {
      const rng = new Rng('bench-shadows');
      const members = join(dir, 'members.txt');
      const nonMembers = join(dir, 'non-members.txt');
      writeFileSync(members, notes(rng, 120));
      writeFileSync(nonMembers, notes(rng, 120));
      const set = await candidatesFromFiles(members, nonMembers, 'lm');
      const target = demoPlan(false).runs.find((r) => r.name === 'no-dp')!.train;
      const train = JSON.parse(JSON.stringify(target)) as Json;
      const backend = currentBackend().backend;
      const { specs } = shadowJobs(set, { count: SHADOWS, workers: 1, cacheDir: dir, backend, train });
      let round = 0;
      // Fixed cost of a 1-worker run: its first job's time (from dispatch, so worker spawn, backend
      // init and handler import included) less the median of the later, warm jobs.
      let fixed = 0;
      const time = async (workers: number): Promise<number> => {
        const cacheDir = join(dir, `cache-${workers}-${round++}`);
        const t0 = performance.now();
        const outcomes = await runJobs(specs, { workers, cacheDir, backend });
        const ms = performance.now() - t0;
        if (outcomes.some((o) => o.cached)) throw new Error('bench: a shadow came from the cache');
        if (workers === 1) {
          const warm = outcomes.slice(1).map((o) => o.ms).sort((a, b) => a - b);
          fixed += (outcomes[0]!.ms - warm[Math.floor(warm.length / 2)]!) / ROUNDS;
        }
        return ms;
      };
      let one = 0;
      let two = 0;
      for (let r = 0; r < ROUNDS; r++) {
        one += (await time(1)) / ROUNDS;
        two += (await time(2)) / ROUNDS;
      }
      const ratio = one / two;
      const control = await availableParallelism();
      return [
        { area: 'membership', figure: 'control: CPU parallelism available (pure-JS loop, 2 threads vs 1)', value: control, unit: 'x' },
        { area: 'membership', figure: 'fixed cost per worker: spawn + tfjs/wasm init + handler import + first-job warm-up', value: fixed / 1000, unit: 's' },
        { area: 'membership', figure: `${SHADOWS} shadow models (demo no-DP config, ~120 notes each), 1 worker`, value: one / 1000, unit: 's' },
        { area: 'membership', figure: `${SHADOWS} shadow models (demo no-DP config, ~120 notes each), 2 workers`, value: two / 1000, unit: 's' },
        { area: 'membership', figure: `shadow training speed-up, --workers 2 vs 1 (${SHADOWS} shadows)`, value: ratio, unit: 'x', target: '>= 1.6', pass: ratio >= 1.6 },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
