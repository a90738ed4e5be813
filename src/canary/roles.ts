/**
 * Who is inserted and how often (`canary insert`): in `fixed` mode K canaries become references
 * (never inserted) and the rest are spread evenly over the repetition counts; in `bernoulli` mode
 * each canary is inserted with probability 1/2 independently (the one-run DP audit of Steinke,
 * Nasr & Jagielski 2023 needs the coin flips to be independent fair coins) and the others are the
 * references. Then each copy gets a seeded random place in the data.
 */
import { UsageError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { CanarySet, ManifestCanary } from './types.js';

export type InsertionMode = 'fixed' | 'bernoulli';
export const bernoulliInclusion = 0.5;

export interface RolePlan {
  mode: InsertionMode;
  repetitions: number[];
  references: number;
}

export function planRoles(set: CanarySet, plan: RolePlan, rng: Rng): ManifestCanary[] {
  const n = set.canaries.length;
  const { repetitions, references } = plan;
  if (repetitions.length === 0 || !repetitions.every((r) => Number.isInteger(r) && r >= 1)) {
    throw new UsageError(`--repetitions must be positive integers, got ${repetitions.join(',')}`);
  }
  if (!Number.isInteger(references) || references < 0) throw new UsageError(`--references must be a non-negative integer, got ${references}`);
  const order = rng.fork('roles').shuffle([...Array(n).keys()]);
  const roles = new Array<ManifestCanary>(n);
  if (plan.mode === 'fixed') {
    if (references >= n) throw new UsageError(`--references ${references} leaves none of the ${n} canaries to insert`);
    const inserted = order.slice(references);
    if (inserted.length < repetitions.length) {
      throw new UsageError(`${inserted.length} canaries to insert cannot cover ${repetitions.length} repetition counts (${repetitions.join(',')}): generate more canaries`);
    }
    for (const i of order.slice(0, references)) roles[i] = { ...set.canaries[i]!, role: 'reference', repetitions: 0 };
    inserted.forEach((i, j) => (roles[i] = { ...set.canaries[i]!, role: 'inserted', repetitions: repetitions[j % repetitions.length]! }));
  } else {
    if (references !== 0) throw new UsageError('--references applies to --mode fixed; in bernoulli mode the canaries left out by the coin flips are the references');
    const coins = rng.fork('coins');
    order.forEach((i, j) => {
      const inserted = coins.bernoulli(bernoulliInclusion);
      roles[i] = { ...set.canaries[i]!, role: inserted ? 'inserted' : 'reference', repetitions: inserted ? repetitions[j % repetitions.length]! : 0 };
    });
  }
  return roles;
}

export interface Placement {
  /** Stream byte offset: the copy goes right after the record holding this byte. */
  offset: number;
  /** Index of the canary in the set. */
  canary: number;
}

/**
 * Seeded places for every copy: a uniform byte offset of the input each, so a copy lands after a
 * record chosen with probability proportional to its length. Needs no counting pass over the data,
 * so insertion reads the input once. Sorted by offset.
 */
export function planPlacements(canaries: ManifestCanary[], inputBytes: number, rng: Rng): Placement[] {
  const r = rng.fork('placement');
  const out: Placement[] = [];
  canaries.forEach((c, i) => {
    for (let k = 0; k < c.repetitions; k++) out.push({ offset: inputBytes > 0 ? r.int(inputBytes) : 0, canary: i });
  });
  return out.sort((a, b) => a.offset - b.offset || a.canary - b.canary);
}
