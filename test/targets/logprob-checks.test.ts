import { describe, expect, it } from 'vitest';
import { checkLogprob, checkNotDegenerate, checkRanks, checkTopList, FaultyTargetError } from '../../src/targets/api/logprob-checks.js';
import { ExitCode } from '../../src/core/errors.js';
import type { TokenLogprob } from '../../src/targets/target.js';

const src = 'http://api.test/v1/completions';

function tokens(text: string, logprob: (i: number) => number): TokenLogprob[] {
  return [...text].map((c, i) => ({ token: c, start: i, end: i + 1, logprob: logprob(i) }));
}

function faulty(fn: () => void): FaultyTargetError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FaultyTargetError);
    expect((e as FaultyTargetError).exitCode).toBe(ExitCode.usage);
    return e as FaultyTargetError;
  }
  throw new Error('expected a FaultyTargetError');
}

describe('API log-probability checks', () => {
  it('a positive or non-numeric log-probability is faulty; <= 0, -Infinity, null and rounding slack pass', () => {
    expect(faulty(() => checkLogprob(0.5, src, 'logprobs.token_logprobs[3]')).message).toBe(
      `${src}: faulty target: logprobs.token_logprobs[3] is 0.5, above 0 (a log-probability is at most 0); its scores cannot be used as evidence`,
    );
    faulty(() => checkLogprob('-1', src, 'f'));
    faulty(() => checkLogprob(Number.NaN, src, 'f'));
    for (const ok of [0, -3.2, -Infinity, null, undefined, 5e-5]) expect(() => checkLogprob(ok, src, 'f')).not.toThrow();
  });

  it('a top-k list must agree with the scored token and hold at most probability 1', () => {
    expect(faulty(() => checkTopList({ a: -0.01, b: -0.05 }, undefined, src, 'top_logprobs[1]')).message).toMatch(/top_logprobs\[1\] lists tokens whose probabilities sum to 1\.94/);
    expect(faulty(() => checkTopList({ a: -0.7, b: -2 }, { token: 'a', logprob: -1.5 }, src, 'top_logprobs[2]')).message).toMatch(/gives the scored token -0\.7, but its own log-probability is -1\.5/);
    faulty(() => checkTopList({ a: 0.2 }, undefined, src, 'top'));
    expect(() => checkTopList({ a: -0.7, b: -2 }, { token: 'a', logprob: -0.7 }, src, 'top')).not.toThrow();
    expect(() => checkTopList({ a: -0.7, b: -2 }, { token: 'c', logprob: -4 }, src, 'top')).not.toThrow();
    // A full distribution (float32 rounding) passes.
    const full = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`t${i}`, Math.log(1 / 50) + 1e-6]));
    expect(() => checkTopList(full, undefined, src, 'top')).not.toThrow();
  });

  it('ranked alternatives must not rise with rank', () => {
    expect(faulty(() => checkRanks([{ logprob: -2, rank: 1 }, { logprob: -0.5, rank: 2 }], src, 'prompt_logprobs[4]')).message).toMatch(/prompt_logprobs\[4\] ranks a token/);
    expect(() => checkRanks([{ logprob: -0.5, rank: 1 }, { logprob: -2, rank: 3 }, { logprob: -1 }], src, 'p')).not.toThrow();
  });

  it('one constant for every token of a varied text is degenerate scoring; short or repetitive texts are not judged', () => {
    expect(faulty(() => checkNotDegenerate(tokens('Patient Jane Roe', () => -2), src, 'logprobs.token_logprobs')).message).toMatch(
      /all 16 tokens of a varied text the same log-probability -2 \(degenerate scoring\)/,
    );
    faulty(() => checkNotDegenerate(tokens('abcdefgh', () => 0), src, 'f'));
    expect(() => checkNotDegenerate(tokens('abcdefg', () => -2), src, 'f')).not.toThrow();
    expect(() => checkNotDegenerate(tokens('aaaaaaaabbbb', () => -2), src, 'f')).not.toThrow();
    expect(() => checkNotDegenerate(tokens('Patient Jane Roe', (i) => -2 - (i === 7 ? 1e-6 : 0)), src, 'f')).not.toThrow();
  });
});
