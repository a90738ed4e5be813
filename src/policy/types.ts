/** The release policy: which probes must run, thresholds, and the statistical power a clean result needs. */
import type { FprKey, ProbeName } from '../../probes/types.js';

export interface Policy {
  version: 1;
  name: string;
  description?: string;
  /** Family-wise false-alarm rate of PHI findings; also 1 - confidence of the bounds a clean result needs. */
  alpha: number;
  alphaWhy?: string;
  /** Clearing error: the chance of NOT_PHI for a model at the policy's material effect (confidence of clean bounds is 1 - beta). */
  beta: number;
  betaWhy?: string;
  requiredProbes: ProbeName[];
  requiredProbesWhy?: string;
  /** Repetition counts a clean result must cover: every inserted one, or a list. */
  coverage: { repetitions: 'inserted' | number[]; why?: string };
  power: {
    minCanariesPerRepetition: number;
    minReferenceCanaries: number;
    minSecretSpaceBits: number;
    why?: string;
  };
  exposure: {
    maxBits: number;
    /** Material effect: the largest fraction of a covered repetition count's canaries allowed over maxBits. */
    maxFraction: number;
    /** Candidates sampled per canary at first (estimated mode). */
    samples: number;
    /** Budget per canary for adaptive sampling of canaries whose interval straddles maxBits. */
    maxSamples: number;
    /** Confidence of each canary's exposure interval. */
    intervalConfidence: number;
    why?: string;
  };
  extraction: { maxExtracted: number; why?: string };
  membership: {
    fpr: FprKey;
    maxTpr: number;
    /** The attacks every clean result needs (each must pass; none may be dropped by an option). */
    attacks: string[];
    why?: string;
  };
  dp: {
    required: boolean;
    maxEpsilon: number;
    maxDelta: number;
    acceptSeededNoise: boolean;
    auditWhenClaimed: boolean;
    /** Whether a verified DP ledger bound to the weights by trusted provenance may pass a check by its theorem. */
    standIn: boolean;
    why?: string;
  };
}

/** A policy with where it came from and its digest (recorded in reports and attestations). */
export interface LoadedPolicy {
  policy: Policy;
  /** sha256 of the policy's canonical JSON. */
  digest: string;
  /** The file it was read from, or "default". */
  source: string;
}
