/**
 * Log-probabilities an API returns are checked before they count as evidence. A server returning
 * impossible numbers (positive log-probabilities, top-k lists that contradict the token they list,
 * one constant for every token) is faulty, not private: exposure and membership computed from such
 * numbers would clear a model on garbage. A faulty target stops the run (exit 2) naming the target
 * and the field; it never reaches a verdict. See docs/SCIENCE.md#api-log-probability-checks.
 */
import { InputError } from '../../core/errors.js';
import type { TokenLogprob } from '../target.js';

/** Rounding slack: servers compute log-softmax in fp16/bf16, and a certain token may come back as +1e-7. */
export const logprobSlack = 1e-4;
/** Slack on a top-k list's total probability (a list of the k most likely tokens sums to at most 1). */
const massSlack = 1e-3;
/** How far a token's logprob may differ from its own entry in the top-k list (both come from one softmax). */
const entrySlack = 1e-3;
/** Degenerate scoring is judged on texts with at least this many scored tokens, of at least `minDistinct` different texts. */
const minTokensForDegenerate = 8;
const minDistinct = 4;

/** A target whose responses cannot be log-probabilities: exit 2, never a verdict. */
export class FaultyTargetError extends InputError {
  constructor(source: string, field: string, what: string) {
    super(`${source}: faulty target: ${field} ${what}; its scores cannot be used as evidence`);
  }
}

/** A log-probability must be a number <= 0 (null where the API gives none, -Infinity for impossible tokens). */
export function checkLogprob(value: unknown, source: string, field: string): void {
  if (value === null || value === undefined || value === -Infinity) return;
  if (typeof value !== 'number' || Number.isNaN(value)) throw new FaultyTargetError(source, field, 'is not a number');
  if (value > logprobSlack) throw new FaultyTargetError(source, field, `is ${value}, above 0 (a log-probability is at most 0)`);
}

/**
 * A top-k list (token -> logprob) must hold log-probabilities whose probabilities sum to at most 1,
 * and list the chosen token, when it lists it, with the chosen token's own logprob.
 */
export function checkTopList(top: Record<string, unknown>, chosen: { token: string; logprob: number | null } | undefined, source: string, field: string): void {
  let mass = 0;
  for (const value of Object.values(top)) {
    checkLogprob(value, source, field);
    mass += Math.exp(value as number);
  }
  if (mass > 1 + massSlack) throw new FaultyTargetError(source, field, `lists tokens whose probabilities sum to ${mass.toFixed(4)}, more than 1`);
  if (!chosen || chosen.logprob === null || !Object.hasOwn(top, chosen.token)) return;
  const listed = top[chosen.token] as number;
  if (Math.abs(listed - chosen.logprob) > entrySlack) {
    throw new FaultyTargetError(source, field, `gives the scored token ${listed}, but its own log-probability is ${chosen.logprob}`);
  }
}

/** Ranked alternatives (vLLM's `rank`, 1 = most likely) must have log-probabilities that fall as the rank grows. */
export function checkRanks(entries: { logprob: number; rank?: number }[], source: string, field: string): void {
  const ranked = entries.filter((e) => typeof e.rank === 'number').sort((a, b) => a.rank! - b.rank!);
  for (let i = 1; i < ranked.length; i++) {
    if (ranked[i]!.logprob > ranked[i - 1]!.logprob + entrySlack) {
      throw new FaultyTargetError(source, field, `ranks a token with log-probability ${ranked[i]!.logprob} below one with ${ranked[i - 1]!.logprob}`);
    }
  }
}

/**
 * Degenerate scoring: one log-probability for every token of a varied text. No language model
 * assigns exactly the same value to eight or more tokens of four or more different strings; a server
 * that does is not scoring the text (a stub, a constant, a cached placeholder).
 */
export function checkNotDegenerate(tokens: TokenLogprob[], source: string, field: string): void {
  if (tokens.length < minTokensForDegenerate) return;
  if (new Set(tokens.map((t) => t.token)).size < minDistinct) return;
  const first = tokens[0]!.logprob;
  if (tokens.every((t) => t.logprob === first)) {
    throw new FaultyTargetError(source, field, `gives all ${tokens.length} tokens of a varied text the same log-probability ${first} (degenerate scoring)`);
  }
}
