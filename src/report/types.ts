/** report.json: everything the verdict was decided from, so `gate` can re-decide without re-probing. */
import type { AuditEvidence } from '../policy/evidence.js';
import type { Policy } from '../policy/types.js';
import type { Verdict } from '../policy/verdict.js';
import type { TargetDescriptor } from '../targets/target.js';
import type { ProbeName } from '../../probes/types.js';

/** The options each probe ran with: the policy's values, defaults, and any stricter option given. */
export type ProbeOptionsUsed = Partial<Record<ProbeName, Record<string, unknown>>>;

export interface Report extends AuditEvidence {
  version: 1;
  kind: 'memaudit-report';
  toolVersion: string;
  backend: string;
  seed: string;
  startedAt: string;
  finishedAt: string;
  target: TargetDescriptor;
  /** The policy the verdict below was decided with (gate re-decides with it unless given another). */
  policy: Policy;
  /** Absent in reports written before options were recorded. */
  probeOptions?: ProbeOptionsUsed;
  verdict: Omit<Verdict, 'exitCode'>;
}
