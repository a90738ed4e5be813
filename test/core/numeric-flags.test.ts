/**
 * Hostile numbers on the command line: each is refused up front (exit 2, one line naming the flag
 * and its range) instead of training NaN weights, running forever, or failing late; a run that
 * diverges anyway stops with exit 2 and writes no model.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';
import { flagRanges, numberFlag } from '../../src/core/flags.js';
import { checkTrainConfig, trainDefaults, type TrainConfig } from '../../src/train/index.js';

let dir: string;
let data: string;

beforeAll(async () => {
  dir = tempDir();
  data = join(dir, 'notes.jsonl');
  const r = await runCli(['synth', 'notes', '--count', '60', '--out', data, '--seed', '1', '--quiet']);
  expect(r.code, r.stderr).toBe(0);
});

function expectRefused(r: { code: number | null; stderr: string; stdout: string }, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

describe('numeric flag ranges', () => {
  it('one table bounds every ranged flag above and below, wherever the flag is declared', () => {
    for (const [flag, rule] of Object.entries(flagRanges)) {
      expect(Number.isFinite(rule.max), flag).toBe(true);
      expect(rule.min, flag).toBeDefined();
    }
    // A call site's looser rule does not widen the declared range (e.g. --timeout in the target options).
    expect(() => numberFlag('timeout', { min: 0, minExclusive: true })('1e308')).toThrow(/--timeout must be a number > 0 <= 86400, got "1e308"/);
  });

  it('train refuses learning rates, clip norms, noise, epochs and layer sizes that would overflow or never end', async () => {
    const out = join(dir, 'never');
    const cases: [string[], RegExp][] = [
      [['--lr', '1e308'], /^memaudit train .*: --lr must be a number > 0 <= 10, got "1e308" \(see --help\)$/],
      [['--clip-norm', '1e308'], /--clip-norm must be a number > 0 <= 10000, got "1e308"/],
      [['--dp', '--noise-multiplier', '1e308'], /--noise-multiplier must be a number > 0 <= 10000, got "1e308"/],
      [['--epochs', '1e308'], /--epochs must be a number > 0 <= 10000, got "1e308"/],
      [['--hidden', '100000'], /--hidden must be an integer >= 1 <= 8192, got "100000"/],
      [['--embedding-dim', '1e9'], /--embedding-dim must be an integer >= 1 <= 1024/],
    ];
    for (const [flags, message] of cases) expectRefused(await runCli(['train', '--data', data, '--out', out, ...flags]), message);
    expect(existsSync(out)).toBe(false);
  });

  it('train refuses layer sizes each in range whose product would not fit in memory', async () => {
    const out = join(dir, 'never');
    const r = await runCli(['train', '--data', data, '--out', out, '--hidden', '8192,8192', '--backend', 'wasm']);
    expectRefused(r, /^memaudit train: the charlm layers would hold 6\.87e\+7 weights, more than 5e\+7: lower --hidden, --embedding-dim or --context-length$/);
    expect(existsSync(out)).toBe(false);
    // The library entry point applies the same ranges.
    const config: TrainConfig = { ...trainDefaults, model: 'charlm', dp: false, learningRate: 1e308 };
    expect(() => checkTrainConfig(config)).toThrow(/--lr must be a number > 0 <= 10, got "1e\+308"/);
  });

  it('the accountant refuses step counts the PLD composition cannot handle and noise past its range; probes refuse a timeout the timer cannot hold', async () => {
    const base = ['accountant', 'epsilon', '--sampling-rate', '0.01', '--delta', '1e-5'];
    expectRefused(await runCli([...base, '--noise-multiplier', '1', '--steps', '1e15', '--accountant', 'pld']), /--steps must be an integer >= 1 <= 10000000, got "1e15"/);
    expectRefused(await runCli([...base, '--noise-multiplier', '1e154', '--steps', '1000']), /--noise-multiplier must be a number > 0 <= 10000/);
    expectRefused(await runCli([...base, '--segment', '0.01,1e308,10']), /--segment noise multiplier must be a number > 0 <= 10000/);
    const probe = ['probe', 'exposure', '--target', 'openai:http://127.0.0.1:9/v1#m', '--manifest', join(dir, 'm.json'), '--out', join(dir, 'r.json')];
    expectRefused(await runCli([...probe, '--timeout', '1e308']), /--timeout must be a number > 0 <= 86400, got "1e308"/);
  });

  it('a loss that turns NaN stops training: exit 2 naming the step, and no model is written', async () => {
    const out = join(dir, 'diverged');
    const r = await runCli(['train', '--data', data, '--out', out, '--optimizer', 'momentum', '--lr', '10', '--clip-norm', '10000', '--batch-size', '16', '--epochs', '2',
      '--seed', '1', '--backend', 'wasm']);
    expectRefused(r, /^memaudit train: training diverged at step \d+: the loss is (NaN|Infinity); lower --lr \(or --clip-norm, --noise-multiplier\) and train again$/);
    expect(existsSync(out)).toBe(false);
  });
});
