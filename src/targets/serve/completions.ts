/**
 * The OpenAI legacy completions API (`POST /v1/completions`) over a local LM target: request
 * validation and response shapes (OpenAI completions API, with vLLM's `top_k`,
 * `use_beam_search` and `best_of` extensions).
 *
 * Unlike hosted models, memaudit's char LM scores the first character too (its context is the
 * beginning-of-text padding), so `token_logprobs[0]` is a number, not null.
 */
import { randomBytes } from 'node:crypto';
import { Rng } from '../../core/rng.js';
import type { Decoding } from '../target.js';
import type { DetailedToken, LocalLmTarget } from '../local/lm.js';

/** A client error: HTTP status and the OpenAI error body. */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

export interface CompletionRequest {
  model: string;
  prompts: string[];
  maxTokens: number;
  temperature: number;
  topK?: number;
  n: number;
  bestOf?: number;
  beam: boolean;
  seed?: number;
  echo: boolean;
  logprobs: number | null;
  stop: string[];
}

const maxNewTokens = 4096;

function int(body: Record<string, unknown>, name: string, fallback: number | undefined, min: number, max: number): number | undefined {
  const v = body[name];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ApiRequestError(400, `'${name}' must be an integer from ${min} to ${max}`, name);
  }
  return v;
}

export function parseCompletionRequest(body: unknown, vocabSize: number): CompletionRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ApiRequestError(400, 'the request body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string') throw new ApiRequestError(400, "'model' is required", 'model');
  const prompt = b.prompt ?? '';
  const prompts = typeof prompt === 'string' ? [prompt] : prompt;
  if (!Array.isArray(prompts) || prompts.length === 0 || !prompts.every((p) => typeof p === 'string')) {
    throw new ApiRequestError(400, "'prompt' must be a string or a non-empty array of strings (token-id prompts are not supported)", 'prompt');
  }
  if (b.stream === true) throw new ApiRequestError(400, "'stream' is not supported", 'stream');
  if (b.top_p !== undefined && b.top_p !== null && b.top_p !== 1) throw new ApiRequestError(400, "'top_p' other than 1 is not supported", 'top_p');
  if (b.suffix !== undefined && b.suffix !== null) throw new ApiRequestError(400, "'suffix' is not supported", 'suffix');
  const temperature = b.temperature ?? 1;
  if (typeof temperature !== 'number' || !(temperature >= 0) || temperature > 100) {
    throw new ApiRequestError(400, "'temperature' must be a number from 0 to 100", 'temperature');
  }
  const topK = int(b, 'top_k', undefined, -1, vocabSize);
  const n = int(b, 'n', 1, 1, 128)!;
  const bestOf = int(b, 'best_of', undefined, 1, 128);
  if (bestOf !== undefined && bestOf < n) throw new ApiRequestError(400, "'best_of' must be at least 'n'", 'best_of');
  const beam = b.use_beam_search === true;
  if (bestOf !== undefined && bestOf > n && !beam) {
    throw new ApiRequestError(400, "'best_of' greater than 'n' is supported with use_beam_search only", 'best_of');
  }
  const stop = b.stop === undefined || b.stop === null ? [] : typeof b.stop === 'string' ? [b.stop] : b.stop;
  if (!Array.isArray(stop) || !stop.every((s) => typeof s === 'string' && s !== '')) {
    throw new ApiRequestError(400, "'stop' must be a string or an array of non-empty strings", 'stop');
  }
  if (b.echo !== undefined && typeof b.echo !== 'boolean') throw new ApiRequestError(400, "'echo' must be a boolean", 'echo');
  return {
    model: b.model,
    prompts: prompts as string[],
    maxTokens: int(b, 'max_tokens', 16, 0, maxNewTokens)!,
    temperature,
    topK: topK !== undefined && topK > 0 ? topK : undefined,
    n,
    bestOf,
    beam,
    seed: int(b, 'seed', undefined, -(2 ** 53) + 1, 2 ** 53 - 1),
    echo: b.echo === true,
    logprobs: b.logprobs === undefined || b.logprobs === null ? null : int(b, 'logprobs', 0, 0, vocabSize)!,
    stop: stop as string[],
  };
}

/**
 * The work a request asks for, in tokens (characters): every choice of every prompt scores the
 * prompt and decodes up to max_tokens (beam search keeps max(best_of, n) beams). Bounded per request
 * (`--max-request-tokens`), so one request cannot hold the model for minutes.
 */
export function requestTokens(req: CompletionRequest): number {
  const choices = req.beam ? Math.max(req.bestOf ?? req.n, req.n) : req.n;
  return req.prompts.reduce((sum, p) => sum + (p.length + req.maxTokens) * choices, 0);
}

/** A 400 naming the limit when a request asks for more work than `limit` tokens. */
export function checkRequestTokens(req: CompletionRequest, limit: number): void {
  const tokens = requestTokens(req);
  if (tokens > limit) {
    throw new ApiRequestError(
      400,
      `the request asks for ${tokens} tokens of work (prompts x choices x (prompt + max_tokens)), over this server's limit of ${limit} (--max-request-tokens)`,
      'max_tokens',
    );
  }
}

/** The legacy logprobs block of one choice. */
export interface LegacyLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Record<string, number>[];
  text_offset: number[];
}

export type Scorer = (text: string, topK: number) => Promise<DetailedToken[]>;

/** Tokens from index `from` on; offsets count from the start of the prompt, as OpenAI's do. */
function logprobsBlock(target: LocalLmTarget, tokens: DetailedToken[], from: number, k: number): LegacyLogprobs {
  const slice = tokens.slice(from);
  const vocab = target.tokenizer.vocab;
  return {
    tokens: slice.map((t) => t.token),
    token_logprobs: slice.map((t) => t.logprob),
    top_logprobs: slice.map((t) => {
      const top: Record<string, number> = {};
      for (const alt of (t.top ?? []).slice(0, k)) top[vocab[alt.id]!] = alt.logprob;
      if (k > 0) top[vocab[t.id] ?? t.token] = t.logprob; // OpenAI lists the chosen token too
      return top;
    }),
    text_offset: slice.map((t) => t.start),
  };
}

/**
 * Lists the end token (memaudit's padding token) a generation stopped on, as OpenAI lists
 * `<|endoftext|>`: its text is empty and its offset is the end of the text, so it adds nothing to
 * the text, while its top_logprobs carry the distribution after the text.
 */
function appendEndToken(block: LegacyLogprobs, row: Float32Array, target: LocalLmTarget, k: number, offset: number): void {
  const vocab = target.tokenizer.vocab;
  const end = target.tokenizer.padId;
  const top: Record<string, number> = {};
  if (k > 0) {
    const order = Array.from(row.keys()).sort((a, b) => row[b]! - row[a]! || a - b);
    for (const id of order.slice(0, k)) top[vocab[id]!] = row[id]!;
    top[vocab[end]!] = row[end]!;
  }
  block.tokens.push(vocab[end]!);
  block.token_logprobs.push(row[end]!);
  block.top_logprobs.push(top);
  block.text_offset.push(offset);
}

/** Cuts a generation at its first stop sequence. */
function applyStop(text: string, stop: string[]): { text: string; stopped: boolean } {
  let cut = -1;
  for (const s of stop) {
    const at = text.indexOf(s);
    if (at >= 0 && (cut < 0 || at < cut)) cut = at;
  }
  return cut < 0 ? { text, stopped: false } : { text: text.slice(0, cut), stopped: true };
}

/** Answers one request; `signal` stops the work between decoding steps and before scoring (client gone, time limit). */
export async function complete(target: LocalLmTarget, modelName: string, fingerprint: string, req: CompletionRequest, score: Scorer, signal?: AbortSignal) {
  const k = req.logprobs ?? 0;
  let promptTokens = 0;
  let completionTokens = 0;
  const decoding: Decoding = req.beam
    ? { kind: 'beam', width: Math.max(req.bestOf ?? req.n, req.n) }
    : req.temperature === 0
      ? { kind: 'greedy' }
      : { kind: 'sample', temperature: req.temperature, topK: req.topK };
  const rng = req.seed !== undefined ? new Rng(`serve/${req.seed}`) : Rng.unseeded();
  const generations =
    req.maxTokens === 0
      ? req.prompts.map(() => Array.from({ length: req.n }, () => ({ text: '' })))
      : await target.generate(
          req.prompts.map((prompt) => ({ prompt, maxTokens: req.maxTokens, decoding, n: decoding.kind === 'greedy' ? 1 : req.n })),
          rng,
          signal,
        );
  signal?.throwIfAborted();
  const jobs: { p: number; j: number }[] = [];
  for (let p = 0; p < req.prompts.length; p++) {
    promptTokens += [...req.prompts[p]!].length;
    for (let j = 0; j < req.n; j++) jobs.push({ p, j });
  }
  // All choices are scored at once, so the micro-batcher sees them together.
  const choices = await Promise.all(
    jobs.map(async ({ p, j }) => {
      const prompt = req.prompts[p]!;
      const raw = generations[p]![decoding.kind === 'greedy' ? 0 : j] ?? { text: '' };
      const { text: generated, stopped } = applyStop(raw.text, req.stop);
      completionTokens += [...generated].length;
      // The model ended the text (predicted the padding token) before max_tokens.
      const ended = !stopped && req.maxTokens > 0 && [...raw.text].length < req.maxTokens;
      let logprobs: LegacyLogprobs | null = null;
      if (req.logprobs !== null) {
        // Score prompt + continuation in one pass: exactly the model's log-probabilities (untempered).
        const tokens = req.echo || generated.length > 0 ? await score(prompt + generated, k) : [];
        logprobs = logprobsBlock(target, tokens, req.echo ? 0 : [...prompt].length, k);
        if (ended) appendEndToken(logprobs, await target.nextLogprobs([target.tokenizer.encode(prompt + generated)]), target, k, (prompt + generated).length);
      }
      return { index: p * req.n + j, text: req.echo ? prompt + generated : generated, logprobs, finish_reason: stopped || ended ? 'stop' : 'length' };
    }),
  );
  return {
    id: `cmpl-${randomBytes(12).toString('hex')}`,
    object: 'text_completion',
    created: Math.floor(Date.now() / 1000),
    model: modelName,
    system_fingerprint: fingerprint,
    choices,
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
}
