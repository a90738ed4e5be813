import { afterEach, describe, expect, it } from 'vitest';
import { CapabilityError, ExitCode } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { openTarget } from '../../src/targets/index.js';
import { httpError, startFaultServer, type FaultServer } from './fault-server.js';

let server: FaultServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Splits text into word-ish tokens the way a BPE server might (leading spaces attached). */
function bpe(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

function legacyLogprobs(text: string, tokens: string[], firstNull = true) {
  let at = 0;
  const offsets = tokens.map((t) => ((at += t.length), at - t.length));
  return {
    tokens,
    token_logprobs: tokens.map((t, i) => (i === 0 && firstNull ? null : -0.5 * t.length - i / 100)),
    top_logprobs: tokens.map(() => null),
    text_offset: offsets,
  };
}

describe('OpenAI-compatible target', () => {
  it('scores through echo + logprobs, leaving out the null first token and the generated token', async () => {
    server = await startFaultServer({
      'GET /v1/models': () => ({ data: [{ id: 'davinci-002', owned_by: 'openai' }] }),
      'POST /v1/completions': (b) => {
        if (b.max_tokens === 0) throw httpError(400, 'max_tokens must be at least 1');
        const prompts: string[] = typeof b.prompt === 'string' ? [b.prompt] : b.prompt;
        // Answer in reverse order: choices are matched by index, not position.
        const choices = prompts.map((p, index) => {
          const tokens = b.echo ? [...bpe(p), ' next'] : [' next'];
          return { index, text: b.echo ? `${p} next` : ' next', logprobs: legacyLogprobs(p, tokens) };
        });
        return { choices: choices.reverse() };
      },
    });
    const t = await openTarget(`openai:${server.url}/v1`);
    expect(t.capabilities).toMatchObject({ scoreText: true, generate: true, nextTokenDistribution: false, beamSearch: false });
    const text = 'The secret canary is 7-3-9-1-2';
    const [s] = await t.scoreTexts([text]);
    expect(s!.tokens.map((x) => [x.token, x.start, x.end])).toEqual([
      [' secret', 3, 10],
      [' canary', 10, 17],
      [' is', 17, 20],
      [' 7-3-9-1-2', 20, 30],
    ]);
    expect(s!.tokens[0]!.logprob).toBeCloseTo(-3.51, 10);
    // Batches of texts travel as prompt arrays; each text gets its own scores.
    const many = Array.from({ length: 20 }, (_, i) => `note ${i} for patient ${i * 7}`);
    const before = server.received.length;
    const scored = await t.scoreTexts(['', ...many]);
    expect(server.received.length - before).toBe(3);
    expect(scored[0]).toEqual({ tokens: [] });
    scored.slice(1).forEach((x, i) => expect(x.tokens.map((tok) => tok.token).join('')).toBe(many[i]!.slice(4)));
    // The max_tokens 0 refusal was detected once; scoring used max_tokens 1.
    const scoring = server.received.filter((r) => r.path === '/v1/completions' && r.body && (r.body as { prompt: string }).prompt === text);
    expect((scoring[0]!.body as { max_tokens: number }).max_tokens).toBe(1);
    // Min-K%++ needs full distributions, which top-5 logprobs are not.
    await expect(t.scoreTexts([text], { distributionStats: true })).rejects.toBeInstanceOf(CapabilityError);
    await expect(t.nextTokenDistributions(['x'])).rejects.toBeInstanceOf(CapabilityError);
    await expect(t.generate([{ prompt: 'a', maxTokens: 3, decoding: { kind: 'beam', width: 2 } }])).rejects.toBeInstanceOf(CapabilityError);
  });

  it('treats a server that refuses echo + logprobs (gpt-3.5-turbo-instruct) as unable to score: exit 3, never zero', async () => {
    server = await startFaultServer({
      'GET /v1/models': () => ({ data: [{ id: 'gpt-3.5-turbo-instruct' }, { id: 'other' }] }),
      'POST /v1/completions': (b) => {
        if (b.echo && b.logprobs !== undefined) throw httpError(400, "Setting 'echo' and 'logprobs' at the same time is not supported for this model.");
        if (b.prompt_logprobs !== undefined) throw httpError(400, 'Unrecognized request argument supplied: prompt_logprobs');
        return { choices: Array.from({ length: b.n ?? 1 }, (_, i) => ({ index: i, text: ` reply${i}-${b.seed ?? ''}`, logprobs: b.logprobs ? legacyLogprobs('', [' reply']) : null })) };
      },
    });
    const t = await openTarget(`openai:${server.url}/v1#gpt-3.5-turbo-instruct`);
    expect(t.capabilities).toMatchObject({ scoreText: false, generate: true });
    const e = await t.scoreTexts(['anything']).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CapabilityError);
    expect((e as CapabilityError).exitCode).toBe(ExitCode.inconclusive);
    expect((e as Error).message).toMatch(/cannot score given text .*HTTP 400/);
    const gens = await t.generate([{ prompt: 'Hi', maxTokens: 4, decoding: { kind: 'sample', temperature: 0.7 }, n: 2 }], new Rng(3));
    expect(gens[0]!.map((g) => g.text)).toHaveLength(2);
    const sent = server.received.at(-1)!.body as Record<string, unknown>;
    expect(sent).toMatchObject({ model: 'gpt-3.5-turbo-instruct', prompt: 'Hi', max_tokens: 4, temperature: 0.7, n: 2 });
    expect(typeof sent.seed).toBe('number');
  });

  it('needs a model name when the server lists several', async () => {
    server = await startFaultServer({ 'GET /v1/models': () => ({ data: [{ id: 'a' }, { id: 'b' }] }) });
    await expect(openTarget(`openai:${server.url}/v1`)).rejects.toThrow(/name the model \(openai:BASE_URL#MODEL\); the server lists 2 models/);
  });

  it("scores through vLLM's prompt_logprobs when echo returns nothing", async () => {
    const vocab = new Map<string, number>();
    const idOf = (t: string) => vocab.get(t) ?? (vocab.set(t, vocab.size + 100), vocab.get(t)!);
    server = await startFaultServer({
      'GET /v1/models': () => ({ data: [{ id: 'llama' }] }),
      'POST /v1/completions': (b) => {
        if (typeof b.prompt !== 'string') throw httpError(400, 'prompt must be a string');
        if (b.echo) return { choices: [{ index: 0, text: '', logprobs: null }] }; // silently empty
        const tokens = bpe(b.prompt);
        const ids = tokens.map(idOf);
        return {
          choices: [
            {
              index: 0,
              text: ' x',
              prompt_token_ids: ids,
              prompt_logprobs: tokens.map((t, i) =>
                i === 0 ? null : { [String(ids[i])]: { logprob: -i, rank: 3, decoded_token: t }, '7': { logprob: -0.5, rank: 1, decoded_token: ' the' } },
              ),
            },
          ],
        };
      },
    });
    const t = await openTarget(`openai:${server.url}/v1`);
    expect(t.capabilities.scoreText).toBe(true);
    const [s] = await t.scoreTexts(['Patient MRN 4412']);
    expect(s!.tokens).toEqual([
      { token: ' MRN', start: 7, end: 11, logprob: -1 },
      { token: ' 4412', start: 11, end: 16, logprob: -2 },
    ]);
  });
});

describe('TGI target', () => {
  const routes = (prefill: boolean) => ({
    'GET /info': () => ({ model_id: 'bigscience/bloom-560m', model_sha: 'abc' }),
    'POST /generate': (b: { inputs: string; parameters: Record<string, unknown> }) => ({
      generated_text: ' le',
      details: {
        prefill: prefill && b.parameters.decoder_input_details ? [{ id: 1, text: '<s>', logprob: null }, ...bpe(b.inputs).map((t, i) => ({ id: i + 5, text: t, logprob: i === 0 ? null : -1.25 * i }))] : [],
        tokens: [{ id: 578, text: ' le', logprob: -1.78, special: false }],
      },
    }),
  });

  it('scores from the prefill, skipping the BOS token', async () => {
    server = await startFaultServer(routes(true));
    const t = await openTarget(`tgi:${server.url}`);
    expect(t.capabilities).toMatchObject({ scoreText: true, generate: true, beamSearch: false });
    const [s] = await t.scoreTexts(['Pour déguster un ortolan']);
    expect(s!.tokens.map((x) => [x.token, x.start, x.logprob])).toEqual([
      [' déguster', 4, -1.25],
      [' un', 13, -2.5],
      [' ortolan', 16, -3.75],
    ]);
    const g = await t.generate([{ prompt: 'Pour', maxTokens: 1, decoding: { kind: 'greedy' } }]);
    expect(g).toEqual([[{ text: ' le', logprob: -1.78 }]]);
    expect((await t.describe()).model).toBe('bigscience/bloom-560m');
  });

  it('treats an empty prefill (no --enable-prefill-logprobs) as unable to score', async () => {
    server = await startFaultServer(routes(false));
    const t = await openTarget(`tgi:${server.url}`);
    expect(t.capabilities.scoreText).toBe(false);
    await expect(t.scoreTexts(['x y'])).rejects.toThrow(/empty prefill \(start TGI with --enable-prefill-logprobs\)/);
  });
});

describe('classifier API targets', () => {
  it('KServe v2: features to the input tensor, logits softmaxed into probabilities', async () => {
    server = await startFaultServer({
      'GET /v2/models/risk': () => ({ name: 'risk', versions: ['1'], platform: 'sklearn', inputs: [{ name: 'input-0', datatype: 'FP32', shape: [-1, 2] }], outputs: [{ name: 'output-0' }] }),
      'POST /v2/models/risk/infer': (b) => {
        const data: number[] = b.inputs[0].data;
        const out: number[] = [];
        for (let r = 0; r < data.length / 2; r++) out.push(data[2 * r]!, data[2 * r + 1]!);
        return { model_name: 'risk', outputs: [{ name: 'output-0', shape: [data.length / 2, 2], datatype: 'FP32', data: out }] };
      },
    });
    await expect(openTarget(`kserve:${server.url}#risk`)).rejects.toThrow(/give --features/);
    const t = await openTarget(`kserve:${server.url}#risk`, { features: ['a', 'b'], labels: ['low', 'high'] });
    expect(t.capabilities.classProbabilities).toBe(true);
    const r = await t.classProbabilities([{ a: 0, b: Math.log(3) }, { b: 0, a: 0 }]);
    expect(r.labels).toEqual(['low', 'high']);
    expect(r.probabilities[0]![1]).toBeCloseTo(0.75, 6);
    expect(r.probabilities[1]).toEqual([0.5, 0.5]);
    const sent = server.received.at(-1)!.body as { inputs: { shape: number[]; data: number[] }[] };
    expect(sent.inputs[0]!.shape).toEqual([2, 2]);
    await expect(t.classProbabilities([{ a: 'x', b: 1 }])).rejects.toThrow(/row 0: feature "a" is not a number/);
    await expect(t.scoreTexts(['x'])).rejects.toBeInstanceOf(CapabilityError);
  });

  it('TF Serving: rows in --features order, probabilities kept as they are', async () => {
    server = await startFaultServer({
      'GET /v1/models/risk': () => ({ model_version_status: [{ version: '3', state: 'AVAILABLE' }] }),
      'GET /v1/models/risk/metadata': () => ({ metadata: { signature_def: { signature_def: { serving_default: { inputs: { x: {} } } } } } }),
      'POST /v1/models/risk:predict': (b) => ({ predictions: b.instances.map((row: number[]) => ({ probabilities: [row[0], 1 - row[0]!] })) }),
    });
    const t = await openTarget(`tfserving:${server.url}/v1/models/risk`, { features: ['p', 'q'] });
    const r = await t.classProbabilities([{ p: 0.2, q: 9 }]);
    expect(r).toEqual({ labels: ['0', '1'], probabilities: [[0.2, 0.8]] });
    expect((await t.describe()).digest).toMatch(/^[0-9a-f]{64}$/);
  });
});
