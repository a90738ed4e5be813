/**
 * Target strings from the command line, end to end: bad strings and unreachable APIs exit 2 with
 * one line; an API that cannot score text makes a probe exit 3 (inconclusive); a probe through
 * `serve` gives the numbers it gives on the local model.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../src/core/backend.js';
import { openTarget } from '../../src/targets/index.js';
import type { LocalLmTarget } from '../../src/targets/local/lm.js';
import { startServer } from '../../src/targets/serve/server.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { startFaultServer, httpError } from './fault-server.js';
import { makeCharLmDir } from './fixtures.js';

let work: string;
let manifest: string;

beforeAll(async () => {
  work = tempDir();
  const data = join(work, 'data.jsonl');
  writeFileSync(data, Array.from({ length: 30 }, (_, i) => JSON.stringify({ text: `Note ${i}: patient seen, follow-up in ${i} weeks.` })).join('\n') + '\n');
  const gen = await runCli(['canary', 'generate', '--pack', 'pin', '--count', '4', '--out', join(work, 'c.json'), '--seed', '1', '--quiet']);
  expect(gen.code, gen.stderr).toBe(0);
  manifest = join(work, 'm.json');
  const ins = await runCli(['canary', 'insert', '--data', data, '--canaries', join(work, 'c.json'), '--repetitions', '1', '--references', '2', '--out', join(work, 'out.jsonl'), '--manifest', manifest, '--seed', '1', '--quiet']);
  expect(ins.code, ins.stderr).toBe(0);
});

function probe(target: string, extra: string[] = []) {
  return runCli(['probe', 'exposure', '--target', target, '--manifest', manifest, '--out', join(work, `e-${Math.random()}.json`), '--retries', '0', ...extra]);
}

describe('--target on the command line', () => {
  it('a bad target string exits 2 with one line naming it', async () => {
    for (const [target, message] of [
      // (spec.test.ts covers every malformed form; these check the CLI path once each way.)
      ['http://localhost:8000/v1', 'say which API this is'],
      ['/no/such/model', 'model directory not found'],
    ]) {
      const r = await probe(target!);
      expect(r.code, target).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`--target ${target}`);
      expect(lines[0]).toContain(message);
    }
  });

  it('a manifest that does not belong to the model exits 2 before anything is probed', async () => {
    // A model directory records its training data digest; this one was not trained on the manifest's dataset.
    const dir = await makeCharLmDir(work, { name: 'unbound' });
    const out = join(work, 'unbound-result.json');
    const r = await runCli(['probe', 'exposure', '--target', dir, '--manifest', manifest, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('the manifest does not belong to the model');
    expect(readdirSync(work)).not.toContain('unbound-result.json');
  });

  it('an unreachable API exits 2 naming its URL', async () => {
    const dead = await startFaultServer({});
    await dead.close();
    const r = await probe(`openai:${dead.url}/v1#m`);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`memaudit probe exposure: cannot reach ${dead.url}/v1/models: ECONNREFUSED`);
  });

  it('an API that cannot score text makes the probe inconclusive (exit 3), never a score of zero', async () => {
    const server = await startFaultServer({
      'GET /v1/models': () => ({ data: [{ id: 'gpt-3.5-turbo-instruct' }] }),
      'POST /v1/completions': (b) => {
        if (b.echo || b.prompt_logprobs !== undefined) throw httpError(400, "Setting 'echo' and 'logprobs' at the same time is not supported for this model.");
        return { choices: [{ index: 0, text: ' ok', logprobs: null }] };
      },
    });
    try {
      const r = await probe(`openai:${server.url}/v1`);
      expect(r.code).toBe(3);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/(cannot|neither) score/);
    } finally {
      await server.close();
    }
  });

  it('no error line or cache file holds the basic-auth password, the --api-key-env key or a prompt', async () => {
    const password = 's3cretpw';
    const key = 'sk-live-e2e-0123456789';
    const env = { MEMAUDIT_TEST_KEY: key, MEMAUDIT_CACHE_KEY: 'test-cache-secret-0123456789' };
    const canaries = (JSON.parse(readFileSync(manifest, 'utf8')) as { canaries: { text: string; secret: string }[] }).canaries;
    const detection = new Set(['The quick brown fox jumps over the lazy dog.', 'Hello there', 'Hello']);
    const server = await startFaultServer({
      'GET /v1/models': (_b, req) => {
        // Like OpenAI: a wrong key is quoted back in the error text.
        if (req.headers.authorization !== `Bearer ${key}`) throw httpError(401, '', { error: { message: `Incorrect API key provided: ${req.headers.authorization}`, type: 'invalid_request_error', code: 'invalid_api_key' } });
        return { data: [{ id: 'm' }] };
      },
      'POST /v1/completions': (b) => {
        const prompts: string[] = typeof b.prompt === 'string' ? [b.prompt] : b.prompt;
        // Scoring a canary fails with a body echoing the prompt and the key (a proxy's error page).
        if (!prompts.every((p) => detection.has(p))) throw httpError(500, '', `<pre>upstream error for ${JSON.stringify(b)} with ${key} (${password})</pre>`);
        return {
          choices: prompts.map((p, index) => {
            const tokens = p.match(/\s*\S+/g) ?? [p];
            let at = 0;
            return { index, text: p, logprobs: { tokens, token_logprobs: tokens.map((_, i) => (i === 0 ? null : -1 - i / 10)), text_offset: tokens.map((t) => ((at += t.length), at - t.length)) } };
          }),
        };
      },
    });
    const cacheDir = tempDir();
    const withPassword = server.url.replace('://', `://user:${password}@`);
    try {
      const runs = [
        // The reviewer's repro: a malformed target (empty model name).
        await probe(`openai:http://user:${password}@127.0.0.1:9#`, ['--api-key-env', 'MEMAUDIT_TEST_KEY', '--cache-dir', cacheDir]).then((r) => ({ r, code: 2 })),
        // Unreachable (a port fetch refuses).
        await probe(`openai:http://user:${password}@127.0.0.1:9/v1#m`, ['--api-key-env', 'MEMAUDIT_TEST_KEY']).then((r) => ({ r, code: 2 })),
        // Refused credentials: the server quotes the key it got.
        await runCli(['probe', 'exposure', '--target', `openai:${withPassword}/v1#m`, '--manifest', manifest, '--out', join(work, 'e-401.json'), '--retries', '0', '--api-key-env', 'MEMAUDIT_TEST_KEY'], { env: { MEMAUDIT_TEST_KEY: 'sk-wrong-key-42' } }).then((r) => ({ r, code: 2, wrong: 'sk-wrong-key-42' })),
        // Scoring fails with an echoing body; detection responses land in the cache.
        await runCli(['probe', 'exposure', '--target', `openai:${withPassword}/v1?api_key=${key}#m`, '--manifest', manifest, '--out', join(work, 'e-500.json'), '--retries', '0', '--api-key-env', 'MEMAUDIT_TEST_KEY', '--cache-dir', cacheDir], { env }).then((r) => ({ r, code: 2 })),
      ];
      const basic = Buffer.from(`user:${password}`).toString('base64');
      for (const { r, code, wrong } of runs) {
        expect(r.code, r.stderr).toBe(code);
        expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
        for (const needle of [password, key, basic, wrong ?? key, ...canaries.flatMap((c) => [c.text, c.secret])]) {
          expect(r.stderr, needle).not.toContain(needle);
          expect(r.stdout, needle).not.toContain(needle);
        }
      }
      expect(runs[2]!.r.stderr).toContain('HTTP 401 (type invalid_request_error, code invalid_api_key)');
      expect(runs[3]!.r.stderr).toMatch(/gave up after 1 attempts \(last: HTTP 500\)/);
      // The key went to the server (as a Bearer token, not in the URL we called) ...
      expect(server.received.some((x) => x.headers.authorization === `Bearer ${key}`)).toBe(true);
      // ... and never to the cache, whose entries and names hold neither credentials nor prompts.
      const entries = readdirSync(cacheDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
      expect(entries.length).toBeGreaterThan(0);
      for (const entry of entries) {
        const bytes = readFileSync(join(entry.parentPath, entry.name));
        for (const needle of [password, key, basic, 'Bearer', 'quick brown']) {
          expect(bytes.includes(Buffer.from(needle)), needle).toBe(false);
          expect(join(entry.parentPath, entry.name)).not.toContain(needle);
        }
      }
    } finally {
      await server.close();
    }
  });

  it('a probe through serve gives the numbers it gives on the local model', async () => {
    await initBackend('wasm');
    // The model must be bound to the manifest (its recorded training data is the manifest's output).
    const trainingDataSha256 = (JSON.parse(readFileSync(manifest, 'utf8')) as { output: { sha256: string } }).output.sha256;
    const dir = await makeCharLmDir(work, { sharpen: 30, trainingDataSha256 });
    const local = (await openTarget(dir)) as LocalLmTarget;
    const server = await startServer({ target: local, modelName: 'lm', port: 0 });
    try {
      const flags = ['--seed', '1', '--mode', 'estimated', '--samples', '20', '--max-samples', '20', '--scoring', 'per-text', '--json'];
      const a = await probe(dir, flags);
      const b = await probe(`openai:${server.url}#lm`, [...flags, '--concurrency', '8']);
      expect(a.code, a.stderr).toBe(0);
      expect(b.code, b.stderr).toBe(0);
      const ra = JSON.parse(a.stdout) as { canaries: { id: string; exposureBits: number }[] };
      const rb = JSON.parse(b.stdout) as { canaries: { id: string; exposureBits: number }[]; target: { kind: string } };
      expect(rb.target.kind).toBe('openai');
      expect(rb.canaries.map((c) => c.id)).toEqual(ra.canaries.map((c) => c.id));
      rb.canaries.forEach((c, i) => expect(Math.abs(c.exposureBits - ra.canaries[i]!.exposureBits)).toBeLessThan(1e-3));
      // Nothing of the prompts went to the server's output or the result besides ids and numbers.
      expect(readFileSync(manifest, 'utf8').length).toBeGreaterThan(0);
    } finally {
      await server.close();
      await local.close();
    }
  });
});
