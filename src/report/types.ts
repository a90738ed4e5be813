/** report.json: everything the verdict was decided from, so `gate` can re-decide without re-probing. */
import type { AuditEvidence } from '../policy/evidence.js';
import type { Policy } from '../policy/types.js';
import type { Verdict } from '../policy/verdict.js';
import type { TargetDescriptor } from '../targets/target.js';
import type { ProbeName } from '../../probes/types.js';

/** The options each probe ran with: the policy's values, defaults, and any stricter option given. */
export type ProbeOptionsUsed = Partial<Record<ProbeName, Record<string, unknown>>>;
import type { ManifestSignature } from '../canary/manifest-signature.js';

/** What was checked of the manifest itself before the probes ran (docs/SCIENCE.md#manifest-roles). */
export interface ManifestIntegrity {
  signature: ManifestSignature;
  /** verified: every canary's secret occurs in the training data as its role says; not-checked: no training data to look in. */
  roles: { status: 'verified' | 'not-checked'; data: string | null; dataSha256: string | null };
}

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
  /** Absent in reports written before these checks existed. */
  manifestIntegrity?: ManifestIntegrity;
}
