/** `memaudit accountant`: the --json contract, both flag families, and one-line usage errors. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { computeEpsilon } from '../../src/accounting/index.js';

const base = ['accountant', 'epsilon'];

describe('memaudit accountant', () => {
  it('epsilon --json prints exactly epsilon, delta, accountant, optimalOrder', async () => {
    const r = await runCli([...base, '--sampling-rate', '0.0025', '--noise-multiplier', '1.3', '--steps', '6000', '--delta', '1e-5', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out).sort()).toEqual(['accountant', 'delta', 'epsilon', 'optimalOrder']);
    expect(out.accountant).toBe('rdp');
    expect(out.delta).toBe(1e-5);
    expect(Math.abs(out.epsilon - 0.7242234026109595)).toBeLessThan(5e-8); // TF Privacy compute_dp_sgd_privacy Test0
    expect(out.optimalOrder).toBe(19);
  });

  it('--dataset-size/--batch-size/--epochs gives q = B/N and steps = ceil(E N / B); pld has no optimalOrder', async () => {
    const [derived, pld] = await Promise.all([
      runCli([...base, '--dataset-size', '60000', '--batch-size', '150', '--epochs', '15', '--noise-multiplier', '1.3', '--delta', '1e-5', '--json']),
      runCli([...base, '--sampling-rate', '1', '--noise-multiplier', '0.7', '--steps', '2', '--delta', '1e-5', '--accountant', 'pld', '--json']),
    ]);
    expect(derived.code).toBe(0);
    // q = 150/60000 = 0.0025, steps = 6000: TF Privacy's compute_dp_sgd_privacy Test0 inputs.
    expect(JSON.parse(derived.stdout)).toEqual({ epsilon: computeEpsilon([{ samplingRate: 0.0025, noiseMultiplier: 1.3, steps: 6000 }], 1e-5).epsilon, delta: 1e-5, accountant: 'rdp', optimalOrder: 19 });
    expect(pld.code).toBe(0);
    const out = JSON.parse(pld.stdout);
    expect(Object.keys(out).sort()).toEqual(['accountant', 'delta', 'epsilon']);
    expect(Math.abs(out.epsilon - 10.1224946) / 10.1224946).toBeLessThan(0.01);
  });

  it('--segment composes heterogeneous steps; --orders and --conversion classic are honoured', async () => {
    const single = ['--noise-multiplier', '1.1', '--delta', '1e-5', '--json'];
    const [seg, classic, edge] = await Promise.all([
      runCli([...base, '--segment', '0.01,1.1,500', '--segment', '0.02,1.1,300', '--delta', '1e-5', '--json']),
      runCli([...base, '--sampling-rate', '0.01', '--steps', '1000', '--conversion', 'classic', ...single]),
      runCli([...base, '--sampling-rate', '0.01', '--steps', '1000', '--orders', '2,3', ...single]),
    ]);
    expect(seg.code).toBe(0);
    const segments = [
      { samplingRate: 0.01, noiseMultiplier: 1.1, steps: 500 },
      { samplingRate: 0.02, noiseMultiplier: 1.1, steps: 300 },
    ];
    expect(JSON.parse(seg.stdout).epsilon).toBe(computeEpsilon(segments, 1e-5).epsilon);
    const one = [{ samplingRate: 0.01, noiseMultiplier: 1.1, steps: 1000 }];
    expect(JSON.parse(classic.stdout).epsilon).toBe(computeEpsilon(one, 1e-5, { conversion: 'classic' }).epsilon);
    expect(JSON.parse(classic.stdout).epsilon).toBeGreaterThan(computeEpsilon(one, 1e-5).epsilon);
    expect(edge.code).toBe(0);
    expect(JSON.parse(edge.stdout).optimalOrder).toBe(3);
    expect(edge.stderr).toMatch(/warning: the optimal RDP order 3 is the largest order/);
  });

  it('noise --json returns sigma whose epsilon is <= the target', async () => {
    const r = await runCli(['accountant', 'noise', '--dataset-size', '60000', '--batch-size', '256', '--epochs', '60', '--delta', '1e-5', '--target-epsilon', '3', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.steps).toBe(14063);
    expect(out.samplingRate).toBe(256 / 60000);
    expect(out.epsilon).toBeLessThanOrEqual(3);
    const at = (sigma: number) => computeEpsilon([{ samplingRate: 256 / 60000, noiseMultiplier: sigma, steps: 14063 }], 1e-5).epsilon;
    expect(at(out.noiseMultiplier)).toBe(out.epsilon);
    expect(at(out.noiseMultiplier - 1e-3)).toBeGreaterThan(3);
  });

  it('bad parameters exit 2 with one line on stderr and nothing on stdout', async () => {
    const ok = ['--noise-multiplier', '1', '--delta', '1e-5'];
    const cases: [string[], RegExp][] = [
      [[...base, '--steps', 'abc'], /--steps must be an integer/],
      [[...base, '--sampling-rate', '0.01', '--steps', '1.5', ...ok], /--steps must be an integer/],
      [[...base, '--sampling-rate', '1.5', '--steps', '10', ...ok], /--sampling-rate must be a number > 0 <= 1/],
      [[...base, '--sampling-rate', '0.1', '--steps', '10', '--noise-multiplier', '0', '--delta', '1e-5'], /--noise-multiplier must be a number > 0/],
      [[...base, '--sampling-rate', '0.1', '--steps', '10', '--noise-multiplier', '1', '--delta', '1'], /--delta must be a number > 0 < 1/],
      [[...base, '--segment', '0.1,1', '--delta', '1e-5'], /--segment must be Q,S,N/],
      [['accountant', 'noise', '--dataset-size', '100', '--batch-size', '200', '--epochs', '1', '--delta', '1e-5', '--target-epsilon', '1'], /batch size 200 exceeds dataset size 100/],
    ];
    // Spawned together: each CLI start costs about a second here.
    const results = await Promise.all(cases.map(([args]) => runCli(args)));
    for (const [i, [args, message]] of cases.entries()) {
      const r = results[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(lines[0], args.join(' ')).toMatch(message);
    }
  });

  it('--help says the dataset-size/batch-size/epochs form replaces q and steps', async () => {
    const r = await runCli(['accountant', 'epsilon', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('steps = ceil(E*N/B)');
    expect(r.stdout).toContain('--segment');
  });
});
