/**
 * `serve` under hostile clients: a non-loopback bind needs a key, and every request is bounded in
 * bytes, work and time; work stops when the client leaves, and /health answers meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend.js';
import { UsageError } from '../../src/core/errors.js';
import { openTarget } from '../../src/targets/index.js';
import type { LocalLmTarget } from '../../src/targets/local/lm.js';
import { startServer, type RunningServer } from '../../src/targets/serve/server.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { makeCharLmDir } from './fixtures.js';

let dir: string;
let local: LocalLmTarget;
let server: RunningServer;

/** Long generations: the end token is made improbable, so every sequence runs to max_tokens. */
const heavy = { model: 'lm', prompt: 'Patient ', max_tokens: 4096, n: 64, temperature: 1 };

beforeAll(async () => {
  await initBackend('wasm');
  dir = await makeCharLmDir(tempDir(), { endBias: -30 });
  local = (await openTarget(dir)) as LocalLmTarget;
  server = await startServer({ target: local, modelName: 'lm', port: 0, maxBodyBytes: 64 * 1024, maxRequestTokens: 10_000_000, requestTimeoutMs: 1500 });
});

afterAll(async () => {
  await server?.close();
  await local?.close();
});

async function post(body: unknown, init: RequestInit = {}): Promise<{ status: number; json: any; ms: number }> {
  const started = Date.now();
  const r = await fetch(`${server.url}/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body), ...init });
  return { status: r.status, json: await r.json(), ms: Date.now() - started };
}

async function healthMs(): Promise<number> {
  const started = Date.now();
  const r = await fetch(`${server.url.replace(/\/v1$/, '')}/health`);
  expect(r.status).toBe(200);
  return Date.now() - started;
}

describe('serve: binding and request bounds', () => {
  it('refuses a non-loopback bind without a key unless --insecure-no-auth', async () => {
    await expect(startServer({ target: local, modelName: 'lm', port: 0, host: '0.0.0.0' })).rejects.toThrow(UsageError);
    for (const options of [{ apiKey: 'k-0123456789' }, { insecureNoAuth: true }]) {
      const s = await startServer({ target: local, modelName: 'lm', port: 0, host: '0.0.0.0', ...options });
      await s.close();
    }
    const r = await runCli(['serve', '--model', dir, '--port', '0', '--host', '0.0.0.0']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--host 0\.0\.0\.0: not a loopback address.*--api-key-env.*--insecure-no-auth/);
  });

  it('a body over the byte limit gets a 413 naming the limit (the body is dropped, never kept)', async () => {
    const big = await post({ model: 'lm', prompt: 'x'.repeat(200 * 1024), max_tokens: 0, echo: true, logprobs: 1 });
    expect(big.status).toBe(413);
    expect(big.json.error.message).toBe("request body larger than this server's limit of 65536 bytes (--max-request-mb)");
    expect(await healthMs()).toBeLessThan(1000);
  });

  it('n x max_tokens over the work limit gets a 400 at once', async () => {
    const limited = await startServer({ target: local, modelName: 'lm', port: 0 });
    try {
      const started = Date.now();
      const r = await fetch(`${limited.url}/completions`, { method: 'POST', body: JSON.stringify({ ...heavy, n: 128 }) });
      const json = (await r.json()) as { error: { message: string; param: string } };
      expect(r.status).toBe(400);
      expect(json.error.param).toBe('max_tokens');
      expect(json.error.message).toMatch(/asks for 525312 tokens of work .* over this server's limit of 65536 \(--max-request-tokens\)/);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await limited.close();
    }
  });

  it('a request over the time limit gets a 503 naming it, and /health answers while it runs', async () => {
    const pending = post(heavy);
    await new Promise((r) => setTimeout(r, 300));
    expect(await healthMs()).toBeLessThan(1000);
    const r = await pending;
    expect(r.status).toBe(503);
    expect(r.json.error.message).toBe("the request took longer than this server's limit of 1.5 s (--request-timeout)");
    expect(r.ms).toBeLessThan(6000);
  });

  it('work stops when the client disconnects', async () => {
    const patient = await startServer({ target: local, modelName: 'lm', port: 0, maxRequestTokens: 10_000_000, requestTimeoutMs: 120_000 });
    try {
      const controller = new AbortController();
      const gone = fetch(`${patient.url}/completions`, { method: 'POST', body: JSON.stringify(heavy), signal: controller.signal }).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 300));
      controller.abort();
      expect(await gone).toBeInstanceOf(Error);
      const deadline = Date.now() + 5000;
      while (patient.stats.cancelled === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(patient.stats.cancelled).toBe(1);
      // The model is free again: a small request is answered promptly.
      const started = Date.now();
      const r = await fetch(`${patient.url}/completions`, { method: 'POST', body: JSON.stringify({ model: 'lm', prompt: 'Patient', max_tokens: 4, temperature: 0 }) });
      expect(r.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await patient.close();
    }
  });
});
