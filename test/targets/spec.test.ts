import { describe, expect, it } from 'vitest';
import { parseTargetSpec } from '../../src/targets/spec.js';
import { openTarget, redactTarget } from '../../src/targets/index.js';
import { ExitCode, UsageError, InputError } from '../../src/core/errors.js';
import { tempDir } from '../helpers/cli.js';

describe('parseTargetSpec', () => {
  it('parses each target kind', () => {
    expect(parseTargetSpec('./runs/model')).toEqual({ kind: 'local', dir: './runs/model' });
    expect(parseTargetSpec('openai:http://localhost:8000/v1/#davinci-002')).toEqual({ kind: 'openai', baseUrl: 'http://localhost:8000/v1', model: 'davinci-002' });
    expect(parseTargetSpec('openai:https://api.example.com/v1')).toEqual({ kind: 'openai', baseUrl: 'https://api.example.com/v1', model: undefined });
    expect(parseTargetSpec('tgi:http://tgi:3000')).toEqual({ kind: 'tgi', url: 'http://tgi:3000' });
    expect(parseTargetSpec('kserve:http://ks:8080#risk')).toEqual({ kind: 'kserve', url: 'http://ks:8080/v2/models/risk', model: 'risk' });
    expect(parseTargetSpec('kserve:http://ks:8080/v2/models/risk/infer')).toEqual({ kind: 'kserve', url: 'http://ks:8080/v2/models/risk', model: 'risk' });
    expect(parseTargetSpec('tfserving:http://tfs:8501/v1/models/risk/versions/3')).toEqual({ kind: 'tfserving', url: 'http://tfs:8501/v1/models/risk/versions/3', model: 'risk' });
    expect(parseTargetSpec('openai:http://user:pw@h/v1#m')).toEqual({ kind: 'openai', baseUrl: 'http://user:pw@h/v1', model: 'm' });
  });

  it('rejects bad target strings with a usage error naming them', () => {
    const bad: [string, RegExp][] = [
      ['', /--target is empty/],
      ['http://localhost:8000/v1', /say which API this is: openai:http:\/\/localhost:8000\/v1#MODEL/],
      ['vllm:http://x/v1', /unknown target kind "vllm:"/],
      ['openai:not a url', /"not a url" is not a URL/],
      ['openai:ftp://x/v1#m', /must start with http/],
      ['openai:http://x/v1#', /model name after "#" is empty/],
      ['kserve:http://ks:8080', /name the model: kserve:URL#MODEL/],
      ['tfserving:http://tfs:8501', /ends in \/v1\/models\/NAME/],
      ['tgi:http://tgi#m', /serves one model/],
    ];
    for (const [spec, message] of bad) {
      let error: unknown;
      try {
        parseTargetSpec(spec);
      } catch (e) {
        error = e;
      }
      expect(error, spec).toBeInstanceOf(UsageError);
      expect((error as UsageError).exitCode).toBe(ExitCode.usage);
      expect((error as Error).message, spec).toMatch(message);
    }
  });
});

describe('credentials in --target never reach an error line', () => {
  const password = 's3cretpw';
  const key = 'sk-live-9f8e7d';

  it('every malformed form holding user:password@ or ?api_key= is named without them', () => {
    const specs = [
      // The reviewer's repro: empty model name after "#".
      `openai:http://user:${password}@127.0.0.1:9#`,
      `http://user:${password}@127.0.0.1:9/v1`,
      `vllm:http://user:${password}@h/v1`,
      `openai:ftp://user:${password}@h/v1#m`,
      `kserve:http://user:${password}@ks:8080`,
      `tfserving:http://user:${password}@tfs:8501`,
      `tfserving:http://user:${password}@tfs:8501/v1/models/r#m`,
      `tgi:http://user:${password}@tgi#m`,
      `kserve:http://user:${password}@ks/v2/models/a#b`,
      `openai:http://user:${password}@h/v1#%zz`,
      // Unescaped "/", "?", "#" or "@" in the password garble the URL; no half of it may show.
      `openai:http://user:pa/${password}@h/v1#m`,
      `openai:http://user:pa?${password}@h/v1#m`,
      `openai:http://user:pa#${password}@h/v1#m`,
      `openai:http://user:123#${password}@h/v1`,
      `openai:user:${password}@h/v1#m`,
      `openai:http://h/v1?api_key=${key}#`,
      `http://h/v1?token=${key}`,
    ];
    for (const spec of specs) {
      let error: unknown;
      try {
        parseTargetSpec(spec);
      } catch (e) {
        error = e;
      }
      expect(error, spec).toBeInstanceOf(UsageError);
      const message = (error as Error).message;
      expect(message.split('\n'), spec).toHaveLength(1);
      for (const secret of [password, key, 'pa/', 'pa?', 'pa#', '123#']) expect(message, spec).not.toContain(secret);
    }
  });

  it('redactTarget keeps what identifies the endpoint and hides the rest', () => {
    expect(redactTarget(`openai:http://user:${password}@h:8000/v1#m`)).toBe('openai:http://h:8000/v1#m');
    expect(redactTarget(`openai:http://user:p@ss@h/v1#m`)).toBe('openai:http://h/v1#m');
    expect(redactTarget(`openai:http://h/v1?api_key=${key}&v=2#m`)).toBe('openai:http://h/v1?api_key=***&v=***#m');
    expect(redactTarget(`openai:http://u:pa/${password}@h/v1#m`)).toBe('openai:http://***@h/v1#m');
    expect(redactTarget('openai:http://h/v1#davinci-002')).toBe('openai:http://h/v1#davinci-002');
  });

  it('refuses "@" after "#" (a password with an unescaped "#"); %40 names a model with "@"', () => {
    expect(() => parseTargetSpec(`openai:http://user:123#${password}@h/v1`)).toThrow(/percent-encode/);
    expect(parseTargetSpec('openai:http://h/v1#org%40model')).toEqual({ kind: 'openai', baseUrl: 'http://h/v1', model: 'org@model' });
    expect(parseTargetSpec('openai:http://user:pa%23ss@h/v1#m')).toEqual({ kind: 'openai', baseUrl: 'http://user:pa%23ss@h/v1', model: 'm' });
  });
});

describe('openTarget', () => {
  it('names a missing model directory and a folder that is not one', async () => {
    await expect(openTarget('/no/such/model')).rejects.toThrow(new InputError('--target /no/such/model: model directory not found'));
    const empty = tempDir();
    await expect(openTarget(empty)).rejects.toThrow(/neither memaudit.json nor model.json found/);
  });

  it('names an unreachable API by its URL, without credentials', async () => {
    const e = await openTarget('openai:http://user:secret@127.0.0.1:1/v1#m', { retries: 0, retryBaseMs: 1 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:1\/v1\/models: /);
    expect((e as Error).message).not.toContain('secret');
  });

  it('refuses an API key HTTP cannot carry, without quoting it (fetch would)', async () => {
    const key = 'sk-abc\u0000def';
    const e = await openTarget('openai:http://127.0.0.1:1/v1#m', { apiKeyEnv: 'K', env: { K: key }, retries: 0 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).message).toMatch(/^--api-key-env K: the key holds/);
    expect((e as Error).message).not.toContain('sk-abc');
  });
});
