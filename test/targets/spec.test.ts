import { describe, expect, it } from 'vitest';
import { parseTargetSpec } from '../../src/targets/spec.js';
import { openTarget } from '../../src/targets/index.js';
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
});
