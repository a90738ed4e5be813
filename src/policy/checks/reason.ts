/** The one shape every verdict check takes, and the number formatting its messages share. */
import type { ProbeName } from '../../../probes/types.js';

export type Outcome = 'PHI' | 'INCONCLUSIVE' | 'PASS' | 'INFO';
export type VerdictName = 'PHI' | 'NOT_PHI' | 'INCONCLUSIVE';

export interface Reason {
  /**
   * A probe name, or "canaries" (manifest checks), "manifest" (whether the manifest belongs to the
   * model), "dp-ledger" (the DP claim), or "policy" (rules over the whole evidence, the coverage).
   */
  probe: ProbeName | 'canaries' | 'manifest' | 'dp-ledger' | 'policy';
  metric: string;
  value: number | null;
  threshold: number | null;
  /** How value is compared with threshold for the check to pass, e.g. "<=". */
  comparator: '<=' | '>=' | '<' | '>' | null;
  outcome: Outcome;
  message: string;
}

/** A Reason; value/threshold/comparator default to null so informational notes stay short. */
export function reason(fields: Pick<Reason, 'probe' | 'metric' | 'outcome' | 'message'> & Partial<Reason>): Reason {
  return { value: null, threshold: null, comparator: null, ...fields };
}

/** 4 significant digits for messages. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return String(Number(x.toPrecision(4)));
}

/** A number from a result field that JSON may have turned into "Infinity"/"NaN". */
export function num(x: unknown): number {
  return typeof x === 'number' ? x : Number(x);
}
