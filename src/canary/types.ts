/**
 * Canary and manifest types: the contract between canary generation/insertion and the probes
 * (DESIGN.md "Files the tool reads and writes"). Implementations live beside this file.
 */
import type { Rng } from '../core/rng.js';
import type { FeatureRow } from '../targets/target.js';

/**
 * One slot of a secret: the secret is the concatenation of one alternative per slot, so the space
 * is the product of the slots' sizes and can be enumerated (mixed radix) or walked as a trie
 * (exposure's prefix sharing). A literal is a slot with one alternative.
 */
export interface SecretSlot {
  /** Format name, e.g. "digit", "ssn-area", "literal", "first-name". */
  format: string;
  alternatives: readonly string[];
}

/** A secret space whose size is known exactly (spaces exceed 2^53, so sizes are BigInt). */
export interface SecretSpace {
  slots: readonly SecretSlot[];
  size: bigint;
  log2Size: number;
  /** The secret with this index in [0, size) (mixed radix over the slots, first slot most significant). */
  at(index: bigint): string;
  /** Index of a secret, or null if it is not in the space (or not uniquely parsable). */
  indexOf(secret: string): bigint | null;
  /** A uniformly random secret. */
  sample(rng: Rng): string;
}

/** A serializable description of a secret space, stored in canary sets and manifests. */
export interface SecretSpaceSpec {
  slots: { format: string; params?: Record<string, unknown> }[];
}

export interface Canary {
  id: string;
  /** The whole canary record: prefix + secret + suffix (text packs), or a rendering of the row (tabular). */
  text: string;
  prefix: string;
  secret: string;
  suffix: string;
  /** The pack format of the secret, e.g. "ssn". */
  format: string;
  /** Tabular packs: the canary row and its label. */
  record?: FeatureRow;
  label?: string;
}

export interface CanarySet {
  version: 1;
  pack: string;
  packDigest: string;
  kind: 'text' | 'tabular';
  secretSpace: SecretSpaceSpec;
  /** Exact size of the secret space, as a decimal string. */
  spaceSize: string;
  spaceSizeLog2: number;
  seed: string;
  canaries: Canary[];
  /** Tabular packs: the label column the pack names (canary insert writes `label` there). */
  labelColumn?: string;
}

export type CanaryRole = 'inserted' | 'reference';

export interface ManifestCanary extends Canary {
  role: CanaryRole;
  /** Copies inserted (0 for references). */
  repetitions: number;
}

export interface DatasetDigest {
  path: string;
  sha256: string;
  records: number;
  format: 'jsonl' | 'csv' | 'text';
}

export interface Manifest {
  version: 1;
  /**
   * `fixed`: canaries spread over the repetition counts, K references never inserted.
   * `bernoulli`: each canary inserted with probability 1/2 (the one-run DP audit of Steinke et al. 2023).
   */
  mode: 'fixed' | 'bernoulli';
  seed: string;
  pack: string;
  kind: 'text' | 'tabular';
  secretSpace: SecretSpaceSpec;
  spaceSize: string;
  spaceSizeLog2: number;
  input: DatasetDigest;
  /** The training data: the input less the holdout, plus the canary copies. */
  output: DatasetDigest;
  /** `canary insert --holdout K`: the K real records withheld from the output (real non-members). */
  holdout?: DatasetDigest;
  /** JSONL text field or CSV label column the canaries were written into. */
  textField?: string;
  labelColumn?: string;
  canaries: ManifestCanary[];
  createdAt: string;
  toolVersion: string;
  /** `bernoulli` mode: the probability each canary was inserted (1/2); absent in `fixed` mode. */
  inclusionProbability?: number;
}
