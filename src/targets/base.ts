/**
 * What every Target implementation shares: methods for capabilities a target lacks throw a
 * CapabilityError (INCONCLUSIVE in a verdict, exit 3 from a probe command), never a crash.
 */
import { CapabilityError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type {
  ClassProbabilities,
  FeatureRow,
  GenerateRequest,
  Generation,
  ScoredText,
  ScoreOptions,
  Target,
  TargetCapabilities,
  TargetDescriptor,
  TargetKind,
  TargetTask,
  TokenDistribution,
} from './target.js';

export const noCapabilities: TargetCapabilities = {
  scoreText: false,
  nextTokenDistribution: false,
  generate: false,
  beamSearch: false,
  classProbabilities: false,
};

const what: Record<keyof TargetCapabilities, string> = {
  scoreText: 'score given text (per-token log-probabilities)',
  nextTokenDistribution: 'return the full next-token distribution',
  generate: 'generate text',
  beamSearch: 'decode with beam search',
  classProbabilities: 'return class probabilities',
};

export abstract class BaseTarget implements Target {
  abstract readonly kind: TargetKind;
  abstract readonly task: TargetTask;
  abstract readonly capabilities: TargetCapabilities;
  /** The target string, for messages (API keys never appear in it). */
  abstract readonly label: string;

  abstract describe(): Promise<TargetDescriptor>;

  /** Throws the typed error a verdict turns into INCONCLUSIVE when a capability is missing. */
  require(capability: keyof TargetCapabilities, why?: string): void {
    if (!this.capabilities[capability]) {
      throw new CapabilityError(capability, `${this.label} cannot ${what[capability]}${why ? `: ${why}` : ''}`);
    }
  }

  // Async, so a missing capability is a rejected promise, never a synchronous throw.
  async scoreTexts(_texts: string[], _options?: ScoreOptions): Promise<ScoredText[]> {
    this.require('scoreText');
    throw new Error('scoreTexts not implemented');
  }

  async nextTokenDistributions(_prompts: string[]): Promise<TokenDistribution[]> {
    this.require('nextTokenDistribution');
    throw new Error('nextTokenDistributions not implemented');
  }

  async generate(_requests: GenerateRequest[], _rng?: Rng): Promise<Generation[][]> {
    this.require('generate');
    throw new Error('generate not implemented');
  }

  async classProbabilities(_rows: FeatureRow[]): Promise<ClassProbabilities> {
    this.require('classProbabilities');
    throw new Error('classProbabilities not implemented');
  }

  async close(): Promise<void> {}
}

/** Validates the decoding of a generation request against the target's capabilities. */
export function checkDecoding(target: { require(c: keyof TargetCapabilities): void }, request: GenerateRequest): void {
  if (request.decoding.kind === 'beam') target.require('beamSearch');
}

/**
 * Mean and standard deviation of log p under p itself, from a distribution's log-probabilities
 * (Min-K%++, Zhang et al. 2024: mu = E_{z~p}[log p(z)], sigma^2 = Var_{z~p}[log p(z)]).
 */
export function distributionStats(logprobs: ArrayLike<number>): { mean: number; std: number } {
  let mean = 0;
  let second = 0;
  for (let i = 0; i < logprobs.length; i++) {
    const lp = logprobs[i]!;
    if (lp === -Infinity) continue;
    const p = Math.exp(lp);
    mean += p * lp;
    second += p * lp * lp;
  }
  return { mean, std: Math.sqrt(Math.max(0, second - mean * mean)) };
}
