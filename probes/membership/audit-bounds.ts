/**
 * Empirical epsilon lower bounds from canary membership scores (the DP audit's statistics).
 *
 * Two methods, both returning the largest epsilon whose (epsilon, delta)-DP claim the scores
 * reject at significance alpha (bound holds with probability >= 1 - alpha):
 *
 * - Clopper-Pearson (Jagielski, Ullman, Oprea 2020, arXiv 2006.07709; as jax_privacy's
 *   `epsilon_clopper_pearson`): a threshold test "member iff score >= t" under (eps, delta)-DP has
 *   TPR <= e^eps FPR + delta and TNR <= e^eps FNR + delta. One-sided CP bounds TPR_lo and FPR_hi,
 *   each at alpha'/2, hold together with probability >= 1 - alpha', and both inequalities are
 *   tested with them. The threshold is chosen with a Bonferroni correction (alpha' = alpha / T
 *   over all T thresholds the data offers) or a split (threshold picked on a random half, bound
 *   computed at full alpha on the other half). Canaries are treated as independent trials.
 *
 * - One run (Steinke, Nasr, Jagielski 2023, arXiv 2305.08846): each of m canaries is inserted
 *   independently with probability 1/2; the auditor guesses "in" for the highest scores and "out"
 *   for the lowest, abstaining on the rest, and the p-value of its correct guesses under an
 *   (eps, delta)-DP null bounds eps (src/accounting/one-run-audit.ts, docs/SCIENCE.md).
 *
 * Canaries inserted r > 1 times are a group of r records: group privacy turns a record-level
 * (eps, delta) claim into (r eps, r e^{(r-1) eps} delta) for the group, so the record-level bound
 * is the largest eps whose group claim is rejected.
 *
 * The ceiling is the bound the same method would give if the attack separated the canaries
 * perfectly: a low bound proves nothing about privacy beyond "epsilon >= bound", and no bound
 * from this many canaries can exceed the ceiling.
 */
import betaQuantile from '@stdlib/stats-base-dists-beta-quantile';
import type { Rng } from '../../src/core/rng.js';
import { groupClaim, oneRunAudit as runOneRunAudit, supRejected } from '../../src/accounting/one-run-audit.js';

// The one-run math lives in the accounting layer (the trainer's self-audit uses it too).
export { groupClaim, oneRunEpsilon, oneRunPValue, supRejected } from '../../src/accounting/one-run-audit.js';

export type ThresholdStrategy = 'bonferroni' | 'split';

export interface AuditBound {
  method: 'clopper-pearson' | 'one-run';
  epsilonLowerBound: number;
  /** 1 - alpha. */
  confidence: number;
  ceiling: number;
  delta: number;
  /** Copies of each member canary in the training data (group size). */
  groupSize: number;
  /** Score threshold ("member iff score >= threshold") of the best test, or null if none rejected anything. */
  threshold: number | null;
  /** Clopper-Pearson: the strategy and the number of thresholds corrected for; one-run: the guess grid size. */
  strategy: ThresholdStrategy;
  hypotheses: number;
  /** One-run only: guesses and correct guesses of the best test. */
  guesses?: number;
  correct?: number;
}

// ---- shared ------------------------------------------------------------------------------------

/** One-sided upper Clopper-Pearson bound on a proportion from k of n at significance s. */
export function cpUpper(k: number, n: number, s: number): number {
  return k >= n ? 1 : betaQuantile(1 - s, k + 1, n - k);
}

// ---- Clopper-Pearson ---------------------------------------------------------------------------

interface Counts {
  threshold: number;
  tp: number;
  fp: number;
}

/** (TP, FP) at every distinct threshold, "member iff score >= t", plus t = +Infinity. */
function thresholdCounts(members: ArrayLike<number>, nonMembers: ArrayLike<number>): Counts[] {
  const all: [number, boolean][] = [];
  for (let i = 0; i < members.length; i++) all.push([members[i]!, true]);
  for (let i = 0; i < nonMembers.length; i++) all.push([nonMembers[i]!, false]);
  all.sort((a, b) => b[0] - a[0]);
  const out: Counts[] = [{ threshold: Infinity, tp: 0, fp: 0 }];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < all.length; ) {
    const t = all[i]![0];
    while (i < all.length && all[i]![0] === t) {
      if (all[i]![1]) tp++;
      else fp++;
      i++;
    }
    out.push({ threshold: t, tp, fp });
  }
  return out;
}

/**
 * The CP bound for one threshold's counts at significance s (TPR_lo and FPR_hi each at s/2),
 * both directions (TPR/FPR and TNR/FNR), with group privacy.
 */
export function cpEpsilonAtCounts(tp: number, m: number, fp: number, n: number, s: number, delta: number, groupSize = 1): number {
  const tprLo = 1 - cpUpper(m - tp, m, s / 2);
  const fprHi = cpUpper(fp, n, s / 2);
  return supRejected((eps) => {
    const g = groupClaim(eps, delta, groupSize);
    const e = Math.exp(g.eps);
    // TPR <= e^eps FPR + delta, and TNR <= e^eps FNR + delta (TNR_lo = 1 - FPR_hi, FNR_hi = 1 - TPR_lo).
    return tprLo - g.delta > e * fprHi || 1 - fprHi - g.delta > e * (1 - tprLo);
  });
}

export interface AuditOptions {
  /** Significance alpha (1 - confidence), default 0.05. */
  alpha?: number;
  delta: number;
  groupSize?: number;
}

function bestCp(counts: Counts[], m: number, n: number, s: number, delta: number, groupSize: number): { eps: number; threshold: number | null } {
  let best = { eps: 0, threshold: null as number | null };
  for (const c of counts) {
    const eps = cpEpsilonAtCounts(c.tp, m, c.fp, n, s, delta, groupSize);
    if (eps > best.eps) best = { eps, threshold: c.threshold };
  }
  return best;
}

/** Clopper-Pearson lower bound with a Bonferroni correction over every threshold the scores offer. */
export function clopperPearsonBonferroni(members: ArrayLike<number>, nonMembers: ArrayLike<number>, options: AuditOptions): AuditBound {
  const alpha = options.alpha ?? 0.05;
  const groupSize = options.groupSize ?? 1;
  requireBoth(members, nonMembers);
  const counts = thresholdCounts(members, nonMembers);
  const s = alpha / counts.length;
  const best = bestCp(counts, members.length, nonMembers.length, s, options.delta, groupSize);
  return {
    method: 'clopper-pearson',
    epsilonLowerBound: best.eps,
    confidence: 1 - alpha,
    ceiling: cpEpsilonAtCounts(members.length, members.length, 0, nonMembers.length, s, options.delta, groupSize),
    delta: options.delta,
    groupSize,
    threshold: best.threshold,
    strategy: 'bonferroni',
    hypotheses: counts.length,
  };
}

/**
 * Clopper-Pearson lower bound with a split: a random half of each group picks the threshold (the
 * best uncorrected bound there), the other half bounds epsilon at that threshold at full alpha.
 */
export function clopperPearsonSplit(members: ArrayLike<number>, nonMembers: ArrayLike<number>, options: AuditOptions & { rng: Rng }): AuditBound {
  const alpha = options.alpha ?? 0.05;
  const groupSize = options.groupSize ?? 1;
  requireBoth(members, nonMembers);
  if (members.length < 2 || nonMembers.length < 2) throw new RangeError('the split strategy needs at least two members and two non-members');
  const [m1, m2] = halves(members, options.rng);
  const [n1, n2] = halves(nonMembers, options.rng);
  const chosen = bestCp(thresholdCounts(m1, n1), m1.length, n1.length, alpha, options.delta, groupSize);
  let eps = 0;
  if (chosen.threshold !== null) {
    const t = chosen.threshold;
    const tp = m2.filter((x) => x >= t).length;
    const fp = n2.filter((x) => x >= t).length;
    eps = cpEpsilonAtCounts(tp, m2.length, fp, n2.length, alpha, options.delta, groupSize);
  }
  return {
    method: 'clopper-pearson',
    epsilonLowerBound: eps,
    confidence: 1 - alpha,
    ceiling: cpEpsilonAtCounts(m2.length, m2.length, 0, n2.length, alpha, options.delta, groupSize),
    delta: options.delta,
    groupSize,
    threshold: chosen.threshold,
    strategy: 'split',
    hypotheses: 1,
  };
}

function halves(scores: ArrayLike<number>, rng: Rng): [number[], number[]] {
  const order = rng.shuffle([...Array(scores.length).keys()]);
  const cut = Math.floor(scores.length / 2);
  return [order.slice(0, cut).map((i) => scores[i]!), order.slice(cut).map((i) => scores[i]!)];
}

function requireBoth(members: ArrayLike<number>, nonMembers: ArrayLike<number>): void {
  if (members.length === 0 || nonMembers.length === 0) {
    throw new RangeError(`an epsilon bound needs members and non-members (got ${members.length} and ${nonMembers.length})`);
  }
}

// ---- one run (Steinke, Nasr, Jagielski 2023) ---------------------------------------------------

/**
 * One-run audit: `inserted` scores are canaries that were inserted, `notInserted` those that were
 * not (each canary inserted with probability 1/2 by `canary insert --mode bernoulli`). Guesses on
 * both sides with abstention, as the trainer's self-audit (src/accounting/one-run-audit.ts).
 */
export function oneRunAudit(inserted: ArrayLike<number>, notInserted: ArrayLike<number>, options: AuditOptions): AuditBound {
  const confidence = 1 - (options.alpha ?? 0.05);
  const groupSize = options.groupSize ?? 1;
  const result = runOneRunAudit({ scoresIncluded: inserted, scoresExcluded: notInserted }, { confidence, delta: options.delta, groupSize });
  return {
    method: 'one-run',
    epsilonLowerBound: result.epsilonLowerBound,
    confidence,
    ceiling: result.ceiling,
    delta: options.delta,
    groupSize,
    threshold: null,
    strategy: 'bonferroni',
    hypotheses: result.hypotheses,
    guesses: result.guesses,
    correct: result.correct,
  };
}
