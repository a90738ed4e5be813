/**
 * The built CLI against a hostile API server (test/helpers/hostile-server.ts): error bodies that
 * echo the key and the prompt, impossible log-probabilities, huge bodies, cross-origin redirects, a
 * server that never answers, and a response cache without the user's secret. Each must end in one
 * clear line and exit 2, with no verdict and nothing secret printed.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';
import { startHostileServer, type HostileServer } from '../helpers/hostile-server.js';

const key = 'sk-hostile-KEY-abcdefgh';
const env = { MEMAUDIT_TEST_KEY: key };
let work: string;
let manifest: string;
let canaries: { text: string; secret: string }[];
let server: HostileServer | undefined;

beforeAll(async () => {
  work = tempDir();
  const data = join(work, 'data.jsonl');
  writeFileSync(data, Array.from({ length: 30 }, (_, i) => JSON.stringify({ text: `Note ${i}: patient seen, follow-up in ${i} weeks.` })).join('\n') + '\n');
  const gen = await runCli(['canary', 'generate', '--pack', 'name-diagnosis', '--count', '4', '--out', join(work, 'c.json'), '--seed', '1', '--quiet']);
  expect(gen.code, gen.stderr).toBe(0);
  manifest = join(work, 'm.json');
  const ins = await runCli(['canary', 'insert', '--data', data, '--canaries', join(work, 'c.json'), '--repetitions', '1', '--references', '2', '--out', join(work, 'out.jsonl'), '--manifest', manifest, '--seed', '1', '--quiet']);
  expect(ins.code, ins.stderr).toBe(0);
  canaries = (JSON.parse(readFileSync(manifest, 'utf8')) as { canaries: { text: string; secret: string }[] }).canaries;
});

afterEach(async () => {
  await server?.close();
  server = undefined;
});

function probe(target: string, extra: string[] = [], options: { env?: NodeJS.ProcessEnv } = {}) {
  const out = join(work, `e-${Math.random()}.json`);
  return runCli(['probe', 'exposure', '--target', target, '--manifest', manifest, '--out', out, '--retries', '0', '--api-key-env', 'MEMAUDIT_TEST_KEY', ...extra], {
    env: { ...env, ...options.env },
  }).then((r) => ({ ...r, wrote: existsSync(out) }));
}

function expectOneLine(r: { code: number | null; stderr: string }, code: number): string {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

describe('hostile API servers (built CLI)', () => {
  it('an error body echoing the key (message, type, code, nested) and the canary (param) prints neither', async () => {
    server = await startHostileServer('echo-key');
    const r = await probe(server.target);
    const line = expectOneLine(r, 2);
    expect(line).toContain(`${server.url}/completions: HTTP 400`);
    const needles = [key, 'hostile', ...canaries.flatMap((c) => [c.text, c.secret, c.text.replace(/[^A-Za-z0-9]+/g, '_')])];
    for (const word of canaries.flatMap((c) => c.secret.split(/\W+/)).filter((w) => w.length >= 4)) needles.push(word);
    for (const needle of needles) expect(`${r.stdout}${r.stderr}`, needle).not.toContain(needle);
    expect(r.wrote).toBe(false);
  });

  for (const [mode, field] of [
    ['positive', 'token_logprobs'],
    ['zero', 'token_logprobs'],
    ['constant', 'token_logprobs'],
    ['inconsistent-topk', 'top_logprobs'],
  ] as const) {
    it(`${mode} log-probabilities are a faulty target: exit 2 naming the target and ${field}, no result`, async () => {
      server = await startHostileServer(mode);
      const r = await probe(server.target);
      const line = expectOneLine(r, 2);
      expect(line).toContain(server.url);
      expect(line).toContain('faulty target');
      expect(line).toContain(field);
      expect(r.wrote).toBe(false);
    });
  }

  it('an audit against positive log-probabilities reaches no verdict and writes no report', async () => {
    server = await startHostileServer('positive');
    const out = join(work, 'audit-positive');
    const r = await runCli(['audit', '--target', server.target, '--manifest', manifest, '--out', out, '--retries', '0', '--api-key-env', 'MEMAUDIT_TEST_KEY'], { env });
    const line = expectOneLine(r, 2);
    expect(line).toMatch(/faulty target: logprobs\.token_logprobs\[\d+\] is 0\.5, above 0/);
    expect(existsSync(join(out, 'report.json'))).toBe(false);
    expect(r.stdout).not.toMatch(/NOT_PHI/);
  });

  it('a body over --max-response-mb is refused naming the target and the limit', async () => {
    server = await startHostileServer('huge', { hugeBytes: 3 * 2 ** 20 });
    const r = await probe(server.target, ['--max-response-mb', '1']);
    const line = expectOneLine(r, 2);
    expect(line).toContain(`${server.url}/completions`);
    expect(line).toContain('response body larger than the limit of 1048576 bytes');
  });

  it('a cross-origin redirect is refused and nothing reaches the other origin; --allow-redirects follows it', async () => {
    server = await startHostileServer('redirect');
    const r = await probe(server.target);
    const line = expectOneLine(r, 2);
    expect(line).toMatch(/redirects to another origin \(http:\/\/127\.0\.0\.1:\d+\)/);
    expect(line).toContain('--allow-redirects');
    expect(server.redirected).toEqual([]);
    const allowed = await probe(server.target, ['--allow-redirects']);
    expect(allowed.stderr).not.toContain('another origin');
    expect(server.redirected.length).toBeGreaterThan(0);
    // The key is not carried to another origin.
    expect(server.redirected.join(' ')).not.toContain(key);
  });

  it('a server that never answers ends after --timeout with exit 2', async () => {
    server = await startHostileServer('hang');
    const started = Date.now();
    const r = await probe(server.target, ['--timeout', '1']);
    const line = expectOneLine(r, 2);
    expect(line).toContain('no complete response within 1000 ms');
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('--cache-dir without MEMAUDIT_CACHE_KEY exits 2 with the reason before any request', async () => {
    server = await startHostileServer('constant');
    const cacheDir = join(work, 'cache');
    const r = await probe(server.target, ['--cache-dir', cacheDir], { env: { MEMAUDIT_CACHE_KEY: '' } });
    const line = expectOneLine(r, 2);
    expect(line).toContain(`--cache-dir ${cacheDir}: set MEMAUDIT_CACHE_KEY`);
    expect(server.received).toEqual([]);
    expect(existsSync(cacheDir) ? readdirSync(cacheDir) : []).toEqual([]);
  });
});
