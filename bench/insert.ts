/**
 * Insertion benchmark (issue 4): `canary insert` throughput on a 200 MB JSONL file as a ratio to
 * a plain streaming copy of the same file measured in the same run (target >= 0.5x), and the peak
 * resident memory of the `canary insert` command on a 1 GB input (target < 200 MB).
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { generateCanaries, insertCanaries, loadPack, writeCanarySet } from '../src/canary/index.js';
import { Rng } from '../src/core/rng.js';
import { syntheticNotes } from '../src/data/synth/index.js';
import type { BenchRow, BenchSuite } from './suite.js';

const MB = 1e6;

/** A JSONL file of about `bytes`, from 10k synthetic notes repeated with fresh ids. */
async function makeJsonl(path: string, bytes: number): Promise<void> {
  const notes = [...syntheticNotes(10_000, new Rng('bench-insert'))].map((n) => n.text);
  const out = createWriteStream(path);
  let written = 0;
  for (let i = 0; written < bytes; i++) {
    const line = JSON.stringify({ id: `note-${i}`, text: notes[i % notes.length] }) + '\n';
    written += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

async function plainCopy(from: string, to: string): Promise<number> {
  const t0 = performance.now();
  const w = createWriteStream(to);
  createReadStream(from).pipe(w);
  await once(w, 'close');
  return performance.now() - t0;
}

/** Peak RSS (bytes) of the built CLI running `args`, read from the child's own resource usage. */
async function cliPeakRss(args: string[]): Promise<number> {
  const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const script =
    `process.argv.splice(1, 0, ${JSON.stringify(cli)});` +
    `process.on('exit', () => process.stderr.write('MAXRSS ' + process.resourceUsage().maxRSS + '\\n'));` +
    `await import(${JSON.stringify(cli)});`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'close')) as [number];
  const match = /MAXRSS (\d+)/.exec(stderr);
  if (code !== 0 || !match) throw new Error(`canary insert failed (exit ${code}): ${stderr.trim()}`);
  return Number(match[1]) * 1024;
}

export const insertSuite: BenchSuite = {
  name: 'insert',
  async run(): Promise<BenchRow[]> {
    const dir = mkdtempSync(join(tmpdir(), 'memaudit-bench-insert-'));
    try {
      const data = join(dir, 'data.jsonl');
      await makeJsonl(data, 200 * MB);
      const set = generateCanaries(loadPack('ssn'), { count: 100, rng: new Rng('bench') });
      const copies: number[] = [];
      const inserts: number[] = [];
      // Interleaved, so both see the same machine load; medians of three.
      for (let i = 0; i < 3; i++) {
        copies.push(await plainCopy(data, join(dir, 'copy.jsonl')));
        const t0 = performance.now();
        await insertCanaries({ data, canaries: set, repetitions: [1, 4, 16], references: 10, out: join(dir, 'out.jsonl'), manifest: join(dir, 'manifest.json'), rng: new Rng(i) });
        inserts.push(performance.now() - t0);
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
      const ratio = median(copies) / median(inserts);
      rmSync(join(dir, 'copy.jsonl'));
      rmSync(join(dir, 'out.jsonl'));

      const big = join(dir, 'big.jsonl');
      await makeJsonl(big, 1000 * MB);
      rmSync(data);
      const canaries = join(dir, 'canaries.json');
      writeCanarySet(canaries, set);
      const rss = await cliPeakRss(['canary', 'insert', '--data', big, '--canaries', canaries, '--repetitions', '1,4,16', '--references', '10', '--out', join(dir, 'big-out.jsonl'), '--manifest', join(dir, 'big-manifest.json'), '--seed', '1', '--quiet']);
      return [
        { area: 'canaries', figure: 'insert throughput / plain stream copy (200 MB JSONL)', value: ratio, unit: 'x', target: '>= 0.5', pass: ratio >= 0.5 },
        { area: 'canaries', figure: 'insert throughput (200 MB JSONL)', value: (200 * MB) / 2 ** 20 / (median(inserts) / 1000), unit: 'MiB/s' },
        { area: 'canaries', figure: 'canary insert peak RSS (1 GB JSONL, CLI)', value: rss / 2 ** 20, unit: 'MiB', target: '< 200', pass: rss < 200 * 2 ** 20 },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
