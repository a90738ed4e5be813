/**
 * Asks a target for the signals of every candidate, in batches, and turns them into the
 * reference-free attack scores (loss, zlib, Min-K%, Min-K%++) and the per-model signal that the
 * reference and LiRA attacks compare across models.
 */
import { CapabilityError } from '../../src/core/errors.js';
import type { ScoredText, Target } from '../../src/targets/target.js';
import type { Candidate } from './candidates.js';
import { classLogitScores, classLossScores, lossScore, minKPlusPlusScore, minKScore, zlibScore } from './signals.js';

export type ReferenceFreeAttack = 'loss' | 'zlib' | 'min-k' | 'min-k++';

export interface ScoreOptions {
  /** Min-K% and Min-K%++ fraction (default 0.2, MIMIR's default). */
  k?: number;
  /** Records per target call (default 64). */
  batchSize?: number;
  /** Ask for next-token distribution statistics (Min-K%++) when the target has them (default true). */
  distributionStats?: boolean;
  onBatch?: (done: number, total: number) => void;
}

export interface CandidateScores {
  /** Scores of the attacks the target supports, one per candidate (higher = member). */
  attacks: Partial<Record<ReferenceFreeAttack, number[]>>;
  /**
   * The signal compared across models (reference attack, LiRA): the mean token log-probability
   * for language models, the logit-scaled true-label confidence for classifiers.
   */
  signal: number[];
  /** Attacks left out and why (e.g. Min-K%++ without the full next-token distribution). */
  skipped: { attack: string; reason: string }[];
}

async function scoreTextsBatched(target: Target, texts: string[], stats: boolean, options: ScoreOptions): Promise<ScoredText[]> {
  const size = options.batchSize ?? 64;
  const out: ScoredText[] = [];
  for (let i = 0; i < texts.length; i += size) {
    out.push(...(await target.scoreTexts(texts.slice(i, i + size), stats ? { distributionStats: true } : undefined)));
    options.onBatch?.(Math.min(i + size, texts.length), texts.length);
  }
  return out;
}

/** Every signal one target gives for the candidates. */
export async function scoreCandidates(target: Target, candidates: readonly Candidate[], options: ScoreOptions = {}): Promise<CandidateScores> {
  const k = options.k ?? 0.2;
  if (target.task === 'classifier') {
    if (!target.capabilities.classProbabilities) throw new CapabilityError('classProbabilities', 'membership inference on a classifier needs its class probabilities');
    const rows = candidates.map((c) => c.row!);
    const labels = candidates.map((c) => c.label!);
    const size = options.batchSize ?? 256;
    const loss: number[] = [];
    const signal: number[] = [];
    for (let i = 0; i < rows.length; i += size) {
      const probs = await target.classProbabilities(rows.slice(i, i + size));
      loss.push(...classLossScores(probs, labels.slice(i, i + size)));
      signal.push(...classLogitScores(probs, labels.slice(i, i + size)));
      options.onBatch?.(Math.min(i + size, rows.length), rows.length);
    }
    return {
      attacks: { loss },
      signal,
      skipped: [{ attack: 'zlib, min-k, min-k++', reason: 'they score text tokens; a classifier has none' }],
    };
  }
  if (!target.capabilities.scoreText) {
    throw new CapabilityError('scoreText', 'membership inference needs per-token log-probabilities of given text, which this target does not return');
  }
  const texts = candidates.map((c) => c.text!);
  const stats = (options.distributionStats ?? true) && target.capabilities.nextTokenDistribution;
  const scored = await scoreTextsBatched(target, texts, stats, options);
  const loss = scored.map(lossScore);
  const attacks: CandidateScores['attacks'] = {
    loss,
    zlib: scored.map((s, i) => zlibScore(s, texts[i]!)),
    'min-k': scored.map((s) => minKScore(s, k)),
  };
  const skipped: CandidateScores['skipped'] = [];
  if (stats) attacks['min-k++'] = scored.map((s) => minKPlusPlusScore(s, k));
  else skipped.push({ attack: 'min-k++', reason: 'the target does not return the full next-token distribution' });
  return { attacks, signal: loss, skipped };
}
