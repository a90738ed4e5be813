/**
 * Which duplication levels the verdict covers: the policy's coverage.repetitions ("inserted" = every
 * count the manifest inserted, or a list). Each count is judged on its own; the verdict says which
 * counts are clean and which are exposed, e.g. "NOT_PHI for records that occur up to 4 times;
 * records repeated 16 times are exposed".
 */
import type { ManifestSummary } from '../evidence.js';
import type { Policy } from '../types.js';
import type { CountStatus } from './context.js';
import type { VerdictName } from './reason.js';

export interface CoverageSummary {
  /** The repetition counts a clean result covers. */
  repetitions: number[];
  /** Counts (covered or not) whose checks bound memorization under the material effect. */
  clean: number[];
  /** Counts with a significant finding over the material effect (covered ones make the verdict PHI). */
  exposed: number[];
}

export function coveredRepetitions(p: Policy, m: ManifestSummary): number[] {
  const counts = p.coverage.repetitions === 'inserted' ? m.byRepetitions.map((g) => g.repetitions) : p.coverage.repetitions;
  return [...new Set(counts)].sort((a, b) => a - b);
}

/** Merges per-count statuses of exposure and extraction: clean needs every check clean, exposed any. */
export function summarizeCoverage(covered: number[], statuses: CountStatus[], missing: boolean): CoverageSummary {
  const byCount = new Map<number, { clean: boolean; exposed: boolean }>();
  for (const s of statuses) {
    const prior = byCount.get(s.repetitions) ?? { clean: true, exposed: false };
    byCount.set(s.repetitions, { clean: prior.clean && s.clean, exposed: prior.exposed || s.exposed });
  }
  const counts = [...byCount.keys()].sort((a, b) => a - b);
  return {
    repetitions: covered,
    // Without every per-count probe's result, no count is known clean.
    clean: missing ? [] : counts.filter((r) => byCount.get(r)!.clean && !byCount.get(r)!.exposed),
    exposed: counts.filter((r) => byCount.get(r)!.exposed),
  };
}

function times(counts: number[]): string {
  return counts.length === 1 ? `${counts[0]} times` : `${counts.slice(0, -1).join(', ')} or ${counts[counts.length - 1]} times`;
}

/** One line naming the verdict, what it covers, and what else was found exposed. */
export function coverageHeadline(verdict: VerdictName, coverage: CoverageSummary): string {
  const covered = coverage.repetitions;
  const scope = covered.length === 0 ? 'records' : `records that occur up to ${covered[covered.length - 1]} times`;
  const exposedElsewhere = coverage.exposed.filter((r) => !covered.includes(r));
  const exposedCovered = coverage.exposed.filter((r) => covered.includes(r));
  const head =
    verdict === 'NOT_PHI' ? `NOT_PHI for ${scope}` : verdict === 'PHI' && exposedCovered.length > 0 ? `PHI: records repeated ${times(exposedCovered)} are exposed` : `${verdict} for ${scope}`;
  return exposedElsewhere.length > 0 ? `${head}; records repeated ${times(exposedElsewhere)} are exposed (not covered)` : head;
}
