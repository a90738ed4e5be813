/**
 * The white-box one-run self-audit inside DP-SGD (docs/SCIENCE.md, "White-box self-audit";
 * Steinke, Nasr, Jagielski 2023, arXiv 2305.08846; Dirac gradient canaries as in Nasr et al. 2023,
 * "Tight auditing of differentially private machine learning").
 *
 * M audit canaries, each in the training set by a secret bit (probability 1/2). Each included
 * canary is Poisson-sampled at every step with the records' rate q (the records' sampler), and a
 * sampled canary's gradient is a Dirac of norm `gradientNorm` (far above C) at its own coordinate
 * of a phantom parameter block that no layer reads. That gradient goes through the records' clip
 * factors (clip.ts) and the block gets the records' noise N(0, sigma^2 C^2) from the same source,
 * in the same step (loop.ts), so a broken clipper, noise source or sampling rate shows; the model's
 * predictions never see the block. The score of canary i is a function of the released noisy
 * updates and public constants only (never of the sampling mask, which the claim's amplification
 * by subsampling keeps secret): the log-likelihood ratio of "included" over "excluded" given its
 * coordinate x_t at every step, under the claimed mechanism,
 *   score_i = sum_t log(1 - q + q exp((x_t mu - mu^2 / 2) / s^2)),
 * with mu = C / qN the clipped canary's contribution and s = sigma C / qN the noise. It is the most
 * powerful statistic against a correct run (Neyman-Pearson), and it weighs each step's evidence
 * separately where a plain sum of x_t drowns the few sampled steps in every step's noise.
 */
import type { Rng } from '../core/rng.js';
import { oneRunAudit } from '../accounting/one-run-audit.js';
import type { SelfAuditRecord } from '../accounting/privacyFile.js';
import { clipFactors } from './clip.js';
import { poissonSample } from './sampler.js';

/** A canary gradient's norm in units of C: a correct clipper scales it down to exactly C; a missing one lets 100 C through. */
export const canaryNormOverClip = 100;

export interface AuditCanariesInit {
  count: number;
  /** The records' Poisson sampling rate q. */
  samplingRate: number;
  /** The claimed noise multiplier sigma (the score's likelihood model). */
  noiseMultiplier: number;
  /** Draws the secret inclusion bits. */
  bits: Rng;
  /** Samples the included canaries at each step. */
  sampling: Rng;
}

/** log(e^a + e^b) without overflow. */
function logAddExp(a: number, b: number): number {
  const hi = Math.max(a, b);
  return hi + Math.log1p(Math.exp(Math.min(a, b) - hi));
}

export class AuditCanaries {
  readonly count: number;
  private readonly samplingRate: number;
  private readonly noiseMultiplier: number;
  private readonly included: boolean[];
  /** Indices of the included canaries (the only ones ever sampled). */
  private readonly members: number[];
  private readonly sampling: Rng;
  /** Each canary's log-likelihood ratio so far (see the file comment). */
  private readonly scores: Float64Array;

  constructor(init: AuditCanariesInit) {
    this.count = init.count;
    this.samplingRate = init.samplingRate;
    this.noiseMultiplier = init.noiseMultiplier;
    this.included = Array.from({ length: init.count }, () => init.bits.bernoulli(0.5));
    this.members = this.included.flatMap((inside, i) => (inside ? [i] : []));
    this.sampling = init.sampling;
    this.scores = new Float64Array(init.count);
  }

  /**
   * This step's clipped sum over the sampled canaries in the phantom block, times `scale` (the
   * loop's 1/qN): c_i * (canaryNormOverClip C) at canary i's coordinate, c_i from the records' clip factors.
   */
  clippedSum(clipNorm: number, scale: number): Float32Array {
    const sampled = poissonSample(this.members.length, this.samplingRate, this.sampling).map((k) => this.members[k]!);
    const norm = canaryNormOverClip * clipNorm;
    const factors = clipFactors(new Float32Array(sampled.length).fill(norm), clipNorm, scale);
    const block = new Float32Array(this.count);
    sampled.forEach((i, k) => (block[i]! += factors[k]! * norm));
    return block;
  }

  /**
   * Adds one step's evidence from its noisy phantom block (clipped sum + noise), where a sampled
   * canary contributes `contribution` = C / qN and the noise has standard deviation sigma C / qN.
   */
  observe(noisyBlock: Float32Array, contribution: number): void {
    const logStay = Math.log1p(-this.samplingRate);
    const logJoin = Math.log(this.samplingRate);
    const variance = this.noiseMultiplier ** 2;
    for (let i = 0; i < this.count; i++) {
      const z = noisyBlock[i]! / contribution; // in units of mu: the noise has standard deviation sigma
      this.scores[i]! += logAddExp(logStay, logJoin + (z - 0.5) / variance);
    }
  }

  /** The one-run bound from the scores, against the run's claimed epsilon (no scores or bits leave). */
  audit(claimedEpsilon: number, delta: number, confidence: number): SelfAuditRecord {
    const r = oneRunAudit({ scores: this.scores, included: this.included }, { confidence, delta });
    return {
      method: 'one-run-whitebox',
      canaries: this.count,
      guesses: r.guesses,
      correct: r.correct,
      epsilonLowerBound: r.epsilonLowerBound,
      confidence,
      ceiling: r.ceiling,
      claimedEpsilon,
      refuted: r.epsilonLowerBound > claimedEpsilon,
    };
  }
}
