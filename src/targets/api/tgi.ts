/**
 * Hugging Face text-generation-inference target (`tgi:URL`), through its native `/generate`.
 *
 * Prompt scoring uses `decoder_input_details` (prefill log-probabilities). TGI v3 returns them only
 * when started with `--enable-prefill-logprobs`; otherwise `prefill` comes back silently empty, which
 * is detected at open and reported as "cannot score text", never as a score of zero
 * (text-generation-inference's /generate with decoder_input_details). `max_new_tokens` must be at least 1, so one token is
 * generated and ignored.
 */
import { InputError } from '../../core/errors.js';
import { sha256Json } from '../../core/hash.js';
import type { Rng } from '../../core/rng.js';
import { BaseTarget, checkDecoding, noCapabilities } from '../base.js';
import { displayUrl, HttpStatusError, isAuthError, type HttpClient } from '../http/client.js';
import type { GenerateRequest, Generation, ScoredText, ScoreOptions, TargetCapabilities, TargetDescriptor } from '../target.js';
import { alignTokens } from './align.js';
import { checkLogprob, checkNotDegenerate } from './logprob-checks.js';

interface TgiToken {
  id?: number;
  text: string;
  logprob: number | null;
  special?: boolean;
}

interface TgiResponse {
  generated_text?: string;
  details?: { prefill?: TgiToken[]; tokens?: TgiToken[]; seed?: number | null } | null;
}

interface TgiInfo {
  model_id?: string;
  model_sha?: string | null;
}

export class TgiTarget extends BaseTarget {
  readonly kind = 'tgi' as const;
  readonly task = 'lm' as const;
  readonly label: string;
  capabilities: TargetCapabilities = { ...noCapabilities };
  private readonly url: string;
  private readonly client: HttpClient;
  private info: TgiInfo = {};
  private noScoringWhy = '';

  private constructor(spec: string, url: string, client: HttpClient) {
    super();
    this.label = `target ${spec}`;
    this.url = url;
    this.client = client;
  }

  static async open(spec: string, url: string, client: HttpClient): Promise<TgiTarget> {
    const target = new TgiTarget(spec, url, client);
    try {
      target.info = await client.getJson<TgiInfo>(`${url}/info`);
    } catch (e) {
      if (!(e instanceof HttpStatusError) || isAuthError(e)) throw e; // unreachable or refused
    }
    let generates = false;
    try {
      const r = await target.post('Hello world', { max_new_tokens: 1, details: true, decoder_input_details: true });
      generates = typeof r.generated_text === 'string';
      const prefill = r.details?.prefill ?? [];
      if (!prefill.some((t) => typeof t.logprob === 'number')) {
        target.noScoringWhy = 'the server returns an empty prefill (start TGI with --enable-prefill-logprobs)';
      } else {
        target.scoredPrefill('Hello world', r); // a faulty server stops here, before any probe
      }
    } catch (e) {
      if (!(e instanceof HttpStatusError) || isAuthError(e)) throw e;
      target.noScoringWhy = `/generate refused decoder_input_details (HTTP ${e.status})`;
      generates = (await target.post('Hello', { max_new_tokens: 1 }).catch(() => undefined)) !== undefined;
    }
    target.capabilities = {
      ...noCapabilities,
      scoreText: target.noScoringWhy === '',
      generate: generates,
    };
    return target;
  }

  private post(inputs: string, parameters: Record<string, unknown>): Promise<TgiResponse> {
    return this.client.postJson<TgiResponse>(`${this.url}/generate`, { inputs, parameters });
  }

  async describe(): Promise<TargetDescriptor> {
    return {
      target: this.label.replace(/^target /, ''),
      kind: this.kind,
      task: this.task,
      digest: sha256Json({ kind: this.kind, url: displayUrl(this.url), modelId: this.info.model_id ?? null, modelSha: this.info.model_sha ?? null }),
      model: this.client.serverName(this.info.model_id, this.url),
      capabilities: { ...this.capabilities },
      tokenizer: 'server',
    };
  }

  override async scoreTexts(texts: string[], options: ScoreOptions = {}): Promise<ScoredText[]> {
    this.require('scoreText', this.noScoringWhy || undefined);
    if (options.distributionStats) this.require('nextTokenDistribution', 'TGI returns top-n alternatives for generated tokens only');
    return Promise.all(
      texts.map(async (text) => {
        if (text.length === 0) return { tokens: [] };
        const r = await this.post(text, { max_new_tokens: 1, details: true, decoder_input_details: true });
        return this.scoredPrefill(text, r);
      }),
    );
  }

  /** The prefill's log-probabilities placed in `text`, checked (each <= 0, not one constant). */
  private scoredPrefill(text: string, r: TgiResponse): ScoredText {
    const source = `${displayUrl(this.url)}/generate`;
    const prefill = r.details?.prefill ?? [];
    if (prefill.length === 0) throw new InputError(`${source}: empty prefill (prompt log-probabilities switched off on the server)`);
    prefill.forEach((t, i) => checkLogprob(t?.logprob, source, `details.prefill[${i}].logprob`));
    const tokens = alignTokens(text, prefill.map((t) => ({ text: t.special ? '' : t.text, logprob: t.logprob })), source);
    checkNotDegenerate(tokens, source, 'details.prefill');
    return { tokens };
  }

  override async generate(requests: GenerateRequest[], rng?: Rng): Promise<Generation[][]> {
    this.require('generate');
    for (const request of requests) checkDecoding(this, request);
    // TGI returns one sequence per request: n samples are n requests, each with its own seed.
    const jobs = requests.map((request) => {
      const n = request.n ?? 1;
      return Array.from({ length: request.decoding.kind === 'sample' ? n : 1 }, () => (rng ? rng.int(2 ** 31 - 1) : undefined));
    });
    return Promise.all(
      requests.map((request, i) =>
        Promise.all(
          jobs[i]!.map(async (seed) => {
            const d = request.decoding;
            const parameters: Record<string, unknown> = { max_new_tokens: request.maxTokens, details: true };
            if (d.kind === 'sample') {
              Object.assign(parameters, { do_sample: true, temperature: d.temperature, ...(d.topK ? { top_k: d.topK } : {}), ...(seed !== undefined ? { seed } : {}) });
            } else {
              parameters.do_sample = false;
            }
            const r = await this.post(request.prompt, parameters);
            const tokens = r.details?.tokens ?? [];
            tokens.forEach((t, j) => checkLogprob(t?.logprob, `${displayUrl(this.url)}/generate`, `details.tokens[${j}].logprob`));
            const logprob = tokens.length && tokens.every((t) => typeof t.logprob === 'number') ? tokens.reduce((s, t) => s + t.logprob!, 0) : undefined;
            return { text: r.generated_text ?? '', logprob };
          }),
        ),
      ),
    );
  }
}
