/**
 * The DP audit's canary signal for language models: the log-probability of a canary's secret given
 * its prefix, log p(secret | prefix), summed over the tokens covering the secret (docs/SCIENCE.md,
 * "Black-box one-run audit"). Whole-text scores add the prefix's and suffix's log-probabilities,
 * which every canary of a pack shares in shape but not in value, so they bury the one part the
 * training run could have memorized under noise from the parts it could not.
 */
import type { Target, TargetDescriptor } from '../../src/targets/target.js';
import { secretNll } from '../secret-scoring.js';

export interface SecretCandidate {
  prefix: string;
  secret: string;
}

/** Texts per target call: the local LM's and the API clients' own batching take it from there. */
const batchSize = 256;

/** log p(secret | prefix) per candidate (higher = more likely memorized), nats. */
export async function secretLogProbabilities(target: Target, descriptor: TargetDescriptor, candidates: readonly SecretCandidate[], onProgress?: (done: number) => void): Promise<number[]> {
  const label = `target ${descriptor.target}`;
  const scores: number[] = [];
  for (let start = 0; start < candidates.length; start += batchSize) {
    const batch = candidates.slice(start, start + batchSize);
    const scored = await target.scoreTexts(batch.map((c) => c.prefix + c.secret));
    scored.forEach((s, i) => {
      const c = batch[i]!;
      scores.push(-secretNll(s, c.prefix.length, c.prefix.length + c.secret.length, label));
    });
    onProgress?.(scores.length);
  }
  return scores;
}
