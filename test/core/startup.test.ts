/**
 * Start-up cost and layering. Commands that need no model must not load TensorFlow.js or the data
 * libraries (--version took ~1 s CPU when every command module imported its library at the top),
 * and library code must not depend on the CLI layer.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';
import { invokedCommand } from '../../src/cli/main.js';
import { commands, isLazy } from '../../src/cli/commands.js';
import { activationChoices, optimizerChoices, trainFlagDefaults } from '../../src/cli/train.js';
import { probeSpecs } from '../../probes/specs.js';
import { probeResultSchemas, probeRunInfoSchema } from '../../probes/schemas.js';
import { spawn } from 'node:child_process';

const forbidHook = pathToFileURL(join(repoRoot, 'test', 'core', 'fixtures', 'forbid-modules.mjs')).href;
const tfjs = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node'];
const everyHeavyPackage = [...tfjs, '@faker-js/faker', '@stdlib', 'ajv', 'ajv-formats', 'csv-parse', 'csv-stringify', 'fft.js', 'seedrandom'];

/** Runs the CLI with the given packages made unimportable. */
function runWithout(packages: string[], args: string[]) {
  return runCli(args, { env: { MEMAUDIT_FORBID_MODULES: packages.join(','), NODE_OPTIONS: `--import ${forbidHook}` } });
}

describe('start-up: commands that need no model load no heavy library', () => {
  const cases: [string[], string[]][] = [
    [['--version'], everyHeavyPackage],
    [['--help'], everyHeavyPackage],
    [['probe', 'exposure', '--help'], everyHeavyPackage],
    [['train', '--help'], everyHeavyPackage],
    [['canary', 'insert', '--help'], everyHeavyPackage],
    [['synth', 'notes', '--help'], everyHeavyPackage],
    [['serve', '--help'], everyHeavyPackage],
    [['worker', '--help'], [...everyHeavyPackage, 'bullmq', 'ioredis']],
    [['accountant', 'epsilon', '--sampling-rate', '0.01', '--noise-multiplier', '1.1', '--steps', '1000', '--delta', '1e-5', '--json'], [...tfjs, '@faker-js/faker', 'ajv', 'csv-parse']],
    [['gate', '--help'], tfjs],
  ];
  it.each(cases)('memaudit %j', async (args, forbidden) => {
    const r = await runWithout(forbidden, args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toBe('');
  });

  it('the guard works: doctor, which needs TensorFlow.js, fails without it', async () => {
    const r = await runWithout(tfjs, ['doctor', '--json']);
    expect(r.code).toBe(70);
    expect(r.stderr).toContain('@tensorflow/tfjs');
  });

  it('probe --help lists every probe and its own flags without loading the probes', async () => {
    const r = await runWithout(everyHeavyPackage, ['probe', 'dp-audit', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--claimed-epsilon');
    expect(r.stdout).toContain('lira-online');
    const top = await runWithout(everyHeavyPackage, ['probe', '--help']);
    for (const spec of probeSpecs) expect(top.stdout).toContain(spec.name);
  });
});

describe('lazily loaded commands', () => {
  it('finds the invoked command after global flags', () => {
    expect(invokedCommand(['--seed', '7', 'gate', '--report', 'r.json'])).toBe('gate');
    expect(invokedCommand(['--backend', 'cpu', '--json', 'audit'])).toBe('audit');
    expect(invokedCommand(['--backend=cpu', '--quiet', 'gate'])).toBe('gate');
    expect(invokedCommand(['-h'])).toBeUndefined();
    expect(invokedCommand([])).toBeUndefined();
  });

  it('runs gate with global flags before it (its module loaded, its flags checked)', async () => {
    const dir = tempDir();
    const r = await runCli(['--seed', '7', '--json', 'gate', '--report', join(dir, 'missing.json'), '--audit-log', join(dir, 'log.jsonl')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('missing.json');
    const bad = await runCli(['gate', '--report', join(dir, 'r.json'), '--bogus-flag']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('bogus-flag');
  });

  it('--help lists a lazy command with its module\'s own description', async () => {
    for (const c of commands) {
      if (!isLazy(c)) continue;
      const module = await c.load();
      expect(String(module.command).split(' ')[0]).toBe(c.name);
      expect(module.describe).toBe(c.describe);
    }
  });
});

describe('flag definitions mirror the library they no longer import', () => {
  it('train: optimizers, activations and defaults are the library\'s', async () => {
    const { optimizerNames, trainDefaults } = await import('../../src/train/index.js');
    const { hiddenActivations } = await import('../../src/models/charlm.js');
    expect(optimizerChoices).toEqual(optimizerNames);
    expect(activationChoices).toEqual(hiddenActivations);
    for (const [key, value] of Object.entries(trainFlagDefaults)) expect(trainDefaults[key as keyof typeof trainDefaults], key).toBe(value);
  });

  it('probe: every registered probe has its spec, in order, and uses its options and result schema', async () => {
    const { probes } = await import('../../probes/registry.js');
    const common = await import('../../probes/common.js');
    expect(probes.map((p) => p.name)).toEqual(probeSpecs.map((s) => s.name));
    for (const [i, probe] of probes.entries()) {
      expect(probe.describe).toBe(probeSpecs[i]!.describe);
      expect(probe.options).toBe(probeSpecs[i]!.options);
      expect(probe.resultSchema).toBe(probeResultSchemas[probe.name]);
    }
    expect(common.probeRunInfoSchema).toBe(probeRunInfoSchema);
  });

  it('probe specs and result schemas load without TensorFlow.js or ajv (for --help and report readers)', async () => {
    const urls = ['specs.js', 'schemas.js'].map((f) => pathToFileURL(join(repoRoot, 'dist', 'probes', f)).href);
    const code = await new Promise<number | null>((done) => {
      const child = spawn(process.execPath, ['--import', forbidHook, '--input-type=module', '-e', urls.map((u) => `await import(${JSON.stringify(u)});`).join('')], {
        env: { ...process.env, MEMAUDIT_FORBID_MODULES: everyHeavyPackage.join(',') },
        stdio: 'inherit',
      });
      child.on('close', done);
    });
    expect(code).toBe(0);
  });
});

describe('layering', () => {
  it('no library module imports from src/cli', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) {
          if (relative(repoRoot, path) !== join('src', 'cli')) walk(path);
        } else if (name.endsWith('.ts')) {
          const text = readFileSync(path, 'utf8');
          if (/from\s+['"](?:\.\.?\/)+(?:src\/)?cli\//.test(text)) offenders.push(relative(repoRoot, path));
        }
      }
    };
    walk(join(repoRoot, 'src'));
    walk(join(repoRoot, 'probes'));
    expect(offenders).toEqual([]);
  });
});
