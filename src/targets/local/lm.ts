/**
 * The local language-model target: a tfjs model over token-id windows (memaudit's char LM, or a
 * user's model with a vocabulary file), with the char LM's semantics
 *
 *   log p(text) = sum_t log p(c_t | previous contextLength tokens, left-padded with PAD)
 *
 * so every token, the first included, is scored. Windows of all texts are batched through the
 * model together; only the per-window numbers asked for leave the backend.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { tf } from '../../core/backend.js';
import { Rng } from '../../core/rng.js';
import { BaseTarget, checkDecoding } from '../base.js';
import type {
  GenerateRequest,
  Generation,
  ScoredText,
  ScoreOptions,
  TargetCapabilities,
  TargetDescriptor,
  TokenDistribution,
  TokenLogprob,
} from '../target.js';
import type { EncodedText } from '../../models/tokenizer.js';
import { contextWindows, lastContext } from '../../models/tokenizer.js';
import { decode } from './decode.js';
import type { LogProbFn } from './forward.js';

/** What the LM target needs of a tokenizer (memaudit's CharTokenizer has it). */
export interface LmTokenizer {
  readonly vocab: readonly string[];
  readonly padId: number;
  encode(text: string): number[];
  encodeWithOffsets(text: string): EncodedText;
  decode(ids: Iterable<number>): string;
}

export interface LocalLmOptions {
  label: string;
  model: tf.LayersModel | tf.GraphModel;
  logProbs: LogProbFn;
  tokenizer: LmTokenizer;
  contextLength: number;
  /** dtype the model's input expects. */
  inputDtype: 'float32' | 'int32';
  describe: () => TargetDescriptor;
  /** Windows per model call. */
  batchWindows?: number;
}

/** A scored token with the extras `serve` needs (top alternatives). */
export interface DetailedToken extends TokenLogprob {
  id: number;
  top?: { id: number; logprob: number }[];
}

export interface DetailedOptions {
  /** Return the k most likely tokens at each position (the whole vocabulary when k >= its size). */
  topK?: number;
  distributionStats?: boolean;
}

export class LocalLmTarget extends BaseTarget {
  readonly kind = 'local' as const;
  readonly task = 'lm' as const;
  readonly label: string;
  readonly capabilities: TargetCapabilities = {
    scoreText: true,
    nextTokenDistribution: true,
    generate: true,
    beamSearch: true,
    classProbabilities: false,
  };
  readonly tokenizer: LmTokenizer;
  readonly contextLength: number;
  readonly vocabSize: number;
  private readonly options: LocalLmOptions;
  private readonly batchWindows: number;
  private closed = false;

  constructor(options: LocalLmOptions) {
    super();
    this.options = options;
    this.label = options.label;
    this.tokenizer = options.tokenizer;
    this.contextLength = options.contextLength;
    this.vocabSize = options.tokenizer.vocab.length;
    // Measured on wasm: ~1k-window calls beat 4k ones (the activations stay in cache).
    this.batchWindows = options.batchWindows ?? 1024;
  }

  async describe(): Promise<TargetDescriptor> {
    return this.options.describe();
  }

  private input(contexts: Int32Array, rows: number): tf.Tensor2D {
    return this.options.inputDtype === 'int32'
      ? tf.tensor2d(contexts, [rows, this.contextLength], 'int32')
      : tf.tensor2d(Float32Array.from(contexts), [rows, this.contextLength], 'float32');
  }

  override async scoreTexts(texts: string[], options: ScoreOptions = {}): Promise<ScoredText[]> {
    const detailed = await this.scoreDetailed(texts, { distributionStats: options.distributionStats });
    return detailed.map((tokens) => ({
      tokens: tokens.map(({ token, start, end, logprob, meanLogprob, stdLogprob }) =>
        meanLogprob === undefined ? { token, start, end, logprob } : { token, start, end, logprob, meanLogprob, stdLogprob },
      ),
    }));
  }

  /** Per-token log-probabilities of each text, with top-k alternatives and distribution statistics on request. */
  async scoreDetailed(texts: string[], options: DetailedOptions = {}): Promise<DetailedToken[][]> {
    // Bounded memory for huge candidate lists (exact exposure): passes of at most ~64 model batches.
    const limit = this.batchWindows * 64;
    const out: DetailedToken[][] = [];
    let group: string[] = [];
    let windows = 0;
    for (const text of texts) {
      if (group.length > 0 && windows + text.length > limit) {
        out.push(...(await this.scorePass(group, options)));
        group = [];
        windows = 0;
      }
      group.push(text);
      windows += text.length;
    }
    if (group.length > 0) out.push(...(await this.scorePass(group, options)));
    return out;
  }

  private async scorePass(texts: string[], options: DetailedOptions): Promise<DetailedToken[][]> {
    const encoded = texts.map((t) => this.tokenizer.encodeWithOffsets(t));
    const total = encoded.reduce((s, e) => s + e.ids.length, 0);
    const ctx = this.contextLength;
    const contexts = new Int32Array(total * ctx);
    const targets = new Int32Array(total);
    let at = 0;
    for (const e of encoded) {
      const w = contextWindows(e.ids, ctx);
      contexts.set(w.contexts, at * ctx);
      targets.set(w.targets, at);
      at += e.ids.length;
    }
    const k = Math.min(options.topK ?? 0, this.vocabSize);
    const logprob = new Float32Array(total);
    const mean = options.distributionStats ? new Float32Array(total) : undefined;
    const std = options.distributionStats ? new Float32Array(total) : undefined;
    const topValues = k > 0 ? new Float32Array(total * k) : undefined;
    const topIds = k > 0 ? new Int32Array(total * k) : undefined;
    for (let from = 0; from < total; from += this.batchWindows) {
      // Between model batches, let a server answer other requests (serve's /health).
      if (from > 0) await yieldToEventLoop();
      const rows = Math.min(this.batchWindows, total - from);
      const outs = tf.tidy(() => {
        const lp = this.options.logProbs(this.input(contexts.subarray(from * ctx, (from + rows) * ctx), rows));
        // Picks lp[r, target_r] with a one-hot mask (wasm's batched gather is unreliable); `where`
        // rather than a product, so a -Infinity elsewhere in the row cannot turn the sum into NaN.
        const mask = tf.oneHot(tf.tensor1d(targets.subarray(from, from + rows), 'int32'), this.vocabSize).cast('bool');
        const result: tf.Tensor[] = [tf.sum(tf.where(mask, lp, tf.zerosLike(lp)), 1)];
        if (mean) {
          // Min-K%++ (Zhang et al. 2024): mu = E_p[log p], sigma^2 = E_p[(log p)^2] - mu^2 per position.
          const p = tf.exp(lp);
          const m = tf.sum(tf.mul(p, lp), 1);
          const second = tf.sum(tf.mul(p, tf.square(lp)), 1);
          result.push(m, tf.sqrt(tf.relu(tf.sub(second, tf.square(m)))));
        }
        if (k > 0) {
          const top = tf.topk(lp, k, true);
          result.push(top.values, top.indices);
        }
        return result;
      });
      const data = await Promise.all(outs.map((t) => t.data()));
      tf.dispose(outs);
      logprob.set(data[0] as Float32Array, from);
      let next = 1;
      if (mean && std) {
        mean.set(data[next++] as Float32Array, from);
        std.set(data[next++] as Float32Array, from);
      }
      if (topValues && topIds) {
        topValues.set(data[next++] as Float32Array, from * k);
        topIds.set(data[next++] as Int32Array, from * k);
      }
    }
    const out: DetailedToken[][] = [];
    at = 0;
    texts.forEach((text, i) => {
      const e = encoded[i]!;
      const tokens: DetailedToken[] = [];
      for (let t = 0; t < e.ids.length; t++, at++) {
        const token: DetailedToken = { id: e.ids[t]!, token: text.slice(e.starts[t], e.ends[t]), start: e.starts[t]!, end: e.ends[t]!, logprob: logprob[at]! };
        if (mean && std) {
          token.meanLogprob = mean[at]!;
          token.stdLogprob = std[at]!;
        }
        if (topValues && topIds) {
          token.top = Array.from({ length: k }, (_, j) => ({ id: topIds[at * k + j]!, logprob: topValues[at * k + j]! }));
        }
        tokens.push(token);
      }
      out.push(tokens);
    });
    return out;
  }

  /** Full next-token log-probabilities after each id sequence, row-major [sequences x vocab]. */
  async nextLogprobs(sequences: number[][]): Promise<Float32Array> {
    const ctx = this.contextLength;
    const out = new Float32Array(sequences.length * this.vocabSize);
    for (let from = 0; from < sequences.length; from += this.batchWindows) {
      const rows = Math.min(this.batchWindows, sequences.length - from);
      const contexts = new Int32Array(rows * ctx);
      for (let r = 0; r < rows; r++) contexts.set(lastContext(sequences[from + r]!, ctx), r * ctx);
      const lp = tf.tidy(() => this.options.logProbs(this.input(contexts, rows)));
      out.set((await lp.data()) as Float32Array, from * this.vocabSize);
      lp.dispose();
    }
    return out;
  }

  override async nextTokenDistributions(prompts: string[]): Promise<TokenDistribution[]> {
    const rows = await this.nextLogprobs(prompts.map((p) => this.tokenizer.encode(p)));
    const V = this.vocabSize;
    return prompts.map((_, i) => ({
      tokens: [...this.tokenizer.vocab],
      logprobs: Float64Array.from(rows.subarray(i * V, (i + 1) * V)),
      complete: true,
    }));
  }

  /** `signal` (serve) stops decoding between steps once aborted. */
  override async generate(requests: GenerateRequest[], rng?: Rng, signal?: AbortSignal): Promise<Generation[][]> {
    for (const request of requests) checkDecoding(this, request);
    const jobs = requests.map((r) => ({ prompt: this.tokenizer.encode(r.prompt), maxTokens: r.maxTokens, decoding: r.decoding, n: r.n ?? 1 }));
    const decoded = await decode(jobs, (seqs) => this.nextLogprobs(seqs), this.vocabSize, this.tokenizer.padId, rng ?? Rng.unseeded(), signal);
    return decoded.map((gens) => gens.map((g) => ({ text: this.tokenizer.decode(g.ids), logprob: g.logprob })));
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.options.model.dispose();
  }
}
