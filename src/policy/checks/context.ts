/** What every check needs besides its own evidence: the policy, the coverage, the PHI tests' level and the DP stand-in. */
import type { Policy } from '../types.js';
import type { Reason } from './reason.js';

/** What a verified, trusted DP guarantee proves by theorem (docs/SCIENCE.md, "Group privacy"). */
export interface DpStandIn {
  /** Whether the claim may stand in at all (policy allows it, ledger verified, provenance trusted). */
  usable: boolean;
  epsilon: number;
  delta: number;
  /** Why it may not stand in, or the claim it rests on. */
  basis: string;
  /** The membership bound e^eps fpr + delta, when usable. */
  membershipTprBound: number | null;
  /** The group-privacy bound on the fraction of canaries inserted r times over maxBits, when usable. */
  exposureFractionBound: (repetitions: number) => number | null;
}

export interface CheckContext {
  policy: Policy;
  /** The repetition counts a clean result must cover (ascending). */
  covered: readonly number[];
  /** Level of each PHI test: alpha split (Bonferroni) over every PHI test the evidence allows. */
  alphaPerTest: number;
  standIn: DpStandIn;
}

/** How one repetition count came out: clean (bounded under the material effect) and/or exposed (a significant finding). */
export interface CountStatus {
  repetitions: number;
  clean: boolean;
  exposed: boolean;
}

export interface CheckResult {
  reasons: Reason[];
  /** Exposure and extraction judge each repetition count on its own. */
  counts?: CountStatus[];
}

export function isCovered(context: CheckContext, repetitions: number): boolean {
  return context.covered.includes(repetitions);
}
