import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('memaudit CLI skeleton', () => {
  it('doctor --json prints the backend, why others were skipped, and versions', async () => {
    const r = await runCli(['doctor', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(['tensorflow', 'wasm', 'cpu']).toContain(report.backend);
    expect(report.tfjsVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(report.node).toBe(process.versions.node);
    expect(Array.isArray(report.skipped)).toBe(true);
    for (const s of report.skipped) expect(typeof s.reason).toBe('string');
    if (report.backend !== 'tensorflow') expect(report.skipped.map((s: { backend: string }) => s.backend)).toContain('tensorflow');
  });

  it('doctor --backend cpu uses the cpu backend', async () => {
    const r = await runCli(['doctor', '--json', '--backend', 'cpu']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).backend).toBe('cpu');
  });

  it('prints --version and --help', async () => {
    const v = await runCli(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const h = await runCli(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('doctor');
    expect(h.stdout).toContain('--seed');
  });

  it('bad usage exits 2 with one line on stderr and nothing on stdout', async () => {
    for (const args of [['no-such-command'], ['doctor', '--no-such-flag'], [], ['doctor', '--backend', 'gpu']]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
