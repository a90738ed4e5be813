/**
 * Per-record membership scores from what a target returns (higher = more likely a member).
 * Each function reads one record's scored tokens (language models) or class probabilities
 * (classifiers); none of them sees whether the record is a member.
 *
 * Formulas and the variant used (../shared/reference/probes.md sections 2.4, 2.5):
 * - loss (Yeom et al. 2018): mean token log-probability, i.e. minus the mean token NLL.
 * - zlib (Carlini et al. 2021, in its MIA form as MIMIR `zlib.py` / Min-K%++ `run.py`):
 *   mean token log-probability / zlib-compressed length of the UTF-8 text in bytes.
 * - Min-K% (Shi et al. 2024): mean of the lowest max(1, floor(k N)) token log-probabilities.
 * - Min-K%++ (Zhang et al. 2025): per token (log p(x_t) - mu_t) / sigma_t, where mu_t and sigma_t
 *   are the mean and std of log p(v) under the model's own next-token distribution; mean of the
 *   lowest max(1, floor(k N)). Needs the full distribution (ScoreOptions.distributionStats).
 * - classifier loss: log p(true label); LiRA's signal is its logit scaling
 *   log p_y - log(sum_{y' != y} p_y') (Carlini et al. 2022, `score.py`).
 */
import { deflateSync } from 'node:zlib';
import { CapabilityError } from '../../src/core/errors.js';
import type { ClassProbabilities, ScoredText } from '../../src/targets/target.js';

function logprobsOf(scored: ScoredText, what: string): number[] {
  const values = scored.tokens.map((t) => t.logprob);
  if (values.length === 0) throw new RangeError(`${what}: the target scored no token of a record`);
  return values;
}

function mean(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** Mean of the lowest max(1, floor(k N)) values. */
export function meanOfLowest(values: readonly number[], k: number): number {
  if (!(k > 0 && k <= 1)) throw new RangeError(`k must be in (0, 1], got ${k}`);
  const sorted = [...values].sort((a, b) => a - b);
  const count = Math.max(1, Math.floor(k * sorted.length));
  return mean(sorted.slice(0, count));
}

/** Minus the mean token NLL. */
export function lossScore(scored: ScoredText): number {
  return mean(logprobsOf(scored, 'loss'));
}

/** Bytes of zlib.compress(utf8(text)) at zlib's default level (as Python's zlib.compress). */
export function zlibBytes(text: string): number {
  return deflateSync(Buffer.from(text, 'utf8')).length;
}

/** Mean token log-probability / zlib length in bytes. */
export function zlibScore(scored: ScoredText, text: string): number {
  return lossScore(scored) / zlibBytes(text);
}

export function minKScore(scored: ScoredText, k = 0.2): number {
  return meanOfLowest(logprobsOf(scored, 'min-k'), k);
}

export function minKPlusPlusScore(scored: ScoredText, k = 0.2): number {
  const z = scored.tokens.map((t) => {
    if (t.meanLogprob === undefined || t.stdLogprob === undefined) {
      throw new CapabilityError('nextTokenDistribution', 'Min-K%++ needs the full next-token distribution, which this target does not return');
    }
    // A one-hot distribution has sigma 0: the token is then either certain (z = 0) or impossible.
    return t.stdLogprob > 0 ? (t.logprob - t.meanLogprob) / t.stdLogprob : 0;
  });
  if (z.length === 0) throw new RangeError('min-k++: the target scored no token of a record');
  return meanOfLowest(z, k);
}

/** Index of each row's true label in the target's label list; an unknown label is an error naming it. */
export function labelIndices(probs: ClassProbabilities, labels: readonly string[]): number[] {
  const index = new Map(probs.labels.map((l, i) => [l, i]));
  return labels.map((label) => {
    const i = index.get(label);
    if (i === undefined) throw new RangeError(`label "${label}" is not one of the model's labels (${probs.labels.join(', ')})`);
    return i;
  });
}

/** log p(true label) for each row. */
export function classLossScores(probs: ClassProbabilities, labels: readonly string[]): number[] {
  const idx = labelIndices(probs, labels);
  return probs.probabilities.map((p, row) => Math.log(Math.max(p[idx[row]!]!, 1e-45)));
}

/** Logit-scaled confidence log p_y - log sum_{y' != y} p_y', with 1e-45 guards as in LiRA's score.py. */
export function classLogitScores(probs: ClassProbabilities, labels: readonly string[]): number[] {
  const idx = labelIndices(probs, labels);
  return probs.probabilities.map((p, row) => {
    const y = idx[row]!;
    let rest = 0;
    for (let j = 0; j < p.length; j++) if (j !== y) rest += p[j]!;
    return Math.log(Math.max(p[y]!, 1e-45)) - Math.log(Math.max(rest, 1e-45));
  });
}
