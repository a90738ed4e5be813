/**
 * The one-run privacy audit (Steinke, Nasr, Jagielski 2023, "Privacy auditing with one (1)
 * training run", arXiv 2305.08846): an empirical epsilon lower bound from m canaries, each
 * included independently with probability 1/2, and a score per canary computed from the
 * mechanism's output only (docs/SCIENCE.md, "White-box self-audit").
 *
 * The auditor guesses "in" for the kIn highest scores and "out" for the kOut lowest, abstaining on
 * the rest: r = kIn + kOut guesses, v of them correct. Under (eps, delta)-DP (Theorem 3.1, in the
 * form of the authors' published p-value), with q = e^eps / (1 + e^eps),
 *   P[V >= v] <= P[Binom(r, q) >= v] + 2 m delta max_{i=1..v} (1/i) P[v - i <= Binom(r, q) < v].
 * (kIn, kOut) range over a small grid fixed before the scores are seen, with a weighted Bonferroni
 * correction (test j at significance (1 - confidence) w_j / sum w; the levels add up to
 * 1 - confidence, which is all the union bound needs); the bound is the largest eps any test rejects.
 *
 * Why the grid is small and weighted: the delta term does not shrink with more evidence. For
 * perfect guesses its inner max is about 1 / lambda (lambda = r (1 - q), the expected wrong guesses
 * under the null), so a test at significance s can only reject where 2 m delta / lambda < s, i.e.
 * e^eps < r s / (2 m delta) roughly, whatever the scores: splitting s divides the reachable e^eps.
 * A geometric grid of a dozen guess counts (the probe's older design) put the bound at 0 at 99.9%
 * with delta = 1e-5 and m >= 500, and even three equal tests keep m = 1000 below eps 3. The
 * default gives 80% of the level to the largest test (perfect separation: ceiling 3.92 at m = 1000,
 * 99.9%, delta 1e-5, against 4.17 for that test alone) and 10% each to two smaller ones (power for
 * noisier scores, whose extremes are the reliable part).
 *
 * Canaries inserted g > 1 times are a group: group privacy turns a record-level (eps, delta)
 * claim into (g eps, g e^{(g-1) eps} delta), so the record-level bound is the largest eps whose
 * group claim is rejected.
 *
 * The ceiling is the bound perfect guesses would give (all r right, for the best grid point): no
 * bound from m canaries at this confidence and delta can exceed it, so a bound below a claim is
 * evidence of privacy only as far as the ceiling is above the claim.
 */
import binomcoefln from '@stdlib/math-base-special-binomcoefln';

/** One test of the grid: guess "in" for the kIn highest scores and "out" for the kOut lowest. */
export interface GuessCounts {
  kIn: number;
  kOut: number;
  /** Share of the significance level given to this test (relative to the grid's sum; default 1). */
  weight?: number;
}

export type OneRunScores = { scoresIncluded: ArrayLike<number>; scoresExcluded: ArrayLike<number> } | { scores: ArrayLike<number>; included: ArrayLike<boolean> };

export interface OneRunOptions {
  /** 1 - alpha: the bound holds with at least this probability. */
  confidence: number;
  delta: number;
  /** Data-independent tests (default: defaultGuessGrid(m)). */
  grid?: GuessCounts[];
  /** Copies of each included canary (group privacy); default 1. */
  groupSize?: number;
}

export interface OneRunResult {
  epsilonLowerBound: number;
  ceiling: number;
  /** Guesses r = kIn + kOut and correct guesses v of the test that gave the bound (of the largest test when none rejects). */
  guesses: number;
  correct: number;
  kIn: number;
  kOut: number;
  canaries: number;
  confidence: number;
  delta: number;
  /** Tests corrected for (weighted Bonferroni). */
  hypotheses: number;
}

/**
 * sup{ eps >= 0 : rejects(eps) } for a predicate that holds on an initial interval [0, eps*)
 * (rejection gets harder as eps grows). Bisection to 1e-9 relative.
 */
export function supRejected(rejects: (eps: number) => boolean, cap = 1000): number {
  if (!rejects(0)) return 0;
  let lo = 0;
  let hi = 1;
  while (rejects(hi)) {
    lo = hi;
    hi *= 2;
    if (hi > cap) return cap;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-9 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (rejects(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** The group claim (g eps, g e^{(g-1) eps} delta) implied by a record-level (eps, delta) claim. */
export function groupClaim(eps: number, delta: number, groupSize: number): { eps: number; delta: number } {
  if (groupSize === 1) return { eps, delta };
  return { eps: groupSize * eps, delta: Math.min(1, groupSize * Math.exp((groupSize - 1) * eps) * delta) };
}

/** log P[Binom(r, q) = k]. */
function logBinomPmf(k: number, r: number, q: number): number {
  if (q <= 0) return k === 0 ? 0 : -Infinity;
  if (q >= 1) return k === r ? 0 : -Infinity;
  return binomcoefln(r, k) + k * Math.log(q) + (r - k) * Math.log1p(-q);
}

/** P[Binom(r, q) >= k] for every k in 0..r+1 (index k), summed from the tail in log space. */
function binomUpperTails(r: number, q: number): Float64Array {
  const tails = new Float64Array(r + 2);
  let logTail = -Infinity;
  for (let k = r; k >= 0; k--) {
    const lp = logBinomPmf(k, r, q);
    const hi = Math.max(logTail, lp);
    logTail = hi === -Infinity ? -Infinity : hi + Math.log(Math.exp(logTail - hi) + Math.exp(lp - hi));
    tails[k] = Math.min(1, Math.exp(logTail));
  }
  tails[r + 1] = 0;
  return tails;
}

/** The p-value of v correct guesses out of r among m canaries under an (eps, delta)-DP null (Theorem 3.1). */
export function oneRunPValue(m: number, r: number, v: number, eps: number, delta: number): number {
  if (!(0 <= v && v <= r && r <= m)) throw new RangeError(`one-run audit needs 0 <= v <= r <= m (got v=${v}, r=${r}, m=${m})`);
  const q = 1 / (1 + Math.exp(-eps));
  const tails = binomUpperTails(r, q);
  const beta = tails[v]!;
  if (delta === 0 || v === 0) return beta;
  let alpha = 0;
  for (let i = 1; i <= v; i++) alpha = Math.max(alpha, (tails[v - i]! - beta) / i);
  return Math.min(1, beta + 2 * m * delta * alpha);
}

/** Largest eps rejected by v of r correct guesses among m canaries at significance s. */
export function oneRunEpsilon(m: number, r: number, v: number, s: number, delta: number, groupSize = 1): number {
  // Fail fast: if even delta = 0 does not reject eps = 0 (v no better than a coin), nothing is rejected.
  if (r === 0 || oneRunPValue(m, r, v, 0, 0) >= s) return 0;
  return supRejected((eps) => {
    const g = groupClaim(eps, delta, groupSize);
    return oneRunPValue(m, r, v, g.eps, g.delta) < s;
  });
}

/**
 * The default tests: guess on both sides, kIn = kOut = 45% (weight 0.8), 20% and 5% (0.1 each) of
 * m. The largest leaves a margin of about 3 standard deviations of the included count
 * (m/2 +- sqrt(m)/2) for m >= 400, so perfect separation makes every guess right.
 */
export function defaultGuessGrid(m: number): GuessCounts[] {
  const grid: GuessCounts[] = [];
  for (const [f, weight] of [[0.45, 0.8], [0.2, 0.1], [0.05, 0.1]] as const) {
    const k = Math.floor(f * m);
    if (k >= 1 && !grid.some((g) => g.kIn === k)) grid.push({ kIn: k, kOut: k, weight });
  }
  if (grid.length === 0) grid.push({ kIn: Math.ceil(m / 2), kOut: Math.floor(m / 2) });
  return grid;
}

/** Each test's significance: its weighted share of 1 - confidence. */
function testLevels(grid: GuessCounts[], confidence: number): number[] {
  const total = grid.reduce((a, g) => a + (g.weight ?? 1), 0);
  return grid.map((g) => ((1 - confidence) * (g.weight ?? 1)) / total);
}

/** Canaries sorted by score, highest first; ties put excluded canaries first (see correctGuesses). */
export function rankCanaries(input: OneRunScores): { score: number; included: boolean }[] {
  const all: { score: number; included: boolean }[] = [];
  if ('scores' in input) {
    if (input.scores.length !== input.included.length) throw new RangeError(`one-run audit: ${input.scores.length} scores but ${input.included.length} inclusion bits`);
    for (let i = 0; i < input.scores.length; i++) all.push({ score: input.scores[i]!, included: input.included[i]! });
  } else {
    for (let i = 0; i < input.scoresIncluded.length; i++) all.push({ score: input.scoresIncluded[i]!, included: true });
    for (let i = 0; i < input.scoresExcluded.length; i++) all.push({ score: input.scoresExcluded[i]!, included: false });
  }
  for (const c of all) if (Number.isNaN(c.score)) throw new RangeError('one-run audit: a canary score is NaN');
  return all.sort((a, b) => b.score - a.score || Number(a.included) - Number(b.included));
}

/**
 * Correct guesses of "in" for the first kIn and "out" for the last kOut of `ranked`. Tied scores
 * are ordered against the auditor (excluded first, so they land in the "in" guesses; included
 * last, so they land in the "out" guesses): that count is at most the count under any tie-break
 * that ignores the bits, so the p-value stays valid.
 */
export function correctGuesses(ranked: readonly { included: boolean }[], kIn: number, kOut: number): number {
  if (kIn + kOut > ranked.length) throw new RangeError(`one-run audit: ${kIn} + ${kOut} guesses exceed ${ranked.length} canaries`);
  let v = 0;
  for (let i = 0; i < kIn; i++) if (ranked[i]!.included) v++;
  for (let i = ranked.length - kOut; i < ranked.length; i++) if (!ranked[i]!.included) v++;
  return v;
}

/** The bound that perfect guesses would give: the most m canaries can show at this confidence and delta. */
export function oneRunCeiling(m: number, confidence: number, delta: number, grid: GuessCounts[] = defaultGuessGrid(m), groupSize = 1): number {
  const levels = testLevels(grid, confidence);
  return Math.max(0, ...grid.map(({ kIn, kOut }, j) => oneRunEpsilon(m, kIn + kOut, kIn + kOut, levels[j]!, delta, groupSize)));
}

/** The one-run epsilon lower bound from the canaries' scores and inclusion bits. */
export function oneRunAudit(input: OneRunScores, options: OneRunOptions): OneRunResult {
  const { confidence, delta } = options;
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  if (!(delta >= 0 && delta < 1)) throw new RangeError(`delta must be in [0, 1), got ${delta}`);
  const groupSize = options.groupSize ?? 1;
  const ranked = rankCanaries(input);
  const m = ranked.length;
  if (m === 0) throw new RangeError('the one-run audit needs canaries');
  const grid = options.grid ?? defaultGuessGrid(m);
  if (grid.length === 0) throw new RangeError('the one-run audit needs at least one (kIn, kOut) test');
  if (grid.some((g) => !((g.weight ?? 1) > 0))) throw new RangeError('the one-run audit: every test needs a positive weight');
  const levels = testLevels(grid, confidence);
  const largest = grid.reduce((a, b) => (b.kIn + b.kOut > a.kIn + a.kOut ? b : a));
  let best = { eps: 0, ...largest, v: correctGuesses(ranked, largest.kIn, largest.kOut) };
  for (const [j, { kIn, kOut }] of grid.entries()) {
    const v = correctGuesses(ranked, kIn, kOut);
    const eps = oneRunEpsilon(m, kIn + kOut, v, levels[j]!, delta, groupSize);
    if (eps > best.eps) best = { eps, kIn, kOut, v };
  }
  return {
    epsilonLowerBound: best.eps,
    ceiling: oneRunCeiling(m, confidence, delta, grid, groupSize),
    guesses: best.kIn + best.kOut,
    correct: best.v,
    kIn: best.kIn,
    kOut: best.kOut,
    canaries: m,
    confidence,
    delta,
    hypotheses: grid.length,
  };
}
