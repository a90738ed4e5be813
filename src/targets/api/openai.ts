/**
 * OpenAI-compatible target (`openai:BASE_URL#MODEL`): OpenAI, vLLM, memaudit serve, and other
 * servers speaking `/v1/completions`.
 *
 * What the server supports is detected when the target opens (OpenAI
 * completions and chat APIs, vLLM's extensions): prompt scoring through `echo` + `logprobs` (max_tokens 0, else 1), or vLLM's
 * `prompt_logprobs`; generation through completions, else chat. A response without logprobs means
 * "unsupported", never a score of zero. The first echoed token has no conditional log-probability
 * (null) and is left out.
 */
import { CapabilityError, InputError, UsageError } from '../../core/errors.js';
import { sha256Json } from '../../core/hash.js';
import type { Rng } from '../../core/rng.js';
import { BaseTarget, checkDecoding, distributionStats, noCapabilities } from '../base.js';
import { displayUrl, HttpStatusError, isAuthError, type HttpClient } from '../http/client.js';
import type {
  GenerateRequest,
  Generation,
  ScoredText,
  ScoreOptions,
  TargetCapabilities,
  TargetDescriptor,
  TokenDistribution,
} from '../target.js';
import { alignTokens, type ApiToken } from './align.js';
import { checkLogprob, checkNotDegenerate, checkRanks, checkTopList, FaultyTargetError } from './logprob-checks.js';

/** The legacy completions logprobs block. */
interface CompletionLogprobs {
  tokens?: string[];
  token_logprobs?: (number | null)[];
  top_logprobs?: (Record<string, number> | null)[] | null;
  text_offset?: number[];
}

interface CompletionChoice {
  index?: number;
  text?: string;
  logprobs?: CompletionLogprobs | null;
  /** vLLM: one dict per prompt token (token id -> {logprob, rank, decoded_token}); the first is null. */
  prompt_logprobs?: (Record<string, { logprob: number; rank?: number; decoded_token?: string }> | null)[] | null;
  prompt_token_ids?: number[] | null;
}

interface CompletionResponse {
  choices?: CompletionChoice[];
  system_fingerprint?: string | null;
}

interface ChatResponse {
  choices?: {
    index?: number;
    message?: { content?: string | null };
    logprobs?: { content?: { token: string; logprob: number }[] | null } | null;
  }[];
}

/** What memaudit serve says about itself in /v1/models (absent for other servers). */
export interface MemauditModelInfo {
  task: 'lm';
  tokenizer: 'char';
  vocabSize: number;
  beamSearch: boolean;
  /** The largest `logprobs` the server accepts (the whole vocabulary for memaudit serve). */
  maxLogprobs: number;
}

interface ModelsResponse {
  data?: { id?: string; owned_by?: string; memaudit?: MemauditModelInfo }[];
}

type ScoreMode = { kind: 'echo'; maxTokens: 0 | 1 } | { kind: 'prompt_logprobs' } | { kind: 'none'; why: string };
type GenerateMode = 'completions' | 'chat' | 'none';

export interface OpenAiTargetOptions {
  spec: string;
  baseUrl: string;
  model?: string;
  client: HttpClient;
  /**
   * Texts scored per request when the server accepts prompt arrays (detected at open; OpenAI's
   * legacy API and vLLM do). Fewer requests mean fewer rate-limit hits; 1 turns batching off.
   */
  promptsPerRequest?: number;
}

export const defaultPromptsPerRequest = 8;

const probeText = 'The quick brown fox jumps over the lazy dog.';

export class OpenAiTarget extends BaseTarget {
  readonly kind = 'openai' as const;
  readonly task = 'lm' as const;
  readonly label: string;
  capabilities: TargetCapabilities = { ...noCapabilities };

  private readonly baseUrl: string;
  private readonly client: HttpClient;
  private model = '';
  private memaudit: MemauditModelInfo | undefined;
  private scoreMode: ScoreMode = { kind: 'none', why: 'not detected' };
  private generateMode: GenerateMode = 'none';
  private fingerprint: string | undefined;
  private promptsPerRequest = 1;
  private readonly wantedPromptsPerRequest: number;

  private constructor(options: OpenAiTargetOptions) {
    super();
    this.label = `target ${options.spec}`;
    this.baseUrl = options.baseUrl;
    this.client = options.client;
    if (options.model) this.model = options.model;
    this.wantedPromptsPerRequest = options.promptsPerRequest ?? defaultPromptsPerRequest;
  }

  /** Connects, picks the model, and detects what the server supports. */
  static async open(options: OpenAiTargetOptions): Promise<OpenAiTarget> {
    const target = new OpenAiTarget(options);
    await target.detect(options.spec);
    return target;
  }

  private url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  private async detect(spec: string): Promise<void> {
    // /models tells us the model name when the spec has none, and whether this is memaudit serve.
    let models: ModelsResponse | undefined;
    try {
      models = await this.client.getJson<ModelsResponse>(this.url('/models'));
    } catch (e) {
      if (!(e instanceof HttpStatusError) || isAuthError(e)) throw e; // unreachable or refused: InputError naming the URL
      if (!this.model) throw new UsageError(`--target ${spec}: name the model (openai:BASE_URL#MODEL); the server does not list its models (HTTP ${e.status})`);
    }
    const listed = Array.isArray(models?.data) ? models!.data : [];
    if (!this.model) {
      if (listed.length !== 1 || typeof listed[0]?.id !== 'string') {
        throw new UsageError(`--target ${spec}: name the model (openai:BASE_URL#MODEL); the server lists ${listed.length} models`);
      }
      // A name we print and record: a hostile server could list the key it received as its model id.
      const id = this.client.serverName(listed[0].id, this.baseUrl);
      if (id === undefined) throw new UsageError(`--target ${spec}: name the model (openai:BASE_URL#MODEL); the id the server lists is not a plain name`);
      this.model = id;
    }
    const entry = listed.find((m) => m.id === this.model);
    if (entry?.owned_by === 'memaudit' && entry.memaudit && Number.isInteger(entry.memaudit.vocabSize)) this.memaudit = entry.memaudit;

    this.scoreMode = await this.detectScoring();
    if (this.scoreMode.kind !== 'none' && this.wantedPromptsPerRequest > 1 && (await this.acceptsPromptArrays())) {
      this.promptsPerRequest = this.wantedPromptsPerRequest;
    }
    this.generateMode = await this.detectGeneration();
    this.capabilities = {
      scoreText: this.scoreMode.kind !== 'none',
      // Only a server that returns the whole vocabulary's log-probabilities gives a full distribution;
      // top-5 logprobs are not one (Min-K%++ on a truncation would be wrong).
      nextTokenDistribution: this.generateMode === 'completions' && this.memaudit !== undefined && this.memaudit.maxLogprobs >= this.memaudit.vocabSize,
      generate: this.generateMode !== 'none',
      beamSearch: this.generateMode === 'completions' && this.memaudit?.beamSearch === true,
      classProbabilities: false,
    };
  }

  private async tryCompletion(body: Record<string, unknown>): Promise<CompletionResponse | HttpStatusError> {
    try {
      return await this.client.postJson<CompletionResponse>(this.url('/completions'), { model: this.model, ...body });
    } catch (e) {
      if (e instanceof HttpStatusError && !isAuthError(e)) return e;
      throw e;
    }
  }

  private async detectScoring(): Promise<ScoreMode> {
    const reasons: string[] = [];
    for (const maxTokens of [0, 1] as const) {
      const r = await this.tryCompletion({ prompt: probeText, echo: true, logprobs: 1, max_tokens: maxTokens, temperature: 0 });
      if (r instanceof HttpStatusError) {
        reasons.push(`echo+logprobs with max_tokens ${maxTokens}: HTTP ${r.status}`);
        continue;
      }
      const lp = r.choices?.[0]?.logprobs;
      const values = lp?.token_logprobs ?? [];
      if (Array.isArray(lp?.tokens) && values.some((v) => typeof v === 'number' && Number.isFinite(v))) {
        // The detection response is scored like any other: a faulty server stops here, before any probe.
        this.fromEcho(probeText, r.choices![0]!, false, `${displayUrl(this.url('/completions'))} (model ${this.model})`);
        this.fingerprint = r.system_fingerprint ?? undefined;
        return { kind: 'echo', maxTokens };
      }
      reasons.push(`echo+logprobs with max_tokens ${maxTokens}: no prompt log-probabilities in the response`);
      break; // accepted but silently empty: max_tokens 1 will not change that
    }
    const r = await this.tryCompletion({ prompt: probeText, max_tokens: 1, prompt_logprobs: 0, return_token_ids: true, temperature: 0 });
    if (!(r instanceof HttpStatusError)) {
      const pl = r.choices?.[0]?.prompt_logprobs;
      if (Array.isArray(pl) && pl.some((d) => d && Object.keys(d).length > 0)) return { kind: 'prompt_logprobs' };
      reasons.push('prompt_logprobs: not returned');
    } else {
      reasons.push(`prompt_logprobs: HTTP ${r.status}`);
    }
    return { kind: 'none', why: reasons.join('; ') };
  }

  /** Whether a two-prompt scoring request comes back as two choices, each scoring its own prompt. */
  private async acceptsPromptArrays(): Promise<boolean> {
    const prompts = [probeText, 'Hello there'];
    try {
      const scored = await this.scoreBatch(prompts, false);
      return scored.every((s, i) => s.tokens.length > 0 && s.tokens[s.tokens.length - 1]!.end === prompts[i]!.length);
    } catch (e) {
      if (isAuthError(e) || e instanceof FaultyTargetError) throw e;
      if (e instanceof HttpStatusError || e instanceof InputError) return false;
      throw e;
    }
  }

  private async detectGeneration(): Promise<GenerateMode> {
    const r = await this.tryCompletion({ prompt: 'Hello', max_tokens: 1, temperature: 0 });
    if (!(r instanceof HttpStatusError) && typeof r.choices?.[0]?.text === 'string') return 'completions';
    try {
      const c = await this.client.postJson<ChatResponse>(this.url('/chat/completions'), {
        model: this.model,
        messages: [{ role: 'user', content: 'Hello' }],
        max_tokens: 1,
        temperature: 0,
      });
      if (typeof c.choices?.[0]?.message?.content === 'string') return 'chat';
    } catch (e) {
      if (!(e instanceof HttpStatusError) || isAuthError(e)) throw e;
    }
    return 'none';
  }

  async describe(): Promise<TargetDescriptor> {
    const endpoint = { kind: this.kind, url: displayUrl(this.baseUrl), model: this.model, systemFingerprint: this.fingerprint ?? null };
    return {
      target: this.label.replace(/^target /, ''),
      kind: this.kind,
      task: this.task,
      digest: sha256Json(endpoint),
      model: this.model,
      capabilities: { ...this.capabilities },
      tokenizer: this.memaudit ? 'char' : 'server',
    };
  }

  override async scoreTexts(texts: string[], options: ScoreOptions = {}): Promise<ScoredText[]> {
    const why = this.scoreMode.kind === 'none' ? `the server returns no prompt log-probabilities (${this.scoreMode.why})` : undefined;
    this.require('scoreText', why);
    if (options.distributionStats) this.require('nextTokenDistribution', 'distribution statistics need the whole vocabulary at every position');
    const stats = options.distributionStats === true;
    // Non-empty texts go in batches of `promptsPerRequest` (prompt arrays, when the server takes them).
    const results: ScoredText[] = texts.map(() => ({ tokens: [] }));
    const pending = texts.map((t, i) => i).filter((i) => texts[i]!.length > 0);
    const batches: number[][] = [];
    for (let i = 0; i < pending.length; i += this.promptsPerRequest) batches.push(pending.slice(i, i + this.promptsPerRequest));
    await Promise.all(
      batches.map(async (batch) => {
        const scored = await this.scoreBatch(batch.map((i) => texts[i]!), stats);
        batch.forEach((i, j) => (results[i] = scored[j]!));
      }),
    );
    return results;
  }

  /** The scoring request for a batch of prompts (a one-element batch is sent as a plain string). */
  private scoringBody(prompts: string[], stats: boolean): Record<string, unknown> {
    const prompt = prompts.length === 1 ? prompts[0] : prompts;
    if (this.scoreMode.kind === 'echo') {
      return { model: this.model, prompt, echo: true, logprobs: stats ? this.memaudit!.vocabSize : 1, max_tokens: this.scoreMode.maxTokens, temperature: 0 };
    }
    return { model: this.model, prompt, max_tokens: 1, prompt_logprobs: 0, return_token_ids: true, temperature: 0 };
  }

  /** Scores a batch of non-empty texts in one request: choice i belongs to prompt i. */
  private async scoreBatch(texts: string[], stats: boolean): Promise<ScoredText[]> {
    const source = `${displayUrl(this.url('/completions'))} (model ${this.model})`;
    const r = await this.client.postJson<CompletionResponse>(this.url('/completions'), this.scoringBody(texts, stats));
    const choices = r.choices ?? [];
    return texts.map((text, i) => {
      const choice = choices.find((c) => (c.index ?? 0) === i) ?? (texts.length === 1 ? choices[0] : undefined);
      if (!choice) throw new InputError(`${source}: the response has no choice for prompt ${i}`);
      return this.scoreMode.kind === 'echo' ? this.fromEcho(text, choice, stats, source) : this.fromPromptLogprobs(text, choice, source);
    });
  }

  private fromEcho(text: string, choice: CompletionChoice, stats: boolean, source: string): ScoredText {
    const lp = choice.logprobs;
    if (!lp || !Array.isArray(lp.tokens) || !Array.isArray(lp.token_logprobs)) {
      throw new InputError(`${source}: the response has no prompt log-probabilities`);
    }
    lp.token_logprobs.forEach((v, i) => checkLogprob(v, source, `logprobs.token_logprobs[${i}]`));
    lp.top_logprobs?.forEach((top, i) => {
      if (top && typeof top === 'object') checkTopList(top, { token: lp.tokens![i]!, logprob: lp.token_logprobs![i] ?? null }, source, `logprobs.top_logprobs[${i}]`);
    });
    const api: ApiToken[] = lp.tokens.map((t, i) => ({
      text: t,
      logprob: lp.token_logprobs![i] ?? null,
      offset: lp.text_offset?.[i],
    }));
    const tokens = alignTokens(text, api, source);
    if (stats) {
      // Attach mean/std from each position's complete top_logprobs, matched by offset.
      const byOffset = new Map<number, Record<string, number>>();
      lp.tokens.forEach((_t, i) => {
        const off = lp.text_offset?.[i];
        const top = lp.top_logprobs?.[i];
        if (off !== undefined && top) byOffset.set(off, top);
      });
      for (const t of tokens) {
        const top = byOffset.get(t.start);
        if (!top || Object.keys(top).length < this.memaudit!.vocabSize) {
          throw new InputError(`${source}: the server returned an incomplete distribution at character ${t.start}`);
        }
        const s = distributionStats(Object.values(top));
        t.meanLogprob = s.mean;
        t.stdLogprob = s.std;
      }
    }
    if (tokens.length === 0 && text.length > 1) throw new InputError(`${source}: the response scores none of the text`);
    checkNotDegenerate(tokens, source, 'logprobs.token_logprobs');
    return { tokens };
  }

  private fromPromptLogprobs(text: string, choice: CompletionChoice, source: string): ScoredText {
    const pl = choice.prompt_logprobs;
    if (!Array.isArray(pl)) throw new InputError(`${source}: the response has no prompt_logprobs`);
    const api: ApiToken[] = pl.map((entry, i) => {
      if (!entry) return { text: '', logprob: null };
      const field = `prompt_logprobs[${i}]`;
      const alternatives = Object.values(entry);
      checkTopList(Object.fromEntries(Object.entries(entry).map(([id, e]) => [id, e?.logprob])), undefined, source, field);
      checkRanks(alternatives, source, field);
      const id = choice.prompt_token_ids?.[i];
      const chosen = id !== undefined && id !== null ? entry[String(id)] : Object.keys(entry).length === 1 ? Object.values(entry)[0] : undefined;
      if (!chosen) throw new InputError(`${source}: prompt_logprobs at token ${i} does not identify the prompt token`);
      return { text: chosen.decoded_token ?? '', logprob: chosen.logprob };
    });
    // The first entry is null and carries no text: the rest of the tokens must spell the end of the
    // text, and the first token is whatever precedes them.
    const rest = api.slice(1);
    const tail = rest.map((t) => t.text).join('');
    if (!text.endsWith(tail)) throw new InputError(`${source}: the server's prompt tokens do not spell the scored text`);
    let offset = text.length - tail.length;
    for (const t of rest) {
      t.offset = offset;
      offset += t.text.length;
    }
    const tokens = alignTokens(text, rest, source);
    checkNotDegenerate(tokens, source, 'prompt_logprobs');
    return { tokens };
  }

  override async nextTokenDistributions(prompts: string[]): Promise<TokenDistribution[]> {
    this.require('nextTokenDistribution');
    const k = this.memaudit!.vocabSize;
    const source = displayUrl(this.url('/completions'));
    const batches: string[][] = [];
    for (let i = 0; i < prompts.length; i += this.promptsPerRequest) batches.push(prompts.slice(i, i + this.promptsPerRequest));
    // One generated token with the whole vocabulary's log-probabilities: its top_logprobs are the
    // distribution after the prompt (an end-of-text stop still lists the end token, memaudit serve).
    const done = await Promise.all(
      batches.map(async (batch) => {
        const r = await this.client.postJson<CompletionResponse>(this.url('/completions'), {
          model: this.model,
          prompt: batch.length === 1 ? batch[0] : batch,
          max_tokens: 1,
          logprobs: k,
          temperature: 0,
        });
        return batch.map((_, i) => {
          const choice = (r.choices ?? []).find((c) => (c.index ?? 0) === i);
          const top = choice?.logprobs?.top_logprobs?.[0];
          if (!top) throw new InputError(`${source}: the response has no top_logprobs for prompt ${i}`);
          checkTopList(top, undefined, source, `choices[${i}].logprobs.top_logprobs[0]`);
          const tokens = Object.keys(top);
          return { tokens, logprobs: Float64Array.from(tokens.map((t) => top[t]!)), complete: tokens.length >= k };
        });
      }),
    );
    return done.flat();
  }

  override async generate(requests: GenerateRequest[], rng?: Rng): Promise<Generation[][]> {
    this.require('generate');
    for (const request of requests) checkDecoding(this, request);
    // Seeds are drawn in request order before any request is sent, so results do not depend on timing.
    const seeds = requests.map(() => (rng ? rng.int(2 ** 31 - 1) : undefined));
    return Promise.all(requests.map((request, i) => this.generateOne(request, seeds[i])));
  }

  private async generateOne(request: GenerateRequest, seed: number | undefined): Promise<Generation[]> {
    const n = request.n ?? 1;
    const d = request.decoding;
    const sampling: Record<string, unknown> =
      d.kind === 'sample'
        ? { temperature: d.temperature, ...(d.topK !== undefined ? { top_k: d.topK } : {}), ...(seed !== undefined ? { seed } : {}), n }
        : d.kind === 'beam'
          ? { temperature: 0, use_beam_search: true, best_of: Math.max(d.width, n), n }
          : { temperature: 0, n: 1 };
    if (d.kind === 'greedy' && n > 1) throw new UsageError('greedy decoding returns one sequence: ask for n = 1');
    try {
      if (this.generateMode === 'completions') {
        const r = await this.client.postJson<CompletionResponse>(this.url('/completions'), {
          model: this.model,
          prompt: request.prompt,
          max_tokens: request.maxTokens,
          logprobs: 1,
          ...sampling,
        });
        const choices = [...(r.choices ?? [])].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
        const source = displayUrl(this.url('/completions'));
        choices.forEach((c, i) => c.logprobs?.token_logprobs?.forEach((v, j) => checkLogprob(v, source, `choices[${i}].logprobs.token_logprobs[${j}]`)));
        return choices.map((c) => ({ text: c.text ?? '', logprob: continuationLogprob(c, request.prompt.length) }));
      }
      if (d.kind === 'sample' && d.topK !== undefined) {
        throw new CapabilityError('generate', `${this.label} generates through chat, which has no top-k sampling`);
      }
      const { top_k: _k, use_beam_search: _b, best_of: _bo, ...chatSampling } = sampling;
      const r = await this.client.postJson<ChatResponse>(this.url('/chat/completions'), {
        model: this.model,
        messages: [{ role: 'user', content: request.prompt }],
        max_tokens: request.maxTokens,
        logprobs: true,
        ...chatSampling,
      });
      const choices = [...(r.choices ?? [])].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
      const source = displayUrl(this.url('/chat/completions'));
      choices.forEach((c, i) => c.logprobs?.content?.forEach((t, j) => checkLogprob(t?.logprob, source, `choices[${i}].logprobs.content[${j}].logprob`)));
      return choices.map((c) => ({
        text: c.message?.content ?? '',
        logprob: sumLogprobs(c.logprobs?.content?.map((t) => t.logprob)),
      }));
    } catch (e) {
      if (e instanceof HttpStatusError && e.status === 400 && d.kind === 'sample' && d.topK !== undefined) {
        throw new CapabilityError('generate', `${this.label} refused top-k sampling (HTTP ${e.status}${e.serverMessage ? `, ${e.serverMessage}` : ''})`);
      }
      throw e;
    }
  }
}

/**
 * The continuation's log-probability from a legacy logprobs block, over the tokens inside the
 * returned text: an end-of-text token listed after it (offset at the text's end) is not part of it.
 */
function continuationLogprob(choice: CompletionChoice, promptLength: number): number | undefined {
  const lp = choice.logprobs;
  if (!lp?.token_logprobs) return undefined;
  const offsets = lp.text_offset;
  const end = promptLength + (choice.text ?? '').length;
  if (!offsets || offsets.length !== lp.token_logprobs.length) return sumLogprobs(lp.token_logprobs);
  return sumLogprobs(lp.token_logprobs.filter((_, i) => offsets[i]! < end));
}

function sumLogprobs(values: (number | null)[] | null | undefined): number | undefined {
  if (!Array.isArray(values) || values.length === 0) return undefined;
  let sum = 0;
  for (const v of values) {
    if (typeof v !== 'number') return undefined;
    sum += v;
  }
  return sum;
}
