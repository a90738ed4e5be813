/**
 * Metrics of a membership attack from its scores: ROC curve, AUC, TPR at fixed FPRs, balanced
 * accuracy, bootstrap confidence intervals, and Clopper-Pearson binomial bounds.
 *
 * Convention everywhere: a higher score means "more likely a member", and the attack predicts
 * "member" when score >= threshold. Members are the positives.
 */
import betaQuantile from '@stdlib/stats-base-dists-beta-quantile';
import type { Rng } from '../src/core/rng.js';
import type { FprKey, Interval } from './types.js';

/** The low false-positive rates DESIGN.md asks for (gate on these, never on AUC alone). */
export const reportedFprs: readonly FprKey[] = ['0.001', '0.01', '0.1'];

export interface RocCurve {
  /** One vertex per distinct threshold, from (0,0) (threshold +Infinity) to (1,1); FPR and TPR non-decreasing. */
  fpr: number[];
  tpr: number[];
  /** thresholds[i] is the threshold of vertex i: "member" iff score >= threshold. */
  thresholds: number[];
  /** Raw counts at each vertex. */
  truePositives: number[];
  falsePositives: number[];
  members: number;
  nonMembers: number;
}

function checkScores(members: ArrayLike<number>, nonMembers: ArrayLike<number>): void {
  if (members.length === 0 || nonMembers.length === 0) {
    throw new RangeError(`ROC needs at least one member and one non-member (got ${members.length} and ${nonMembers.length})`);
  }
  for (const list of [members, nonMembers]) {
    for (let i = 0; i < list.length; i++) {
      if (Number.isNaN(list[i]!)) throw new RangeError('membership scores must not be NaN');
    }
  }
}

/**
 * The empirical ROC curve. Tied scores form one vertex (so a tie between a member and a
 * non-member is a diagonal segment, which the AUC counts as one half).
 */
export function rocCurve(members: ArrayLike<number>, nonMembers: ArrayLike<number>): RocCurve {
  checkScores(members, nonMembers);
  const all: { score: number; member: boolean }[] = [];
  for (let i = 0; i < members.length; i++) all.push({ score: members[i]!, member: true });
  for (let i = 0; i < nonMembers.length; i++) all.push({ score: nonMembers[i]!, member: false });
  all.sort((a, b) => b.score - a.score);
  const m = members.length;
  const n = nonMembers.length;
  const roc: RocCurve = { fpr: [0], tpr: [0], thresholds: [Infinity], truePositives: [0], falsePositives: [0], members: m, nonMembers: n };
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < all.length; ) {
    const score = all[i]!.score;
    while (i < all.length && all[i]!.score === score) {
      if (all[i]!.member) tp++;
      else fp++;
      i++;
    }
    roc.thresholds.push(score);
    roc.truePositives.push(tp);
    roc.falsePositives.push(fp);
    roc.tpr.push(tp / m);
    roc.fpr.push(fp / n);
  }
  return roc;
}

/** Area under the ROC curve by the trapezoid rule (= Mann-Whitney U / (m n), ties counted 1/2). */
export function rocAuc(roc: RocCurve): number {
  let area = 0;
  for (let i = 1; i < roc.fpr.length; i++) {
    area += (roc.fpr[i]! - roc.fpr[i - 1]!) * (roc.tpr[i]! + roc.tpr[i - 1]!) / 2;
  }
  return area;
}

/**
 * TPR at a given FPR. Rule (stated because papers differ): the empirical ROC is read as the
 * piecewise-linear curve through its vertices — every point of a segment is achieved by an
 * attack that randomizes between the segment's two thresholds — and we return its TPR at exactly
 * `fpr`, taking the highest TPR where the curve is vertical at `fpr`. No convex hull is taken
 * (the hull would credit the attack with threshold pairs chosen after seeing the labels).
 * With n non-members, FPRs below 1/n are interpolated between (0, TPR at FPR 0) and the first
 * vertex with a false positive, so their resolution is limited by n: report n beside them.
 */
export function tprAtFpr(roc: RocCurve, fpr: number): number {
  if (!(fpr >= 0 && fpr <= 1)) throw new RangeError(`fpr must be in [0, 1], got ${fpr}`);
  const { fpr: xs, tpr: ys } = roc;
  // Last vertex with FPR <= target: the highest TPR reachable without exceeding it by a threshold.
  let i = 0;
  while (i + 1 < xs.length && xs[i + 1]! <= fpr) i++;
  if (xs[i] === fpr || i + 1 >= xs.length) return ys[i]!;
  const x0 = xs[i]!;
  const x1 = xs[i + 1]!;
  const t = (fpr - x0) / (x1 - x0);
  return ys[i]! + t * (ys[i + 1]! - ys[i]!);
}

/** TPR at the three reported FPRs. */
export function tprAtReportedFprs(roc: RocCurve): Record<FprKey, number> {
  const out = {} as Record<FprKey, number>;
  for (const key of reportedFprs) out[key] = tprAtFpr(roc, Number(key));
  return out;
}

/** Best balanced accuracy over thresholds: max (TPR + TNR) / 2. */
export function balancedAccuracy(roc: RocCurve): number {
  let best = 0.5;
  for (let i = 0; i < roc.fpr.length; i++) best = Math.max(best, (roc.tpr[i]! + 1 - roc.fpr[i]!) / 2);
  return best;
}

/**
 * Clopper-Pearson ("exact") bounds on a binomial proportion from k successes in n trials.
 * `two-sided` splits 1 - confidence between the tails; `lower`/`upper` are one-sided bounds at the
 * full level (the other end is 0 or 1). Beta quantiles from @stdlib.
 */
export function clopperPearson(k: number, n: number, confidence = 0.95, sided: 'two-sided' | 'lower' | 'upper' = 'two-sided'): Interval {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(k) || k < 0 || k > n) {
    throw new RangeError(`clopperPearson: need integers 0 <= k <= n, n >= 1 (got k=${k}, n=${n})`);
  }
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const alpha = 1 - confidence;
  const tail = sided === 'two-sided' ? alpha / 2 : alpha;
  const lower = sided === 'upper' || k === 0 ? 0 : betaQuantile(tail, k, n - k + 1);
  const upper = sided === 'lower' || k === n ? 1 : betaQuantile(1 - tail, k + 1, n - k);
  return { lower, upper, confidence };
}

export interface BootstrapOptions {
  rng: Rng;
  /** Number of resamples (default 500). */
  resamples?: number;
  confidence?: number;
}

/**
 * Percentile bootstrap intervals for statistics of (members, nonMembers): both groups are
 * resampled with replacement, separately (stratified), so each resample keeps the group sizes.
 */
export function bootstrapIntervals<K extends string>(
  members: ArrayLike<number>,
  nonMembers: ArrayLike<number>,
  statistics: (m: Float64Array, n: Float64Array) => Record<K, number>,
  options: BootstrapOptions,
): Record<K, Interval> {
  const resamples = options.resamples ?? 500;
  const confidence = options.confidence ?? 0.95;
  const m = new Float64Array(members.length);
  const n = new Float64Array(nonMembers.length);
  const samples = new Map<K, number[]>();
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < m.length; i++) m[i] = members[options.rng.int(members.length)]!;
    for (let i = 0; i < n.length; i++) n[i] = nonMembers[options.rng.int(nonMembers.length)]!;
    const values = statistics(m, n);
    for (const key of Object.keys(values) as K[]) {
      let list = samples.get(key);
      if (!list) samples.set(key, (list = []));
      list.push(values[key]);
    }
  }
  const alpha = 1 - confidence;
  const out = {} as Record<K, Interval>;
  for (const [key, list] of samples) {
    list.sort((a, b) => a - b);
    out[key] = { lower: quantileSorted(list, alpha / 2), upper: quantileSorted(list, 1 - alpha / 2), confidence };
  }
  return out;
}

/** Linear-interpolated quantile of a sorted list (numpy's default "linear" method). */
export function quantileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of an empty list');
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

export interface AttackMetrics {
  members: number;
  nonMembers: number;
  auc: number;
  tprAtFpr: Record<FprKey, number>;
  balancedAccuracy: number;
  aucInterval?: Interval;
  tprAtFprInterval?: Partial<Record<FprKey, Interval>>;
  /** The ROC thinned to at most `maxRocPoints` vertices for plotting. */
  roc: { fpr: number[]; tpr: number[] };
}

/** Every figure the membership result reports for one attack, with bootstrap intervals when `bootstrap` is given. */
export function attackMetrics(
  members: ArrayLike<number>,
  nonMembers: ArrayLike<number>,
  options: { bootstrap?: BootstrapOptions; maxRocPoints?: number } = {},
): AttackMetrics {
  const roc = rocCurve(members, nonMembers);
  const out: AttackMetrics = {
    members: members.length,
    nonMembers: nonMembers.length,
    auc: rocAuc(roc),
    tprAtFpr: tprAtReportedFprs(roc),
    balancedAccuracy: balancedAccuracy(roc),
    roc: thinRoc(roc, options.maxRocPoints ?? 200),
  };
  if (options.bootstrap) {
    const intervals = bootstrapIntervals(
      members,
      nonMembers,
      (m, n) => {
        const r = rocCurve(m, n);
        const t = tprAtReportedFprs(r);
        return { auc: rocAuc(r), '0.001': t['0.001'], '0.01': t['0.01'], '0.1': t['0.1'] };
      },
      options.bootstrap,
    );
    out.aucInterval = intervals.auc;
    out.tprAtFprInterval = { '0.001': intervals['0.001'], '0.01': intervals['0.01'], '0.1': intervals['0.1'] };
  }
  return out;
}

/**
 * Keeps at most `max` vertices, always the first, the last, and the low-FPR ones (the region the
 * gate reads, plotted on log axes), then every k-th of the rest.
 */
export function thinRoc(roc: RocCurve, max: number): { fpr: number[]; tpr: number[] } {
  const count = roc.fpr.length;
  if (count <= max) return { fpr: [...roc.fpr], tpr: [...roc.tpr] };
  const keep = new Set<number>([0, count - 1]);
  const lowFpr = Math.floor(max / 2);
  for (let i = 0; i < count && keep.size < lowFpr; i++) keep.add(i);
  const step = Math.ceil((count - keep.size) / (max - keep.size));
  for (let i = 0; i < count; i += step) keep.add(i);
  const idx = [...keep].sort((a, b) => a - b).slice(0, max - 1);
  if (idx[idx.length - 1] !== count - 1) idx.push(count - 1);
  return { fpr: idx.map((i) => roc.fpr[i]!), tpr: idx.map((i) => roc.tpr[i]!) };
}
