/**
 * LiRA, the likelihood-ratio attack of Carlini, Chien, Nasr, Song, Terzis, Tramer (S&P 2022,
 * arXiv 2112.03570), from a target's signal on each candidate and K shadow models' signals.
 *
 * Variants computed (../shared/reference/probes.md section 2.2), and which formula each uses:
 * - shadow assignment: each candidate is IN exactly K/2 shadows, a random half (as the paper's
 *   `train.py`), so every candidate has K/2 IN and K/2 OUT observations.
 * - mu: the MEAN of the IN (OUT) signals (the reference code uses the median; with K/2 <= 2
 *   observations they coincide, and the mean is the Gaussian maximum-likelihood fit).
 * - per-example sigma: sample standard deviation (n - 1) of the IN (OUT) signals; needs K >= 4.
 * - online: log N(phi; mu_in, sigma_in^2) - log N(phi; mu_out, sigma_out^2).
 * - offline: the paper's ONE-SIDED test Lambda = Pr[Z <= phi], Z ~ N(mu_out, sigma_out^2),
 *   reported as the z-score (phi - mu_out) / sigma_out, a strictly increasing function of Lambda
 *   (same ROC) that does not saturate at 1 for strong members. Not the two-sided log-density of
 *   the reference `plot.py`.
 * - fixed variance: one global sigma_in and one global sigma_out, each the pooled within-example
 *   standard deviation (per-example-centred signals, as tensorflow_privacy `advanced_mia.py`
 *   `fix_variance`), not `plot.py`'s uncentred std over all IN signals. Better with few shadows.
 */
import type { Rng } from '../../src/core/rng.js';

export type LiraVariant = 'lira-online' | 'lira-online-fixed-variance' | 'lira-offline' | 'lira-offline-fixed-variance';

/**
 * inMask[k][i] = candidate i is in shadow k's training set. Each candidate is IN exactly K/2
 * shadows, chosen uniformly at random; K must be even and >= 2.
 */
export function assignShadowMembership(candidates: number, shadows: number, rng: Rng): boolean[][] {
  if (!Number.isInteger(shadows) || shadows < 2 || shadows % 2 !== 0) throw new RangeError(`LiRA needs an even number of shadow models >= 2, got ${shadows}`);
  const mask = Array.from({ length: shadows }, () => new Array<boolean>(candidates).fill(false));
  for (let i = 0; i < candidates; i++) {
    for (const k of rng.sampleIndices(shadows, shadows / 2)) mask[k]![i] = true;
  }
  return mask;
}

/** Variants that are meaningful for K shadows (per-example variance needs >= 2 observations per side). */
export function liraVariantsFor(shadows: number): LiraVariant[] {
  return shadows >= 4
    ? ['lira-online', 'lira-online-fixed-variance', 'lira-offline', 'lira-offline-fixed-variance']
    : ['lira-online-fixed-variance', 'lira-offline-fixed-variance'];
}

interface Fit {
  mean: number;
  /** Sum of squared deviations from the mean. */
  ss: number;
  n: number;
}

function fit(values: readonly number[]): Fit {
  let s = 0;
  for (const v of values) s += v;
  const mean = s / values.length;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  return { mean, ss, n: values.length };
}

/** Pooled within-example standard deviation: sqrt(sum ss / sum (n - 1)). */
function pooledStd(fits: readonly Fit[]): number {
  let ss = 0;
  let dof = 0;
  for (const f of fits) {
    ss += f.ss;
    dof += f.n - 1;
  }
  return dof > 0 ? Math.sqrt(ss / dof) : NaN;
}

function logNormalPdf(x: number, mean: number, std: number): number {
  const z = (x - mean) / std;
  return -0.5 * z * z - Math.log(std) - 0.5 * Math.log(2 * Math.PI);
}

export interface LiraInput {
  /** The target model's signal on each candidate. */
  target: readonly number[];
  /** shadowSignals[k][i]: shadow k's signal on candidate i. */
  shadowSignals: readonly (readonly number[])[];
  inMask: readonly (readonly boolean[])[];
}

/** Scores of every LiRA variant valid for this number of shadows, one per candidate (higher = member). */
export function liraScores(input: LiraInput): Partial<Record<LiraVariant, number[]>> {
  const K = input.shadowSignals.length;
  const N = input.target.length;
  if (K !== input.inMask.length) throw new RangeError('LiRA: one membership mask per shadow model is needed');
  const ins: Fit[] = [];
  const outs: Fit[] = [];
  for (let i = 0; i < N; i++) {
    const inVals: number[] = [];
    const outVals: number[] = [];
    for (let k = 0; k < K; k++) (input.inMask[k]![i] ? inVals : outVals).push(input.shadowSignals[k]![i]!);
    if (inVals.length === 0 || outVals.length === 0) throw new RangeError(`LiRA: candidate ${i} has no ${inVals.length === 0 ? 'IN' : 'OUT'} shadow model`);
    ins.push(fit(inVals));
    outs.push(fit(outVals));
  }
  const globalIn = pooledStd(ins);
  const globalOut = pooledStd(outs);
  // Guards against a zero spread (identical shadows): a tiny floor relative to the data's scale.
  const scale = Math.max(1e-12, ...input.target.map(Math.abs)) * 1e-9;
  const floor = (s: number) => (Number.isFinite(s) && s > scale ? s : scale);
  const out: Partial<Record<LiraVariant, number[]>> = {};
  const fixedIn = floor(globalIn);
  const fixedOut = floor(globalOut);
  out['lira-online-fixed-variance'] = input.target.map((phi, i) => logNormalPdf(phi, ins[i]!.mean, fixedIn) - logNormalPdf(phi, outs[i]!.mean, fixedOut));
  out['lira-offline-fixed-variance'] = input.target.map((phi, i) => (phi - outs[i]!.mean) / fixedOut);
  if (K >= 4) {
    const sd = (f: Fit) => floor(f.n > 1 ? Math.sqrt(f.ss / (f.n - 1)) : NaN);
    out['lira-online'] = input.target.map((phi, i) => logNormalPdf(phi, ins[i]!.mean, sd(ins[i]!)) - logNormalPdf(phi, outs[i]!.mean, sd(outs[i]!)));
    out['lira-offline'] = input.target.map((phi, i) => (phi - outs[i]!.mean) / sd(outs[i]!));
  }
  return out;
}
