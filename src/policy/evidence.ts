/**
 * What the verdict is decided from: probe results, probe failures, a summary of the insertion
 * manifest (counts and digests only: no canary text) and the DP ledger. A report carries exactly
 * this, so `gate` can re-decide later with another policy without re-probing.
 */
import type { SelfAuditRecord } from '../accounting/privacyFile.js';
import type { Manifest } from '../canary/types.js';
import type { DpAuditResult, ExposureResult, ExtractionResult, MembershipResult, ProbeName } from '../../probes/types.js';

export interface ManifestSummary {
  /** sha256 of the manifest file. */
  digest: string;
  mode: Manifest['mode'];
  pack: string;
  kind: Manifest['kind'];
  spaceSizeLog2: number;
  inserted: number;
  references: number;
  /** Inserted canaries per repetition count, ascending. */
  byRepetitions: { repetitions: number; count: number }[];
  input: { sha256: string; records: number };
  output: { sha256: string; records: number };
}

export function summarizeManifest(manifest: Manifest, digest: string): ManifestSummary {
  const counts = new Map<number, number>();
  let references = 0;
  for (const c of manifest.canaries) {
    if (c.role === 'reference') references++;
    else counts.set(c.repetitions, (counts.get(c.repetitions) ?? 0) + 1);
  }
  const byRepetitions = [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([repetitions, count]) => ({ repetitions, count }));
  return {
    digest,
    mode: manifest.mode,
    pack: manifest.pack,
    kind: manifest.kind,
    spaceSizeLog2: manifest.spaceSizeLog2,
    inserted: manifest.canaries.length - references,
    references,
    byRepetitions,
    input: { sha256: manifest.input.sha256, records: manifest.input.records },
    output: { sha256: manifest.output.sha256, records: manifest.output.records },
  };
}

/** A probe that could not produce a result for a reason the verdict understands. */
export interface ProbeFailure {
  probe: ProbeName;
  /** capability: the target cannot do what the probe needs; inconclusive: not enough evidence. */
  kind: 'capability' | 'inconclusive';
  capability?: string;
  message: string;
}

/**
 * The DP ledger (`privacy.json`, written by the trainer through src/accounting): the fields the
 * verdict reads. Non-DP training writes `{version: 1, dp: false}`.
 */
export type LedgerEvidence =
  | { version: 1; dp: false }
  | {
      version: 1;
      dp: true;
      epsilon: { rdp: number; pld: number };
      /** The accountant whose epsilon is the reported one. */
      accountant: 'rdp' | 'pld';
      delta: number;
      noiseSource: 'csprng' | 'seeded';
      steps: number;
      noiseMultiplier?: number;
      samplingRate?: number;
      clipNorm?: number;
      datasetSize?: number;
      epsilonHistory?: { step: number; epsilon: number }[];
    };

/** The claimed epsilon of a ledger (the reported accountant's), or null without DP. */
export function claimedEpsilon(ledger: LedgerEvidence | null): number | null {
  if (!ledger || !ledger.dp) return null;
  return ledger.epsilon[ledger.accountant];
}

export interface ProbeResults {
  exposure?: ExposureResult;
  extraction?: ExtractionResult;
  membership?: MembershipResult;
  'dp-audit'?: DpAuditResult;
}

/**
 * Whether the manifest describes this model's training data: the dataset canary insertion wrote
 * (manifest output.sha256) against the dataset the model says it was trained on (memaudit.json
 * trainingData.sha256). Without that binding a manifest from another training run would be
 * probed, its canaries found unmemorized, and the wrong model cleared.
 */
export interface ManifestBinding {
  /** sha256 of the dataset the manifest's insertion wrote. */
  manifestOutputSha256: string;
  /** sha256 of the model's training data (memaudit.json); null when the target cannot tell (API, a model without memaudit.json). */
  modelTrainingDataSha256: string | null;
}

/**
 * What the audit checked of a DP claim beyond reading privacy.json: the ledger recomputed from its
 * own mechanism parameters and matched against the training config (memaudit.json) and dataset
 * size; the signed training provenance (provenance.dsse.json) verified against trusted keys and the
 * current weight files; and the trainer's white-box self-audit, if it ran. Absent when the model
 * claims no DP or the audit predates these checks (then a claim is never verified).
 */
export interface DpClaimEvidence {
  /** The ledger recomputes (epsilon within tolerance) and matches the training config. */
  ledgerVerified: boolean;
  /** Every field that did not match: its name, what the ledger says, what was expected. */
  mismatches: { field: string; ledger: string; expected: string }[];
  /** Epsilon recomputed from the ledger's mechanism parameters with its own accountant; null if it could not be. */
  recomputedEpsilon: number | null;
  /**
   * trusted: a valid signature by a key the audit was told to trust, covering the current weight
   * files; untrusted: a valid signature by another key; unsigned: no provenance file;
   * invalid: a signature that does not hold or does not cover the current weights.
   */
  provenance: 'trusted' | 'untrusted' | 'unsigned' | 'invalid';
  /** sha256 of the signer's public key (PEM), when signed. */
  provenanceKeyId?: string;
  /** Why the provenance is untrusted or invalid (one line, no secrets). */
  provenanceProblem?: string;
  /** The trainer's white-box one-run self-audit, as recorded in privacy.json (and the provenance). */
  selfAudit?: SelfAuditEvidence;
}

/** White-box one-run DP-SGD self-audit, as the trainer recorded it (docs/SCIENCE.md, "White-box self-audit"). */
export type SelfAuditEvidence = SelfAuditRecord;

export interface AuditEvidence {
  manifest: ManifestSummary;
  /** Absent in reports written before the binding was recorded: decided as unverified. */
  binding?: ManifestBinding;
  results: ProbeResults;
  failures: ProbeFailure[];
  /** null when unknown (a model behind an API has no ledger we can read). */
  ledger: LedgerEvidence | null;
  /** Verification of the DP claim (absent without a DP ledger). */
  dpClaim?: DpClaimEvidence;
}
