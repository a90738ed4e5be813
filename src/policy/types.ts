/** The release policy: which probes must run, thresholds, and the statistical power a clean result needs. */
import type { FprKey, ProbeName } from '../../probes/types.js';

export interface Policy {
  version: 1;
  name: string;
  description?: string;
  /** Family-wise false-alarm rate of PHI findings; also 1 - confidence of the bounds a clean result needs. */
  alpha: number;
  alphaWhy?: string;
  requiredProbes: ProbeName[];
  requiredProbesWhy?: string;
  power: {
    minCanariesPerRepetition: number;
    minReferenceCanaries: number;
    minSecretSpaceBits: number;
    why?: string;
  };
  exposure: { maxBits: number; why?: string };
  extraction: { maxExtracted: number; why?: string };
  membership: { fpr: FprKey; maxTpr: number; why?: string };
  dp: {
    required: boolean;
    maxEpsilon: number;
    maxDelta: number;
    acceptSeededNoise: boolean;
    auditWhenClaimed: boolean;
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
