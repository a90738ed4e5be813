/**
 * Probe results: the contract between probes, the verdict, reports and `--json` consumers
 * (DESIGN.md "--json results"). Fields named there must stay; more fields are welcome.
 */
import type { TargetDescriptor } from '../src/targets/target.js';

export type ProbeName = 'exposure' | 'extraction' | 'membership' | 'dp-audit';

/** Fields every probe result carries besides its own. */
export interface ProbeRunInfo {
  probe: ProbeName;
  version: 1;
  toolVersion: string;
  backend: string;
  target: TargetDescriptor;
  /** sha256 of the insertion manifest the probe used. */
  manifestDigest: string;
  seed: string;
  startedAt: string;
  finishedAt: string;
}

export interface Interval {
  lower: number;
  upper: number;
  /** Confidence level, e.g. 0.95. */
  confidence: number;
}

// ---- exposure ----------------------------------------------------------------------------------

export interface CanaryExposure {
  id: string;
  role: 'inserted' | 'reference';
  repetitions: number;
  /** log2|R| - log2 rank (Carlini et al. 2019). */
  exposureBits: number;
  method: 'exact' | 'estimated';
  /** Rank of the secret among all candidates (exact) or the estimated rank (estimated). */
  rank: number;
  /** -log p(secret | prefix), natural log, summed over the secret's tokens. */
  logPerplexity: number;
  /** Estimated mode: how the rank was estimated (the verdict trusts each only as far as its samples resolve). */
  estimator?: 'importance' | 'skew-normal';
  /**
   * The exposure (bits) the measurement resolves, at `confidence`: exact ranks give lower = upper =
   * exposureBits; sampled ranks give a confidence interval whose upper end is log2|R| when no
   * sample beat the secret (nothing resolved above the lower end). The verdict uses only these ends.
   */
  exposureInterval?: Interval;
  /** Estimated mode: candidates sampled for this canary (adaptive sampling draws more where needed). */
  samples?: number;
}

export interface ExposureGroup {
  repetitions: number;
  count: number;
  meanExposureBits: number;
  maxExposureBits: number;
}

export interface ExposureResult extends ProbeRunInfo {
  probe: 'exposure';
  /** log2 of the secret space size: the largest exposure possible. */
  spaceSizeLog2: number;
  canaries: CanaryExposure[];
  byRepetitions: ExposureGroup[];
  reference: { count: number; meanExposureBits: number; maxExposureBits: number };
  /** One-sided test that inserted canaries' exposure exceeds the references'. */
  insertedVsReference?: { test: string; statistic: number; pValue: number };
  /** exact: every rank enumerated; estimated: ranks estimated from sampled candidates. */
  mode?: 'exact' | 'estimated';
  /** Candidates scored per canary: the whole space (exact) or the samples (estimated). */
  candidatesPerCanary?: number;
}

// ---- extraction --------------------------------------------------------------------------------

export interface TargetedExtraction {
  attempted: number;
  extracted: number;
  byRepetitions: { repetitions: number; count: number; extracted: number }[];
  /** The never-inserted reference canaries, attempted the same way: the chance baseline (not counted above). */
  reference?: { attempted: number; extracted: number };
  /** Per canary: which decoding reproduced the secret, and its rank in the beam (null if absent). */
  canaries?: { id: string; repetitions: number; role: 'inserted' | 'reference'; greedy: boolean; beamRank: number | null }[];
}

export interface UntargetedExtraction {
  samples: number;
  /** Safe Harbor identifier type to count of validated matches in the generations. */
  identifiers: Record<string, number>;
  /** Generations reproducing a training record verbatim (a long shared span); null without a training file. */
  verbatimTrainingMatches: number | null;
  /** Top generations by the ranking metrics: digests and scores only, never the text. */
  top?: { sha256: string; perplexity: number; zlibRatio: number; identifiers: string[] }[];
}

export interface ExtractionResult extends ProbeRunInfo {
  probe: 'extraction';
  targeted: TargetedExtraction;
  untargeted: UntargetedExtraction;
}

// ---- membership --------------------------------------------------------------------------------

export type FprKey = '0.001' | '0.01' | '0.1';

export interface MembershipAttackResult {
  name: string;
  members: number;
  nonMembers: number;
  auc: number;
  tprAtFpr: Record<FprKey, number>;
  /** Bootstrap or Clopper-Pearson intervals for the figures above. */
  aucInterval?: Interval;
  tprAtFprInterval?: Partial<Record<FprKey, Interval>>;
  /** ROC points for plotting (thinned), FPR ascending. */
  roc?: { fpr: number[]; tpr: number[] };
}

export interface MembershipResult extends ProbeRunInfo {
  probe: 'membership';
  /**
   * Where members and non-members came from: manifest canaries (inserted vs reference), the user's
   * files, or real records (a sample of the training data vs the manifest's holdout).
   */
  population: 'manifest' | 'files' | 'records';
  attacks: MembershipAttackResult[];
  /** population "records": the two datasets (digests and counts only) and the sample drawn. */
  records?: MembershipRecordsSample;
}

export interface MembershipRecordsSample {
  /** The training data (the manifest's output): its digest and its real (non-canary) records. */
  training: { sha256: string; realRecords: number };
  holdout: { sha256: string; records: number };
  /** Members drawn uniformly without replacement from the real training records. */
  members: number;
  /** Non-members: every holdout record. */
  nonMembers: number;
}

// ---- dp-audit ----------------------------------------------------------------------------------

export interface DpAuditResult extends ProbeRunInfo {
  probe: 'dp-audit';
  method: 'clopper-pearson' | 'one-run';
  epsilonLowerBound: number;
  /** Confidence of the lower bound, e.g. 0.95. */
  confidence: number;
  /** The largest lower bound this number of canaries could ever give (a low bound proves nothing beyond it). */
  ceiling: number;
  claimedEpsilon: number | null;
  delta: number;
  /** True when epsilonLowerBound > claimedEpsilon: the DP implementation or claim is wrong. */
  refuted: boolean;
  canaries: number;
}

export type ProbeResult = ExposureResult | ExtractionResult | MembershipResult | DpAuditResult;
