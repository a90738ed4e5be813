/**
 * Exposure of every canary in a manifest (Carlini, Liu, Erlingsson, Kos, Song, "The Secret
 * Sharer", USENIX Security 2019; docs/SCIENCE.md "Exposure intervals and adaptive sampling"):
 *
 *   exposure(s) = log2 |R| - log2 rank(s),   rank(s) = |{ r in R : Px(r) <= Px(s) }|
 *
 * where Px is the log-perplexity of a secret after the canary's prefix. Exact mode enumerates the
 * whole secret space R (shared prefixes, batched: probes/secret-scoring.ts); estimated mode scores
 * the reference canaries' secrets plus candidates sampled uniformly from R, fits a skew-normal to
 * their log-perplexities and takes the tail of the fit (section 4.3 of the paper), which reaches
 * beyond log2(samples). On a char LM with full distributions, estimated mode instead draws
 * candidates by importance sampling guided by the model itself (secret-scoring.ts), an unbiased
 * rank estimate that stays accurate deep in the tail where a memorizing model's candidate
 * distribution is multimodal and no skew-normal fits (see estimatedExposure). Either estimate is only
 * the point value: every sampled canary carries a confidence interval from uniform candidates, drawn
 * adaptively until it resolves against the policy's maxBits (probes/exposure-interval.ts,
 * docs/SCIENCE.md#exposure-intervals-and-adaptive-sampling). Inserted canaries are compared with the
 * references (never inserted, the baseline) by a one-sided rank test.
 */
import gammaln from '@stdlib/math-base-special-gammaln';
import { secretSpaceFromSpec } from '../src/canary/secret-space.js';
import type { ManifestCanary, SecretSpace } from '../src/canary/types.js';
import { CapabilityError, UsageError } from '../src/core/errors.js';
import { fmt } from '../src/core/format.js';
import { probeRunInfo } from './common.js';
import { mannWhitneyGreater } from './rank-test.js';
import type { ProbeContext, ProbeModule } from './registry.js';
import { exposureSpec } from './specs.js';
import { exposureResultSchema } from './schemas.js';
import { SecretScorer, type ImportanceSample, type ScoringMethod } from './secret-scoring.js';
import { fitSkewNormal, skewNormalLogCdf, type SkewNormal } from './skew-normal.js';
import { pointExposure, sampleUntilResolved, straddles } from './exposure-interval.js';
import type { Rng } from '../src/core/rng.js';
import defaultPolicy from '../src/policy/default-policy.json' with { type: 'json' };
import type { CanaryExposure, ExposureGroup, ExposureResult } from './types.js';

export type ExposureMode = 'auto' | 'exact' | 'estimated';
export type ExposureEstimator = 'auto' | 'importance' | 'skew-normal';

export interface ExposureOptions {
  mode: ExposureMode;
  /** Largest space enumerated exactly in auto mode (and allowed in exact mode). */
  maxExact: number;
  /** Candidates sampled per canary in estimated mode (the reference canaries' secrets are added). */
  samples: number;
  scoring: ScoringMethod | 'auto';
  /** Estimated mode: importance sampling (needs character distributions) or the skew-normal fit. */
  estimator: ExposureEstimator;
  /** The policy's exposure threshold: sampling continues while a canary's interval straddles it. */
  maxBits: number;
  /** Budget of uniform candidates per canary for adaptive sampling. */
  maxSamples: number;
  /** Confidence of each canary's exposure interval. */
  intervalConfidence: number;
}

/** Largest space auto mode enumerates when each candidate costs a separate scored text. */
export const PER_TEXT_EXACT_MAX = 10_000;

export const defaultExposureOptions: ExposureOptions = {
  mode: 'auto',
  maxExact: 1_000_000,
  samples: defaultPolicy.exposure.samples,
  scoring: 'auto',
  estimator: 'auto',
  maxBits: defaultPolicy.exposure.maxBits,
  maxSamples: defaultPolicy.exposure.maxSamples,
  intervalConfidence: defaultPolicy.exposure.intervalConfidence,
};

/** Per-canary result with the extras of estimated mode. */
export interface CanaryExposureDetail extends CanaryExposure {
  /** Estimated mode: how the rank was estimated. */
  estimator?: 'importance' | 'skew-normal';
  /** Estimated mode: uniform candidates scored at least as likely as the secret (of `samples`), from which the interval comes. */
  samplesAtLeastAsLikely?: number;
  /** Estimated mode: the estimator's own rank estimate (the point exposure is it, kept inside the interval). */
  estimatorRank?: number;
  /** Estimated mode: the sampling estimate log2 N - log2(1 + #{samples with Px <= Px(s)}), capped at log2 N. */
  interpolatedExposureBits?: number;
  /** Estimated mode: -log2 CDF of the whole-sample skew-normal fit (the paper's extrapolation, for comparison). */
  skewNormalExposureBits?: number;
  /** Estimated mode: the skew-normal fitted to the candidates' log-perplexities (nats). */
  fit?: SkewNormal;
}

export interface ExposureResultDetail extends ExposureResult {
  mode: 'exact' | 'estimated';
  scoring: ScoringMethod;
  /** Candidates scored per canary (the whole space, or the samples). */
  candidatesPerCanary: number;
  /** Contexts (prefix-shared) or texts (per-text) the target scored in total. */
  modelQueries: number;
  /** Estimated mode: the adaptive sampling plan (the policy's values in an audit). */
  sampling?: { samples: number; maxSamples: number; maxBits: number; intervalConfidence: number };
  /** Mean exposure of a secret whose rank is uniform over R (an unmemorized canary): about 1/ln 2 = 1.44 bits. */
  randomBaselineBits: number;
  canaries: CanaryExposureDetail[];
}

// ---- the math -----------------------------------------------------------------------------------

/** Exact rank: candidates at least as likely as the secret (ties count against it, as in the paper). */
export function exactRank(all: ArrayLike<number>, secretPx: number): number {
  let rank = 0;
  for (let i = 0; i < all.length; i++) if (all[i]! <= secretPx) rank++;
  return rank;
}

export function exposureFromRank(log2Size: number, rank: number): number {
  return log2Size - Math.log2(rank);
}

/**
 * E[log2|R| - log2 U] for U uniform on 1..|R|: log2|R| - log2(|R|!)/|R|, the exposure expected of a
 * canary the model has not memorized (tends to 1/ln 2 for large spaces).
 */
export function randomBaselineBits(log2Size: number): number {
  if (log2Size > 40) return 1 / Math.LN2;
  const size = 2 ** log2Size;
  return log2Size - gammaln(size + 1) / Math.LN2 / size;
}

/** Samples below the secret needed before the empirical fraction is trusted over the fitted tail. */
export const EMPIRICAL_MIN_BELOW = 10;

/**
 * Estimated exposure from sampled candidates' log-perplexities. The candidate CDF at the secret,
 * F = P(Px(r) <= Px(s)), is the empirical fraction when at least EMPIRICAL_MIN_BELOW samples lie
 * at or below the secret; further out, where samples run out (beyond log2 N bits), it is the
 * fitted skew-normal's tail anchored at the sample quantile where the data end:
 *
 *   F = (k0/N) * CDF_sn(Px(s)) / CDF_sn(x_(k0)),   x_(k0) the k0-th smallest sample,
 *
 * so the fit only supplies the shape of the tail (Carlini et al. 2019, 4.3, fit the whole sample;
 * a real model's candidate distribution is not exactly skew-normal and anchoring keeps the bulk
 * error out of the tail). The estimated rank counts the secret itself: rank = 1 + |R| F, so
 * exposure = log2|R| - log2 rank never exceeds log2|R|.
 */
export function estimatedExposure(samples: ArrayLike<number>, secretPx: number, fit: SkewNormal, log2Size: number): { exposureBits: number; log2Rank: number } {
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  let below = 0;
  while (below < n && sorted[below]! <= secretPx) below++;
  const k0 = Math.min(EMPIRICAL_MIN_BELOW, n);
  let log2F: number;
  if (below >= k0) {
    log2F = Math.log2(below / n);
  } else {
    const anchor = sorted[k0 - 1]!;
    log2F = Math.log2(k0 / n) + (skewNormalLogCdf(secretPx, fit) - skewNormalLogCdf(anchor, fit)) / Math.LN2;
  }
  // log2(1 + |R| F) without overflow for spaces beyond 2^1023.
  const t = log2Size + log2F;
  const log2Rank = t > 50 ? t : Math.log2(1 + 2 ** t);
  return { exposureBits: Math.max(0, log2Size - log2Rank), log2Rank };
}

/**
 * Importance-sampled exposure: rank - 1 = |R| P_u(Px(r) <= Px(s), r != s), estimated as
 * |R| (1/M) sum_i (u/q)(r_i) 1{Px(r_i) <= Px(s), r_i != s} over M draws from the model-guided
 * proposal q (SecretScorer.sampleSpace). Unbiased for the rank, and it resolves ranks far below
 * |R|/M because the proposal samples the likely candidates.
 */
export function importanceExposure(sample: ImportanceSample, secret: string, secretPx: number, log2Size: number): { exposureBits: number; log2Rank: number } {
  let sum = 0;
  for (let i = 0; i < sample.px.length; i++) {
    if (sample.texts[i] !== secret && sample.px[i]! <= secretPx) sum += Math.exp(sample.logWeight[i]!);
  }
  const t = sum > 0 ? log2Size + Math.log2(sum / sample.px.length) : -Infinity;
  const log2Rank = t > 50 ? t : Math.log2(1 + 2 ** t);
  return { exposureBits: Math.max(0, log2Size - log2Rank), log2Rank };
}

/** Carlini et al.'s extrapolation as published: -log2 CDF_sn(Px(s)), capped at log2|R|. */
export function skewNormalExposure(fit: SkewNormal, secretPx: number, log2Size: number): number {
  return Math.min(log2Size, Math.max(0, -skewNormalLogCdf(secretPx, fit) / Math.LN2));
}

/** TF Privacy's sampling estimate: log2 N - log2(1 + #{samples with Px <= Px(s)}). */
export function interpolatedExposure(samples: ArrayLike<number>, secretPx: number): number {
  let below = 0;
  for (let i = 0; i < samples.length; i++) if (samples[i]! <= secretPx) below++;
  return Math.log2(samples.length) - Math.log2(1 + below);
}

export function groupByRepetitions(canaries: readonly CanaryExposure[]): ExposureGroup[] {
  const groups = new Map<number, number[]>();
  for (const c of canaries) {
    if (c.role !== 'inserted') continue;
    const list = groups.get(c.repetitions) ?? [];
    list.push(c.exposureBits);
    groups.set(c.repetitions, list);
  }
  return [...groups.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([repetitions, bits]) => ({ repetitions, count: bits.length, ...meanMax(bits) }));
}

function meanMax(bits: number[]): { meanExposureBits: number; maxExposureBits: number } {
  if (bits.length === 0) return { meanExposureBits: 0, maxExposureBits: 0 };
  return { meanExposureBits: bits.reduce((s, b) => s + b, 0) / bits.length, maxExposureBits: Math.max(...bits) };
}

// ---- the probe ----------------------------------------------------------------------------------

type EstimatedFields = Omit<CanaryExposureDetail, 'id' | 'role' | 'repetitions'>;

interface EstimateInputs {
  estimator: 'importance' | 'skew-normal';
  options: ExposureOptions;
  referenceSecrets: readonly string[];
  rng: Rng;
}

/**
 * One canary in estimated mode: uniform candidates, drawn adaptively until the interval resolves
 * against maxBits, give the interval (probes/exposure-interval.ts, docs/SCIENCE.md#exposure-intervals-and-adaptive-sampling);
 * the estimator (importance sampling or the skew-normal tail) gives the point inside it.
 */
async function estimateCanary(scorer: SecretScorer, canary: ManifestCanary, space: SecretSpace, o: EstimateInputs): Promise<EstimatedFields> {
  const { options } = o;
  const [secretPx] = await scorer.scoreCandidates(canary.prefix, [canary.secret]);
  const uniformPx: number[] = [];
  const draw = async (count: number): Promise<number> => {
    const candidates = Array.from({ length: count }, () => space.sample(o.rng));
    // The secret drawn counts itself (rank includes it) whatever rounding its re-scoring sees.
    const others = candidates.filter((c) => c !== canary.secret);
    const selfDraws = count - others.length;
    // Importance sampling needs only the count, which prunes unlikely candidates early; the skew-normal fit needs every Px.
    if (o.estimator === 'importance') return selfDraws + (await scorer.countAtMost(canary.prefix, others, secretPx!));
    const px = await scorer.scoreCandidates(canary.prefix, others);
    uniformPx.push(...px);
    return selfDraws + px.filter((v) => v <= secretPx!).length;
  };
  const plan = { samples: options.samples, maxSamples: options.maxSamples, maxBits: options.maxBits, confidence: options.intervalConfidence, log2Size: space.log2Size };
  const { count, interval } = await sampleUntilResolved(draw, plan);
  const point = (estimate: { exposureBits: number; log2Rank: number }) => {
    const exposureBits = pointExposure(estimate.exposureBits, count, interval, space.log2Size);
    return { exposureBits, rank: 2 ** (space.log2Size - exposureBits), estimatorRank: 2 ** estimate.log2Rank };
  };
  const common = { method: 'estimated' as const, logPerplexity: secretPx!, exposureInterval: interval, samples: count.samples, samplesAtLeastAsLikely: count.atLeastAsLikely };
  if (o.estimator === 'importance') {
    const sample = await scorer.sampleSpace(canary.prefix, space, options.samples, o.rng.fork('importance'));
    return { ...common, ...point(importanceExposure(sample, canary.secret, secretPx!, space.log2Size)), estimator: 'importance' };
  }
  const others = o.referenceSecrets.filter((s) => s !== canary.secret);
  const referencePx = others.length > 0 ? await scorer.scoreCandidates(canary.prefix, others) : new Float64Array(0);
  const samplePx = Float64Array.from([...uniformPx, ...referencePx]);
  // The fit only shapes the tail beyond the samples; the first round's candidates fix it, so adaptive rounds cost no refits on 10^4 values.
  const fit = fitSkewNormal(Float64Array.from([...uniformPx.slice(0, options.samples), ...referencePx]));
  return {
    ...common,
    ...point(estimatedExposure(samplePx, secretPx!, fit, space.log2Size)),
    estimator: 'skew-normal',
    interpolatedExposureBits: interpolatedExposure(samplePx, secretPx!),
    skewNormalExposureBits: skewNormalExposure(fit, secretPx!, space.log2Size),
    fit,
  };
}

function readOptions(raw: Record<string, unknown>): ExposureOptions {
  const num = (name: 'maxBits' | 'maxSamples' | 'intervalConfidence'): number => (raw[name] as number | undefined) ?? defaultExposureOptions[name];
  return {
    maxBits: num('maxBits'),
    maxSamples: num('maxSamples'),
    intervalConfidence: num('intervalConfidence'),
    mode: (raw.mode as ExposureMode | undefined) ?? defaultExposureOptions.mode,
    maxExact: (raw.maxExact as number | undefined) ?? defaultExposureOptions.maxExact,
    samples: (raw.samples as number | undefined) ?? defaultExposureOptions.samples,
    scoring: (raw.scoring as ScoringMethod | 'auto' | undefined) ?? defaultExposureOptions.scoring,
    estimator: (raw.estimator as ExposureEstimator | undefined) ?? defaultExposureOptions.estimator,
  };
}

function textCanaries(ctx: ProbeContext): { canaries: ManifestCanary[]; space: SecretSpace } {
  if (ctx.manifest.kind !== 'text') throw new UsageError('probe exposure: the manifest holds tabular canaries; exposure needs text canaries and a language model');
  if (ctx.targetDescriptor.task !== 'lm') throw new UsageError(`probe exposure: ${ctx.targetDescriptor.target} is a classifier; exposure needs a language model`);
  const space = secretSpaceFromSpec(ctx.manifest.secretSpace, 'manifest /secretSpace');
  return { canaries: ctx.manifest.canaries, space };
}

export async function runExposure(ctx: ProbeContext): Promise<ExposureResultDetail> {
  const startedAt = new Date();
  const options = readOptions(ctx.options);
  const { canaries, space } = textCanaries(ctx);
  const exactPossible = space.size <= BigInt(options.maxExact);
  if (options.mode === 'exact' && !exactPossible) {
    throw new UsageError(`probe exposure: the secret space has ${space.size} candidates, more than --max-exact ${options.maxExact}; use --mode estimated or raise --max-exact`);
  }
  const progress: { canaries: number; queries: number; exact?: { total: number; canaries: number } } = { canaries: 0, queries: 0 };
  const report = (queries: number) => {
    progress.queries = queries;
    if (progress.exact) ctx.progress.step('exposure model queries', queries, Math.max(queries, progress.exact.total), `${progress.canaries}/${progress.exact.canaries} canaries`);
    else ctx.progress.step('exposure canaries', progress.canaries, canaries.length, `${queries} model queries`);
  };
  const scorer = await SecretScorer.create(ctx.target, ctx.targetDescriptor, {
    method: options.scoring,
    onProgress: report,
  });
  const sampleable = scorer.canWalk(space);
  // Without prefix sharing every candidate is one scored text (one API request): auto mode then
  // enumerates only spaces up to PER_TEXT_EXACT_MAX and estimates beyond.
  const autoExact = exactPossible && (sampleable || space.size <= BigInt(PER_TEXT_EXACT_MAX));
  const mode: 'exact' | 'estimated' = options.mode === 'exact' || (options.mode === 'auto' && autoExact) ? 'exact' : 'estimated';
  const referenceSecrets = canaries.filter((c) => c.role === 'reference').map((c) => c.secret);
  if (mode === 'estimated' && options.estimator === 'importance' && !sampleable) {
    throw new CapabilityError('nextTokenDistribution', `probe exposure: --estimator importance needs complete next-character distributions from ${ctx.targetDescriptor.target}; use --estimator skew-normal`);
  }
  const estimator: 'importance' | 'skew-normal' = options.estimator === 'skew-normal' || !sampleable ? 'skew-normal' : 'importance';
  const results: CanaryExposureDetail[] = [];
  let candidatesPerCanary = mode === 'exact' ? Number(space.size) : 0;

  for (const canary of canaries) {
    if (space.indexOf(canary.secret) === null) {
      throw new UsageError(`manifest: canary ${canary.id}: its secret is not in the manifest's secret space`);
    }
  }
  const base = (c: ManifestCanary) => ({ id: c.id, role: c.role, repetitions: c.repetitions });

  if (mode === 'exact') {
    // One enumeration per distinct prefix (a pack with a fixed template shares it across canaries).
    const byPrefix = new Map<string, number[]>();
    canaries.forEach((c, i) => byPrefix.set(c.prefix, [...(byPrefix.get(c.prefix) ?? []), i]));
    const exact: CanaryExposureDetail[] = new Array(canaries.length);
    let done = 0;
    // Progress in model queries: one enumeration may cover every canary (a shared prefix).
    const perPrefix = scorer.queriesToEnumerate(space);
    const queriesTotal = perPrefix * byPrefix.size;
    progress.exact = { total: queriesTotal, canaries: canaries.length };
    for (const [prefix, members] of byPrefix) {
      ctx.progress.step('exposure model queries', progress.queries, queriesTotal, `${done}/${canaries.length} canaries, ${space.size} candidates each`);
      const { all, secrets } = await scorer.scoreSpace(prefix, space, members.map((i) => canaries[i]!.secret));
      members.forEach((i, j) => {
        const px = secrets[j]!;
        const rank = exactRank(all, px);
        const bits = exposureFromRank(space.log2Size, rank);
        exact[i] = { ...base(canaries[i]!), exposureBits: bits, method: 'exact', rank, logPerplexity: px, exposureInterval: { lower: bits, upper: bits, confidence: 1 } };
      });
      done += members.length;
      progress.canaries = done;
    }
    results.push(...exact);
    progress.exact = undefined;
  }

  for (const [i, canary] of mode === 'estimated' ? canaries.entries() : []) {
    progress.canaries = i;
    ctx.progress.step('exposure canaries', i, canaries.length, `${progress.queries} model queries`);
    const estimated = await estimateCanary(scorer, canary, space, { estimator, options, referenceSecrets, rng: ctx.rng.fork(`canary/${canary.id}`) });
    candidatesPerCanary = Math.max(candidatesPerCanary, estimated.samples ?? 0);
    results.push({ ...base(canary), ...estimated });
  }
  ctx.progress.done();

  const inserted = results.filter((r) => r.role === 'inserted').map((r) => r.exposureBits);
  const reference = results.filter((r) => r.role === 'reference').map((r) => r.exposureBits);
  const result: ExposureResultDetail = {
    ...probeRunInfo(ctx, 'exposure', startedAt),
    spaceSizeLog2: space.log2Size,
    mode,
    scoring: scorer.method,
    candidatesPerCanary,
    modelQueries: scorer.scored,
    randomBaselineBits: randomBaselineBits(space.log2Size),
    ...(mode === 'estimated'
      ? { sampling: { samples: options.samples, maxSamples: options.maxSamples, maxBits: options.maxBits, intervalConfidence: options.intervalConfidence } }
      : {}),
    canaries: results,
    byRepetitions: groupByRepetitions(results),
    reference: { count: reference.length, ...meanMax(reference) },
  };
  if (inserted.length > 0 && reference.length > 0) {
    const test = mannWhitneyGreater(inserted, reference);
    result.insertedVsReference = { test: `${test.test}, one-sided (inserted > reference)`, statistic: test.statistic, pValue: test.pValue };
  }
  result.finishedAt = new Date().toISOString();
  return result;
}

export const exposureProbe: ProbeModule<ExposureResultDetail> = {
  ...exposureSpec,
  needs: (c) =>
    c.scoreText || c.nextTokenDistribution ? null : 'the target can neither score text nor return next-token distributions, and exposure needs log-probabilities of candidate secrets',
  resultSchema: exposureResultSchema,
  run: runExposure,
  summary: (r) => {
    const how = r.mode === 'exact' ? `exact, ${r.scoring}` : `estimated, ${r.canaries.find((c) => c.estimator)?.estimator ?? 'skew-normal'}`;
    const rows: (string | number | null)[][] = [[`canaries (${how})`, 'repetitions', 'count', 'mean bits', 'max bits']];
    for (const g of r.byRepetitions) rows.push(['inserted', g.repetitions, g.count, fmt(g.meanExposureBits, 3), fmt(g.maxExposureBits, 3)]);
    rows.push(['reference (never inserted)', 0, r.reference.count, fmt(r.reference.meanExposureBits, 3), fmt(r.reference.maxExposureBits, 3)]);
    rows.push(['expected if not memorized', '', '', fmt(r.randomBaselineBits, 3), '']);
    rows.push(['largest possible (rank 1)', '', '', '', fmt(r.spaceSizeLog2, 3)]);
    if (r.insertedVsReference) rows.push([`inserted > reference: p = ${fmt(r.insertedVsReference.pValue, 3)}`, '', '', '', '']);
    if (r.sampling) {
      const open = r.canaries.filter((c) => c.exposureInterval && straddles(c.exposureInterval, r.sampling!.maxBits)).length;
      const sizes = r.canaries.map((c) => c.samples ?? 0);
      rows.push([`sampled ${Math.min(...sizes)}-${Math.max(...sizes)} candidates; ${open} intervals straddle ${r.sampling.maxBits} bits`, '', '', '', '']);
    }
    return rows;
  },
};
