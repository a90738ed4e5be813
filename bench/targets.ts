/**
 * Targets benchmark: scoring 2000 texts through the local target, and through `memaudit serve`
 * (a separate process, as in use) with the OpenAI-compatible target at concurrency 1 and 16.
 * Goal (issue 6): API scoring at concurrency 16 reaches at least 0.5x the local texts per second.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentBackend, tf } from '../src/core/backend.js';
import { Rng } from '../src/core/rng.js';
import { packageRoot } from '../src/core/version.js';
import { openTarget } from '../src/targets/index.js';
import type { BenchRow, BenchSuite } from './suite.js';
import { untrainedCharLmDir } from './model-fixture.js';

const textCount = 2000;

/** Clinical-note-shaped texts of 40-120 characters. */
function texts(rng: Rng): string[] {
  const names = ['John Smith', 'Maria Garcia', 'Wei Chen', 'Aisha Khan', 'Olga Petrova'];
  const findings = ['chest pain', 'shortness of breath', 'follow-up', 'hypertension', 'type 2 diabetes', 'migraine'];
  return Array.from({ length: textCount }, () => {
    const mrn = String(rng.int(1e8)).padStart(8, '0');
    return `Patient ${rng.pick(names)}, MRN ${mrn}, seen for ${rng.pick(findings)}; BP ${100 + rng.int(60)}/${60 + rng.int(30)}.`;
  });
}

function startServe(modelDir: string): Promise<{ child: ChildProcess; spec: string }> {
  const cli = join(packageRoot, 'dist', 'src', 'cli', 'main.js');
  const child = spawn(process.execPath, [cli, 'serve', '--model', modelDir, '--port', '0', '--json', '--backend', currentBackend().backend], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d));
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      try {
        resolve({ child, spec: (JSON.parse(out) as { target: string }).target });
      } catch {
        // partial JSON
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}

type Score = (texts: string[]) => Promise<unknown>;

/**
 * Texts per second of each scorer: rounds of one full pass each, interleaved so a burst of load
 * on a shared machine hits every scorer alike, keeping each scorer's best pass.
 */
async function textsPerSecond(scorers: Score[], corpus: string[], rounds = 3): Promise<number[]> {
  for (const score of scorers) await score(corpus.slice(0, 200)); // warm-up: kernels compiled, connections open
  const best = scorers.map(() => Infinity);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < scorers.length; i++) {
      const t0 = performance.now();
      await scorers[i]!(corpus);
      best[i] = Math.min(best[i]!, performance.now() - t0);
    }
  }
  return best.map((ms) => corpus.length / (ms / 1000));
}

export const targetsSuite: BenchSuite = {
  name: 'targets',
  async run(): Promise<BenchRow[]> {
    const dir = mkdtempSync(join(tmpdir(), 'memaudit-bench-targets-'));
    const corpus = texts(new Rng('bench-targets'));
    const modelDir = await untrainedCharLmDir(dir, corpus, 1);
    const { child, spec } = await startServe(modelDir);
    try {
      const local = await openTarget(modelDir);
      const api = (concurrency: number, promptsPerRequest: number) => openTarget(spec, { concurrency, promptsPerRequest });
      const [api1, api16, api16b] = [await api(1, 1), await api(16, 1), await api(16, 8)];
      const [localRate, rate1, rate16, rate16b] = await textsPerSecond(
        [local, api1, api16, api16b].map((t) => (texts: string[]) => t.scoreTexts(texts)),
        corpus,
      );
      await local.close();
      const area = 'targets';
      return [
        { area, figure: `local target scoring (${textCount} texts, ${tf.getBackend()}, best of 3)`, value: localRate!, unit: 'texts/s' },
        { area, figure: 'serve + openai target, concurrency 1', value: rate1!, unit: 'texts/s' },
        { area, figure: 'serve + openai target, concurrency 16', value: rate16!, unit: 'texts/s' },
        { area, figure: 'serve + openai target, concurrency 16, 8 texts/request (default)', value: rate16b!, unit: 'texts/s' },
        { area, figure: 'API concurrency 16 / concurrency 1', value: rate16! / rate1!, unit: 'x' },
        { area, figure: 'API concurrency 16 / local', value: rate16! / localRate!, unit: 'x', target: '>= 0.5', pass: rate16! / localRate! >= 0.5 },
        { area, figure: 'API concurrency 16, 8 texts/request / local', value: rate16b! / localRate!, unit: 'x', target: '>= 0.5', pass: rate16b! / localRate! >= 0.5 },
      ];
    } finally {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
