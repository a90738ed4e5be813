/**
 * The Target interface: everything a probe needs from a model, whether it is a local tfjs model
 * or a model behind an API. Probes never know which.
 *
 * A target declares its capabilities; calling a method it lacks throws a CapabilityError (exit 3,
 * INCONCLUSIVE in a verdict), never a crash. All methods are batched and async so API targets can
 * pipeline requests and local targets can batch model calls.
 */
import type { Rng } from '../core/rng.js';

export type TargetKind = 'local' | 'openai' | 'tgi' | 'kserve' | 'tfserving';
export type TargetTask = 'lm' | 'classifier';

export interface TargetCapabilities {
  /** Per-token log-probabilities of given text (prompt scoring). */
  scoreText: boolean;
  /** The full next-token distribution after a prompt (needed by Min-K%++ and exact exposure with prefix sharing). */
  nextTokenDistribution: boolean;
  /** Text generation (greedy, beam and/or sampling). */
  generate: boolean;
  /** Beam search (when false, generate supports greedy and sampling only). */
  beamSearch: boolean;
  /** Class probabilities for tabular rows (classifiers). */
  classProbabilities: boolean;
}

/** One token of a scored text; `start`/`end` are character offsets into the scored text. */
export interface TokenLogprob {
  token: string;
  start: number;
  end: number;
  /** log p(token | everything before it), natural log. */
  logprob: number;
  /** E_{z~p}[log p(z)] and its standard deviation at this position, when distribution stats were asked for (Min-K%++). */
  meanLogprob?: number;
  stdLogprob?: number;
}

export interface ScoredText {
  /**
   * Tokens in order. Tokens the target could not score (an API's first token has no
   * conditional log-probability) are left out, so probes must use offsets, not positions.
   */
  tokens: TokenLogprob[];
}

export interface ScoreOptions {
  /** Also return per-position mean/std of log p under the model's own distribution (needs nextTokenDistribution). */
  distributionStats?: boolean;
}

/** The model's distribution over the next token after a prompt. */
export interface TokenDistribution {
  /** Token strings, aligned with `logprobs`. The full vocabulary for local targets; top-k for APIs. */
  tokens: string[];
  logprobs: Float64Array;
  /** True when `tokens` is the whole vocabulary (sums to 1), false for a top-k truncation. */
  complete: boolean;
}

export type Decoding =
  | { kind: 'greedy' }
  | { kind: 'beam'; width: number }
  | { kind: 'sample'; temperature: number; topK?: number };

export interface GenerateRequest {
  prompt: string;
  /** Maximum new tokens (characters, for the char LM). */
  maxTokens: number;
  decoding: Decoding;
  /** Number of sequences to return: beams in score order for beam search, samples for sampling. */
  n?: number;
}

export interface Generation {
  /** The continuation only, without the prompt. */
  text: string;
  /** Sum of the continuation's token log-probabilities, when the target reports it. */
  logprob?: number;
}

/** A table row for a classifier: feature name to value. */
export type FeatureRow = Record<string, string | number>;

export interface ClassProbabilities {
  labels: string[];
  /** One probability vector per row, aligned with `labels`. */
  probabilities: number[][];
}

/** What a report and an attestation record about the target. */
export interface TargetDescriptor {
  /** The target string the user gave (API keys never appear in it). */
  target: string;
  kind: TargetKind;
  task: TargetTask;
  /** sha256 of the model files (local) or of a canonical endpoint descriptor (API). */
  digest: string;
  /** Model files with their digests (local targets): the attestation's subjects. */
  files?: { name: string; sha256: string }[];
  model?: string;
  capabilities: TargetCapabilities;
  /** Tokenization unit, e.g. "char" for memaudit's char LM or "bpe" for an API model. */
  tokenizer?: string;
}

export interface Target {
  readonly kind: TargetKind;
  readonly task: TargetTask;
  readonly capabilities: TargetCapabilities;

  describe(): Promise<TargetDescriptor>;

  /** Per-token log-probabilities of each text. Requires `scoreText`. */
  scoreTexts(texts: string[], options?: ScoreOptions): Promise<ScoredText[]>;

  /** Next-token distributions after each prompt. Requires `nextTokenDistribution`. */
  nextTokenDistributions(prompts: string[]): Promise<TokenDistribution[]>;

  /** Generations for each request (`n` of them each). Sampling draws from `rng` where the target allows. Requires `generate`. */
  generate(requests: GenerateRequest[], rng?: Rng): Promise<Generation[][]>;

  /** Class probabilities for rows. Requires `classProbabilities`. */
  classProbabilities(rows: FeatureRow[]): Promise<ClassProbabilities>;

  /** Releases models, sockets and caches. */
  close(): Promise<void>;
}
