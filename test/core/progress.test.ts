/** Progress a person and a CI log can follow: done/total, rate and ETA; plain lines at the interval without a TTY; silent with --quiet. */
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createProgress, formatDuration } from '../../src/core/progress.js';
import { runCli, tempDir } from '../helpers/cli.js';

function captured() {
  const chunks: string[] = [];
  const stream = { write: (s: string) => chunks.push(s), isTTY: false } as unknown as NodeJS.WriteStream;
  return { stream, text: () => chunks.join('') };
}

describe('createProgress', () => {
  it('prints a plain line with done/total, rate and ETA once per interval without a TTY', () => {
    let t = 0;
    const out = captured();
    const progress = createProgress({ stream: out.stream, intervalMs: 10_000, now: () => t });
    for (let step = 0; step <= 100; step++) {
      t = step * 500; // 2 steps per second: lines at 10 s, 20 s, ...
      progress.step('train steps', step, 100, 'loss 1.000');
    }
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('train steps 20/100 (20%)  2.0/s  ETA 40s  loss 1.000');
    expect(lines[4]).toBe('train steps 100/100 (100%)  loss 1.000');
  });

  it('rewrites one live line on a TTY and clears it when done', () => {
    const out = captured();
    const progress = createProgress({ stream: out.stream, live: true, intervalMs: 0 });
    progress.step('exposure canaries', 1, 4);
    progress.done();
    expect(out.text()).toMatch(/^\r\x1b\[Kexposure canaries 1\/4 \(25%\).*\r\x1b\[K$/);
  });

  it('prints nothing with --quiet', () => {
    const out = captured();
    const progress = createProgress({ stream: out.stream, quiet: true, intervalMs: 0 });
    progress.step('train steps', 1, 2);
    progress.log('stage done');
    expect(out.text()).toBe('');
  });

  it('formats durations for an ETA', () => {
    expect([formatDuration(45), formatDuration(125), formatDuration(3720), formatDuration(Infinity)]).toEqual(['45s', '2m05s', '1h02m', '?']);
  });
});

describe('progress of a CLI run in a non-TTY child process', () => {
  let data: string;
  beforeAll(() => {
    data = join(tempDir(), 'rows.csv');
    const rows = Array.from({ length: 400 }, (_, i) => `${20 + (i % 50)},${i % 2 ? 'a' : 'b'},${i % 3 ? 'yes' : 'no'}`);
    writeFileSync(data, ['age,site,outcome', ...rows].join('\n') + '\n');
  });
  const train = (extra: string[]) =>
    runCli(['train', '--data', data, '--model', 'mlp', '--label-column', 'outcome', '--hidden', '4', '--epochs', '10', '--batch-size', '10', '--seed', '1', '--backend', 'wasm', '--out', join(tempDir(), 'm'), ...extra], {
      env: { MEMAUDIT_PROGRESS_INTERVAL_MS: '20' },
    });

  it('prints plain progress lines with counts, rate and ETA on stderr', async () => {
    const r = await train([]);
    expect(r.code).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('train steps '));
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.some((l) => /^train steps \d+\/400 \(\d+%\)  [\d.]+\/s  ETA \d+s  loss \d/.test(l))).toBe(true);
    expect(r.stderr).not.toContain('\r');
  });

  it('prints no progress with --quiet', async () => {
    const r = await train(['--quiet']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('keeps stdout to the JSON result with --json', async () => {
    const r = await train(['--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ steps: 400 });
    expect(r.stderr).toMatch(/train steps \d+\/400/);
  });
});
