import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createDecipheriv, createHash } from 'node:crypto';
import { join } from 'node:path';
import { HttpClient, HttpStatusError, RequestBudgetError, serverMessageOf } from '../../src/targets/http/client.js';
import { cacheSecretFrom, ResponseCache } from '../../src/targets/http/cache.js';
import { parseRetryAfter, backoffDelay } from '../../src/targets/http/retry.js';
import { ExitCode, InputError, UsageError } from '../../src/core/errors.js';
import { tempDir } from '../helpers/cli.js';
import { httpError, startFaultServer, type FaultServer } from './fault-server.js';

let server: FaultServer | undefined;
const cacheSecret = 'test-cache-secret-0123456789';
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

const fast = { retryBaseMs: 5, retryMaxMs: 20 };

describe('HttpClient', () => {
  it('retries 429 honouring Retry-After, then 500, then succeeds', async () => {
    server = await startFaultServer({ 'POST /echo': (body) => ({ got: body }) });
    server.faults.set('POST /echo', [{ kind: 'status', status: 429, retryAfter: '1' }, { kind: 'status', status: 500 }]);
    const client = new HttpClient(fast);
    const t0 = Date.now();
    const r = await client.postJson<{ got: unknown }>(`${server.url}/echo`, { x: 1 });
    expect(r.got).toEqual({ x: 1 });
    expect(server.received).toHaveLength(3);
    // The second attempt waited for the server's Retry-After (1 s), not the 5 ms backoff.
    expect(server.received[1]!.at - server.received[0]!.at).toBeGreaterThanOrEqual(950);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(client.stats).toMatchObject({ requests: 3, retries: 2 });
  });

  it('times out a slow response and retries it', async () => {
    server = await startFaultServer({ 'POST /slow': () => ({ ok: true }) });
    server.faults.set('POST /slow', [{ kind: 'slow', delayMs: 1500 }]);
    const client = new HttpClient({ ...fast, timeoutMs: 200 });
    const t0 = Date.now();
    expect(await client.postJson(`${server.url}/slow`, {})).toEqual({ ok: true });
    expect(Date.now() - t0).toBeLessThan(1400);
    expect(server.received).toHaveLength(2);
  });

  it('retries truncated and garbled responses', async () => {
    server = await startFaultServer({ 'POST /t': () => ({ text: 'x'.repeat(5000) }) });
    server.faults.set('POST /t', [{ kind: 'truncate' }, { kind: 'garbage' }]);
    const client = new HttpClient(fast);
    expect(await client.postJson(`${server.url}/t`, {})).toEqual({ text: 'x'.repeat(5000) });
    expect(server.received).toHaveLength(3);
  });

  it('gives up after the retry limit with one line naming the URL', async () => {
    server = await startFaultServer({ 'POST /down': () => ({}) });
    server.faults.set('POST /down', Array.from({ length: 10 }, () => ({ kind: 'status' as const, status: 503 })));
    const client = new HttpClient({ ...fast, maxRetries: 2 });
    const e = await client.postJson(`${server.url}/down`, {}).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toMatch(/\/down: gave up after 3 attempts \(last: HTTP 503/);
    expect(server.received).toHaveLength(3);
  });

  it('does not retry a 400 and reports its status and error type (never its free text)', async () => {
    server = await startFaultServer({ 'POST /bad': () => ({}) });
    server.faults.set('POST /bad', [{ kind: 'status', status: 400, body: { error: { message: 'echo not supported', type: 'invalid_request_error' } } }]);
    const e = await new HttpClient(fast).postJson(`${server.url}/bad`, {}).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HttpStatusError);
    expect((e as HttpStatusError).status).toBe(400);
    expect((e as Error).message).toBe(`${server.url}/bad: HTTP 400 (type invalid_request_error)`);
    expect(server.received).toHaveLength(1);
  });

  it('names an unreachable URL', async () => {
    const closed = await startFaultServer({});
    const url = `${closed.url}/v1/models`;
    await closed.close(); // nothing listens there any more
    const client = new HttpClient({ ...fast, maxConnectRetries: 1 });
    const e = await client.getJson(url).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toBe(`cannot reach ${url}: ECONNREFUSED`);
    expect(client.stats.requests).toBe(2);
  });

  it('bounds concurrency', async () => {
    let inFlight = 0;
    let peak = 0;
    server = await startFaultServer({
      'POST /c': async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 30));
        inFlight--;
        return {};
      },
    });
    const client = new HttpClient({ ...fast, concurrency: 3 });
    await Promise.all(Array.from({ length: 12 }, (_, i) => client.postJson(`${server!.url}/c`, { i })));
    expect(peak).toBe(3);
  });

  it('stops at the request budget with an inconclusive error (exit 3), counting retries', async () => {
    server = await startFaultServer({ 'POST /b': () => ({}) });
    server.faults.set('POST /b', [{ kind: 'status', status: 500 }]);
    const client = new HttpClient({ ...fast, maxRequests: 3, concurrency: 1 });
    await client.postJson(`${server.url}/b`, { i: 0 }); // 2 attempts
    await client.postJson(`${server.url}/b`, { i: 1 }); // 1 attempt: budget now spent
    const e = await client.postJson(`${server.url}/b`, { i: 2 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RequestBudgetError);
    expect((e as RequestBudgetError).exitCode).toBe(ExitCode.inconclusive);
    expect(server.received).toHaveLength(3);
  });

  it('caches responses on disk, encrypted, keyed without the API key; a rerun makes no request', async () => {
    server = await startFaultServer({ 'POST /v1/completions': (body) => ({ echoed: body.prompt }) });
    const dir = tempDir();
    const secretKey = 'sk-test-0123456789abcdef';
    const record = 'Patient Jane Roe MRN 99812';
    const first = new HttpClient({ ...fast, cache: new ResponseCache(dir, cacheSecret), secretHeaders: { authorization: `Bearer ${secretKey}` } });
    expect(await first.postJson(`${server.url}/v1/completions`, { prompt: record, model: 'm' })).toEqual({ echoed: record });
    expect(server.received[0]!.headers.authorization).toBe(`Bearer ${secretKey}`);
    const stored = files(dir);
    expect(stored).toHaveLength(1);
    const bytes = readFileSync(stored[0]!);
    // Neither the key, nor the record (request or response), nor the endpoint appears on disk.
    for (const needle of [secretKey, record, 'Jane', 'completions', 'echoed']) {
      expect(bytes.includes(Buffer.from(needle))).toBe(false);
      expect(stored[0]!.includes(needle)).toBe(false);
    }
    expect(statSync(stored[0]!).mode & 0o777).toBe(0o600);

    // Another key, same request: served from the cache (the key is not part of the cache key).
    const second = new HttpClient({ ...fast, cache: new ResponseCache(dir, cacheSecret), secretHeaders: { authorization: 'Bearer other' }, maxRequests: 1 });
    expect(await second.postJson(`${server.url}/v1/completions`, { model: 'm', prompt: record })).toEqual({ echoed: record });
    expect(second.stats).toMatchObject({ requests: 0, cacheHits: 1 });
    expect(server.received).toHaveLength(1);

    // A different request is a miss.
    await second.postJson(`${server.url}/v1/completions`, { model: 'm', prompt: 'other' });
    expect(server.received).toHaveLength(2);
  });

  it('keeps basic-auth credentials and the Authorization header out of the cache, its file names and its key', async () => {
    server = await startFaultServer({ 'POST /v1/completions': (body) => ({ echoed: body.prompt }) });
    const dir = tempDir();
    const withPassword = server.url.replace('://', '://user:s3cretpw@');
    const bearer = 'Bearer sk-test-authorization-header';
    const first = new HttpClient({ ...fast, cache: new ResponseCache(dir, cacheSecret), secretHeaders: { authorization: bearer } });
    await first.postJson(`${withPassword}/v1/completions`, { prompt: 'p', model: 'm' });
    expect(server.received[0]!.headers.authorization).toBe(bearer);
    const basic = Buffer.from('user:s3cretpw').toString('base64');
    const [stored] = files(dir);
    const bytes = readFileSync(stored!);
    for (const needle of ['s3cretpw', basic, bearer, 'sk-test-authorization-header', 'Bearer', 'Basic']) {
      expect(bytes.includes(Buffer.from(needle)), needle).toBe(false);
      expect(stored!.includes(needle), needle).toBe(false);
    }
    // Another password (and no header): same entry; credentials do not shape the cache key.
    const second = new HttpClient({ ...fast, cache: new ResponseCache(dir, cacheSecret), maxRequests: 1 });
    expect(await second.postJson(`${server.url.replace('://', '://user:other@')}/v1/completions`, { prompt: 'p', model: 'm' })).toEqual({ echoed: 'p' });
    expect(second.stats).toMatchObject({ requests: 0, cacheHits: 1 });
  });

  it('drops a server error body that echoes the prompt: only its structured type and code reach the message', async () => {
    const record = 'Patient Jane Roe MRN 99812 SSN 123-45-6789';
    const key = 'sk-live-0123456789';
    server = await startFaultServer({
      // OpenAI style: free text quoting the prompt and the key, structured type and code.
      'POST /openai': (b) => {
        throw httpError(400, '', { error: { message: `Invalid prompt: '${b.prompt}' (key ${key})`, type: 'invalid_request_error', code: 'bad_prompt', param: b.prompt } });
      },
      // A retryable 503 whose plain-text body echoes the request (a proxy's page).
      'POST /proxy': (b) => {
        throw httpError(503, '', `<html>upstream failed for ${b.prompt}</html>`);
      },
      // A "code" that is really echoed data.
      'POST /tricky': (b) => {
        throw httpError(400, '', { error: { message: b.prompt, type: 'MRN99812', code: b.prompt } });
      },
    });
    const client = new HttpClient({ ...fast, maxRetries: 1, secretHeaders: { authorization: `Bearer ${key}` } });
    const reasons: string[] = [];
    for (const path of ['/openai', '/proxy', '/tricky']) {
      const e = await client.postJson(`${server.url}${path}`, { prompt: record }).catch((x: unknown) => x);
      expect(e, path).toBeInstanceOf(InputError);
      reasons.push((e as Error).message);
      if (e instanceof HttpStatusError) reasons.push(e.serverMessage);
    }
    for (const reason of reasons) {
      for (const needle of [record, 'Jane', '99812', '6789', key]) expect(reason).not.toContain(needle);
      expect(reason.split('\n')).toHaveLength(1);
    }
    expect(reasons[0]).toBe(`${server.url}/openai: HTTP 400 (type invalid_request_error)`);
    expect(reasons[2]).toBe(`${server.url}/proxy: gave up after 2 attempts (last: HTTP 503)`);
    expect(reasons[3]).toBe(`${server.url}/tricky: HTTP 400`);
  });

  it('serverMessageOf keeps only identifier-like error fields', () => {
    expect(serverMessageOf(JSON.stringify({ object: 'error', message: 'bad', type: 'BadRequestError', code: 400 }))).toBe('type BadRequestError, code 400');
    expect(serverMessageOf(JSON.stringify({ error: 'Input validation error: Patient Jane', error_type: 'validation' }))).toBe('type validation');
    expect(serverMessageOf(JSON.stringify({ detail: [{ type: 'missing', msg: 'Field required', input: 'Jane Roe' }] }))).toBe('type missing');
    expect(serverMessageOf(JSON.stringify({ error: { message: 'x', type: 'a b c', code: '123-45-6789', param: 'messages[0]' } }))).toBe('');
    expect(serverMessageOf('Bad Gateway: Jane Roe')).toBe('');
    // Identifier-like values that are not error words nor request fields: the key, a canary's words.
    expect(serverMessageOf(JSON.stringify({ error: { type: 'sk-hostile-KEY-abc', code: 'sk-hostile-KEY-abc', param: 'Patient_Jane_Roe' } }))).toBe('');
    expect(serverMessageOf(JSON.stringify({ error: { type: 'invalid_request_error', code: 'context_length_exceeded', param: 'max_tokens' } }))).toBe(
      'type invalid_request_error, code context_length_exceeded, param max_tokens',
    );
  });

  it('a header fetch refuses fails once, with a line that does not quote it', async () => {
    server = await startFaultServer({ 'GET /x': () => ({}) });
    const client = new HttpClient({ ...fast, secretHeaders: { authorization: 'Bearer sk-bad\rkey' } });
    const e = await client.getJson(`${server.url}/x`).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toBe(`${server.url}/x: the request could not be built (a header value, such as the API key, holds characters HTTP does not allow)`);
    expect(client.stats.requests).toBe(1);
    expect(server.received).toHaveLength(0);
  });

  it('cache entries are keyed under the user secret: another secret, or a key derived from the request alone, reads nothing', async () => {
    server = await startFaultServer({ 'POST /v1/completions': (body) => ({ echoed: body.prompt }) });
    const dir = tempDir();
    const request = { prompt: 'Patient Jane Roe MRN 99812', model: 'm' };
    const url = `${server.url}/v1/completions`;
    await new HttpClient({ ...fast, cache: new ResponseCache(dir, cacheSecret) }).postJson(url, request);
    const [entry] = files(dir);
    const data = readFileSync(entry!);
    const canonical = JSON.stringify({ body: { model: 'm', prompt: request.prompt }, method: 'POST', url });
    // Whoever guesses the request cannot derive the entry's key (the convergent scheme of cache v1).
    for (const format of ['memaudit-response-cache-v1', 'memaudit-response-cache-v2']) {
      const guessed = createHash('sha256').update(`${format}\0key\0`).update(canonical).digest();
      const decipher = createDecipheriv('aes-256-gcm', guessed, data.subarray(0, 12));
      decipher.setAuthTag(data.subarray(12, 28));
      expect(() => Buffer.concat([decipher.update(data.subarray(28)), decipher.final()])).toThrow();
    }
    const other = new ResponseCache(dir, 'another-secret-0123456789');
    expect(other.get({ method: 'POST', url, body: request })).toBeUndefined();
    expect(new ResponseCache(dir, cacheSecret).get({ method: 'POST', url, body: request })).toBe(JSON.stringify({ echoed: request.prompt }));
    expect(() => new ResponseCache(dir, 'short')).toThrow(UsageError);
    expect(() => cacheSecretFrom({}, dir)).toThrow(/set MEMAUDIT_CACHE_KEY to a secret of at least 16 characters/);
  });

  it('caps response bodies: a larger body is an error, and a planted oversized cache entry is never read', async () => {
    server = await startFaultServer({ 'POST /big': () => ({ pad: 'x'.repeat(5000) }), 'POST /small': () => ({ ok: 1 }) });
    const dir = tempDir();
    const client = new HttpClient({ ...fast, maxResponseBytes: 4096, cache: new ResponseCache(dir, cacheSecret, 4096) });
    const e = await client.postJson(`${server.url}/big`, {}).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toBe(`${server.url}/big: response body larger than the limit of 4096 bytes (--max-response-mb)`);
    expect(server.received).toHaveLength(1);
    expect(files(dir)).toHaveLength(0);
    await client.postJson(`${server.url}/small`, {});
    const [entry] = files(dir);
    writeFileSync(entry!, Buffer.alloc(10_000));
    expect(new ResponseCache(dir, cacheSecret, 4096).get({ method: 'POST', url: `${server.url}/small`, body: {} })).toBeUndefined();
  });

  it('follows a same-origin redirect, refuses a cross-origin one unless allowed, and never sends the key across', async () => {
    const other = await startFaultServer({ 'GET /there': () => ({ where: 'other' }) });
    try {
      server = await startFaultServer({ 'GET /here': () => ({ where: 'here' }) });
      server.faults.set('GET /moved', [{ kind: 'status', status: 308, headers: { location: '/here' } }]);
      server.faults.set('GET /away', [
        { kind: 'status', status: 307, headers: { location: `${other.url}/there` } },
        { kind: 'status', status: 307, headers: { location: `${other.url}/there` } },
      ]);
      const client = new HttpClient({ ...fast, secretHeaders: { authorization: 'Bearer sk-redirect-key' } });
      expect(await client.getJson(`${server.url}/moved`)).toEqual({ where: 'here' });
      const e = await client.getJson(`${server.url}/away`).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).toBe(`${server.url}/away: HTTP 307 redirects to another origin (${other.url}); the audit would measure an endpoint other than the target (--allow-redirects follows it)`);
      expect(other.received).toHaveLength(0);
      const allowing = new HttpClient({ ...fast, allowRedirects: true, secretHeaders: { authorization: 'Bearer sk-redirect-key' } });
      expect(await allowing.getJson(`${server.url}/away`)).toEqual({ where: 'other' });
      expect(other.received[0]!.headers.authorization).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('a name a server reports is kept only when plain and free of the credentials we send', () => {
    const client = new HttpClient({ secretHeaders: { authorization: 'Bearer sk-name-key-xyz' } });
    expect(client.serverName('meta-llama/Llama-3.1-8B-Instruct')).toBe('meta-llama/Llama-3.1-8B-Instruct');
    expect(client.serverName('model-sk-name-key-xyz')).toBeUndefined();
    expect(client.serverName('Patient Jane Roe')).toBeUndefined();
    expect(client.serverName(42)).toBeUndefined();
    expect(client.serverName('pw-s3cretpw', 'http://u:s3cretpw@h/v1')).toBeUndefined();
  });

  it('does not cache failures, and treats a damaged entry as a miss', async () => {
    server = await startFaultServer({ 'POST /x': () => ({ v: 1 }) });
    server.faults.set('POST /x', [{ kind: 'status', status: 400 }]);
    const dir = tempDir();
    const cache = new ResponseCache(dir, cacheSecret);
    const client = new HttpClient({ ...fast, cache });
    await expect(client.postJson(`${server.url}/x`, { a: 1 })).rejects.toBeInstanceOf(HttpStatusError);
    expect(files(dir)).toHaveLength(0);
    await client.postJson(`${server.url}/x`, { a: 1 });
    const [entry] = files(dir);
    const damaged = readFileSync(entry!);
    damaged[damaged.length - 1] ^= 0xff;
    (await import('node:fs')).writeFileSync(entry!, damaged);
    expect(cache.get({ method: 'POST', url: `${server.url}/x`, body: { a: 1 } })).toBeUndefined();
    expect(await client.postJson(`${server.url}/x`, { a: 1 })).toEqual({ v: 1 });
    expect(server.received).toHaveLength(3);
  });
});

describe('retry timing', () => {
  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('0.5')).toBe(500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('backs off exponentially with full jitter under a cap', () => {
    const opts = { baseMs: 100, maxMs: 1000 };
    expect(backoffDelay(0, opts, () => 0.999)).toBe(99);
    expect(backoffDelay(3, opts, () => 0.5)).toBe(400);
    expect(backoffDelay(10, opts, () => 0.999)).toBe(999);
    expect(backoffDelay(2, opts, () => 0)).toBe(0);
  });
});
