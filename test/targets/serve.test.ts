import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { spawn } from 'node:child_process';
import OpenAI from 'openai';
import { initBackend } from '../../src/core/backend.js';
import { Rng } from '../../src/core/rng.js';
import { CapabilityError } from '../../src/core/errors.js';
import { openTarget, type Target } from '../../src/targets/index.js';
import { LocalLmTarget } from '../../src/targets/local/lm.js';
import { internalErrorLine, startServer, type RunningServer } from '../../src/targets/serve/server.js';
import { cliPath, runCli, tempDir } from '../helpers/cli.js';
import { makeCharLmDir, sampleTexts } from './fixtures.js';

let dir: string;
let local: LocalLmTarget;
let server: RunningServer;
let api: Target;

beforeAll(async () => {
  await initBackend('wasm');
  dir = await makeCharLmDir(tempDir(), { sharpen: 40 });
  local = (await openTarget(dir)) as LocalLmTarget;
  server = await startServer({ target: local, modelName: 'notes-lm', port: 0 });
  api = await openTarget(`openai:${server.url}#notes-lm`, { concurrency: 8 });
});

afterAll(async () => {
  await server?.close();
  await local?.close();
});

const texts = [...sampleTexts, 'x', 'Ünïcödé and emoji 😀 too'];

describe('local target and the same model through serve', () => {
  it('detects what serve supports', () => {
    expect(api.kind).toBe('openai');
    expect(api.capabilities).toEqual({ scoreText: true, nextTokenDistribution: true, generate: true, beamSearch: true, classProbabilities: false });
  });

  it('give the same per-token log-probabilities and offsets (within 1e-4)', async () => {
    const a = await local.scoreTexts(texts);
    const b = await api.scoreTexts(texts);
    expect(b.map((s) => s.tokens.length)).toEqual(a.map((s) => s.tokens.length));
    a.forEach((s, i) => {
      s.tokens.forEach((t, j) => {
        const u = b[i]!.tokens[j]!;
        expect([u.token, u.start, u.end]).toEqual([t.token, t.start, t.end]);
        expect(Math.abs(u.logprob - t.logprob)).toBeLessThan(1e-4);
      });
    });
    // Offsets let a probe sum exactly the tokens covering a substring.
    const text = texts[0]!;
    const from = text.indexOf('448');
    const sum = (s: (typeof a)[0]) => s.tokens.filter((t) => t.start >= from && t.end <= from + 10).reduce((x, t) => x + t.logprob, 0);
    expect(Math.abs(sum(a[0]!) - sum(b[0]!))).toBeLessThan(1e-4);
  });

  it('give the same Min-K%++ distribution statistics and next-token distributions', async () => {
    const a = await local.scoreTexts(texts.slice(0, 2), { distributionStats: true });
    const b = await api.scoreTexts(texts.slice(0, 2), { distributionStats: true });
    a.forEach((s, i) =>
      s.tokens.forEach((t, j) => {
        expect(Math.abs(b[i]!.tokens[j]!.meanLogprob! - t.meanLogprob!)).toBeLessThan(1e-4);
        expect(Math.abs(b[i]!.tokens[j]!.stdLogprob! - t.stdLogprob!)).toBeLessThan(1e-4);
      }),
    );
    const [da] = await local.nextTokenDistributions(['Patient J']);
    const [db] = await api.nextTokenDistributions(['Patient J']);
    expect(da!.complete && db!.complete).toBe(true);
    const byToken = new Map(db!.tokens.map((t, i) => [t, db!.logprobs[i]!]));
    da!.tokens.forEach((t, i) => expect(Math.abs(byToken.get(t)! - da!.logprobs[i]!)).toBeLessThan(1e-4));
    // The local distribution is complete: it sums to 1, and its mean/std match the scored stats.
    expect(da!.logprobs.reduce((s, lp) => s + Math.exp(lp), 0)).toBeCloseTo(1, 5);
  });

  it('give the same greedy continuation and the same beams', async () => {
    const requests = [
      { prompt: 'Patient John', maxTokens: 24, decoding: { kind: 'greedy' as const } },
      { prompt: 'Call 555-', maxTokens: 12, decoding: { kind: 'beam' as const, width: 4 }, n: 3 },
    ];
    const a = await local.generate(requests);
    const b = await api.generate(requests);
    expect(b[0]![0]!.text).toBe(a[0]![0]!.text);
    expect(a[0]![0]!.text.length).toBeGreaterThan(0);
    expect(Math.abs(b[0]![0]!.logprob! - a[0]![0]!.logprob!)).toBeLessThan(1e-3);
    expect(b[1]!.map((g) => g.text)).toEqual(a[1]!.map((g) => g.text));
    expect(a[1]).toHaveLength(3);
    // Beams come best first.
    expect(a[1]![0]!.logprob!).toBeGreaterThanOrEqual(a[1]![1]!.logprob!);
  });

  it('samples reproducibly from a seed', async () => {
    const req = [{ prompt: 'Follow', maxTokens: 15, decoding: { kind: 'sample' as const, temperature: 1, topK: 5 }, n: 3 }];
    const one = await api.generate(req, new Rng(11));
    const two = await api.generate(req, new Rng(11));
    expect(two).toEqual(one);
    expect(new Set(one[0]!.map((g) => g.text)).size).toBeGreaterThan(1);
    const l1 = await local.generate(req, new Rng(5));
    expect(await local.generate(req, new Rng(5))).toEqual(l1);
  });
});

describe('a model that ends its texts', () => {
  it('through serve: the end token is listed, not part of the text, and the next-token distribution is still there', async () => {
    const endDir = await makeCharLmDir(tempDir(), { sharpen: 40, endBias: 3, name: 'ends' });
    const ends = (await openTarget(endDir)) as LocalLmTarget;
    const s = await startServer({ target: ends, modelName: 'ends', port: 0 });
    try {
      const remote = await openTarget(`openai:${s.url}`);
      const requests = sampleTexts.map((t) => ({ prompt: t.slice(0, 12), maxTokens: 30, decoding: { kind: 'greedy' as const } }));
      const a = await ends.generate(requests);
      const b = await remote.generate(requests);
      expect(b.map((g) => g[0]!.text)).toEqual(a.map((g) => g[0]!.text));
      // The end bias makes at least one generation stop early.
      expect(a.some((g) => g[0]!.text.length < 30)).toBe(true);
      a.forEach((g, i) => {
        if (g[0]!.text.length > 0) expect(Math.abs(b[i]![0]!.logprob! - g[0]!.logprob!)).toBeLessThan(1e-3);
      });
      const prompts = sampleTexts.map((t) => t.slice(0, 5));
      const da = await ends.nextTokenDistributions(prompts);
      // Some prompt's most likely next token is the end: serve then lists the end token alone.
      expect(da.some((d) => d.tokens[d.logprobs.indexOf(Math.max(...d.logprobs))] === '<pad>')).toBe(true);
      const db = await remote.nextTokenDistributions(prompts);
      da.forEach((d, i) => {
        const byToken = new Map(db[i]!.tokens.map((t, j) => [t, db[i]!.logprobs[j]!]));
        d.tokens.forEach((t, j) => expect(Math.abs(byToken.get(t)! - d.logprobs[j]!)).toBeLessThan(1e-4));
      });
    } finally {
      await s.close();
      await ends.close();
    }
  });
});

describe('serve', () => {
  it('answers the official openai client with echo + logprobs and generations', async () => {
    const client = new OpenAI({ baseURL: server.url, apiKey: 'unused', maxRetries: 0 });
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['notes-lm']);
    const text = sampleTexts[1]!;
    const r = await client.completions.create({ model: 'notes-lm', prompt: text, echo: true, logprobs: 2, max_tokens: 0, temperature: 0 });
    const lp = r.choices[0]!.logprobs!;
    expect(r.choices[0]!.text).toBe(text);
    expect(lp.tokens!.join('')).toBe(text);
    expect(lp.text_offset![5]).toBe(5);
    const [scored] = await local.scoreTexts([text]);
    lp.token_logprobs!.forEach((v, i) => expect(Math.abs(v - scored!.tokens[i]!.logprob)).toBeLessThan(1e-4));
    expect(Object.keys(lp.top_logprobs![3]!).length).toBeGreaterThanOrEqual(2);

    const g = await client.completions.create({ model: 'notes-lm', prompt: 'Patient John', max_tokens: 24, temperature: 0, logprobs: 0 });
    const [[greedy]] = await local.generate([{ prompt: 'Patient John', maxTokens: 24, decoding: { kind: 'greedy' } }]);
    expect(g.choices[0]!.text).toBe(greedy!.text);
    expect(g.choices[0]!.logprobs!.tokens!.join('')).toBe(greedy!.text);
  });

  it('rejects bad requests with OpenAI-style errors', async () => {
    const client = new OpenAI({ baseURL: server.url, apiKey: 'unused', maxRetries: 0 });
    await expect(client.completions.create({ model: 'other', prompt: 'x', max_tokens: 1 })).rejects.toMatchObject({ status: 404 });
    await expect(client.completions.create({ model: 'notes-lm', prompt: 'x', max_tokens: -1 })).rejects.toMatchObject({ status: 400 });
    const res = await fetch(`${server.url}/completions`, { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/not valid JSON/);
  });

  it('requires the API key when started with one, and the target sends it from --api-key-env', async () => {
    const keyed = await startServer({ target: local, modelName: 'notes-lm', port: 0, apiKey: 'k-123' });
    try {
      const denied = await fetch(`${keyed.url}/models`);
      expect(denied.status).toBe(401);
      await expect(openTarget(`openai:${keyed.url}#notes-lm`)).rejects.toThrow(/HTTP 401/);
      const t = await openTarget(`openai:${keyed.url}`, { apiKeyEnv: 'SERVE_KEY', env: { SERVE_KEY: 'k-123' } });
      expect((await t.describe()).model).toBe('notes-lm');
      await expect(openTarget(`openai:${keyed.url}`, { apiKeyEnv: 'MISSING_KEY', env: {} })).rejects.toThrow('--api-key-env MISSING_KEY: that environment variable is not set');
    } finally {
      await keyed.close();
    }
  });

  it('logs an internal error without the request, even when the error quotes it', async () => {
    const record = 'Patient Jane Roe MRN 99812';
    // V8's JSON.parse error quotes the start of its input; a buggy path could hand it a prompt.
    const score = vi.spyOn(local, 'scoreDetailed').mockImplementationOnce(async (t: string[]) => {
      throw new SyntaxError(`Unexpected token 'P', "${t[0]!.slice(0, 12)}"... is not valid JSON at ${t[0]!.slice(-5)}`);
    });
    const written: string[] = [];
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    try {
      const r = await fetch(`${server.url}/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'notes-lm', prompt: record, echo: true, logprobs: 1, max_tokens: 0 }),
      });
      const body = await r.text();
      expect(r.status).toBe(500);
      expect(body).not.toContain('Jane');
    } finally {
      stderr.mockRestore();
      score.mockRestore();
    }
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^memaudit serve: internal error answering a request: SyntaxError: Unexpected token/);
    for (const needle of ['Patient', 'Jane', '99812', 'MRN']) expect(written[0]).not.toContain(needle);
    expect(internalErrorLine(new Error(`row 123456 of 'x'`))).toBe('Error: row # of …');
  });

  it('runs from the CLI and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [cliPath, 'serve', '--model', dir, '--port', '0', '--model-name', 'cli-lm', '--json', '--backend', 'wasm'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const started = await new Promise<{ url: string; target: string }>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d;
        try {
          resolve(JSON.parse(stdout));
        } catch {
          // wait for the whole JSON
        }
      });
      child.on('exit', () => reject(new Error(`serve exited: ${stderr}`)));
    });
    expect(started.target).toBe(`openai:${started.url}#cli-lm`);
    const t = await openTarget(started.target);
    const [s] = await t.scoreTexts([sampleTexts[2]!]);
    const [l] = await local.scoreTexts([sampleTexts[2]!]);
    s!.tokens.forEach((tok, i) => expect(Math.abs(tok.logprob - l!.tokens[i]!.logprob)).toBeLessThan(1e-4));
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
    expect(stderr).toBe('');
  });

  it('exits 2 with one line for a missing model directory or a classifier', async () => {
    const r = await runCli(['serve', '--model', '/nonexistent/model', '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('memaudit serve: --target /nonexistent/model: model directory not found');
    const p = await runCli(['serve', '--model', dir, '--port', 'abc']);
    expect(p.code).toBe(2);
    expect(p.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('capabilities', () => {
  it('a local LM has no class probabilities: typed error, not a crash', async () => {
    await expect(local.classProbabilities([{ a: 1 }])).rejects.toBeInstanceOf(CapabilityError);
  });
});
