/**
 * Shadow-model training as pool jobs: 8 LiRA shadows (char LM) with --workers 2 vs --workers 1,
 * each run on a fresh cache so every job really trains (worker start-up included). The two
 * settings alternate over ROUNDS rounds and the ratio is of the total times, so a change in
 * machine load during the run does not land on one setting only.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentBackend } from '../src/core/backend.js';
import { Rng } from '../src/core/rng.js';
import { runJobs } from '../src/jobs/index.js';
import { candidatesFromFiles } from '../probes/membership/candidates.js';
import { shadowJobs } from '../probes/membership/shadows.js';
import type { BenchSuite } from './suite.js';

const SHADOWS = 8;
const ROUNDS = 2;

function notes(rng: Rng, count: number): string {
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
async function availableParallelism(): Promise<number> {
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
      const train = {
        model: 'charlm', dp: false, clipNorm: 1, batchSize: 32, epochs: 10, learningRate: 0.01, optimizer: 'adam', accountant: 'rdp',
        architecture: { contextLength: 8, embeddingDim: 16, hiddenUnits: [128] },
      };
      const backend = currentBackend().backend;
      const { specs } = shadowJobs(set, { count: SHADOWS, workers: 1, cacheDir: dir, backend, train });
      let round = 0;
      const time = async (workers: number): Promise<number> => {
        const cacheDir = join(dir, `cache-${workers}-${round++}`);
        const t0 = performance.now();
        const outcomes = await runJobs(specs, { workers, cacheDir, backend });
        const ms = performance.now() - t0;
        if (outcomes.some((o) => o.cached)) throw new Error('bench: a shadow came from the cache');
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
        { area: 'membership', figure: `${SHADOWS} shadow models, 1 worker`, value: one / 1000, unit: 's' },
        { area: 'membership', figure: `${SHADOWS} shadow models, 2 workers`, value: two / 1000, unit: 's' },
        { area: 'membership', figure: `shadow training speed-up, --workers 2 vs 1 (${SHADOWS} shadows)`, value: ratio, unit: 'x', target: '>= 1.6', pass: ratio >= 1.6 },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
