/** The manifest's canaries: a secret space large enough to mean anything, inserted canaries at every covered count, references. */
import type { ManifestSummary } from '../evidence.js';
import type { Policy } from '../types.js';
import type { CheckContext } from './context.js';
import { fmt, reason, type Reason } from './reason.js';

function secretSpaceReason(m: ManifestSummary, p: Policy): Reason {
  const bits = m.spaceSizeLog2;
  const ok = bits >= p.power.minSecretSpaceBits;
  return reason({
    probe: 'canaries',
    metric: 'secretSpaceBits',
    value: bits,
    threshold: p.power.minSecretSpaceBits,
    comparator: '>=',
    outcome: ok ? 'PASS' : 'INCONCLUSIVE',
    message: ok
      ? `the secret space has ${fmt(bits)} bits (>= ${p.power.minSecretSpaceBits})`
      : `the secret space has only ${fmt(bits)} bits (< ${p.power.minSecretSpaceBits}): a reproduced secret can be a lucky guess; use a pack with a larger secret space`,
  });
}

/** Every covered count needs canaries inserted that many times, at least minCanariesPerRepetition of them (the bounds usually need far more, and say so). */
function perCountReasons(m: ManifestSummary, context: CheckContext): Reason[] {
  const p = context.policy;
  const base = { probe: 'canaries' as const, metric: 'canariesPerRepetition', threshold: p.power.minCanariesPerRepetition, comparator: '>=' as const };
  if (m.byRepetitions.length === 0) {
    return [reason({ ...base, value: 0, outcome: 'INCONCLUSIVE', message: 'the manifest has no inserted canaries: nothing can show whether the model memorizes' })];
  }
  const listing = m.byRepetitions.map((g) => `${g.repetitions}x: ${g.count}`).join(', ');
  const counts = context.covered.map((r) => ({ repetitions: r, count: m.byRepetitions.find((g) => g.repetitions === r)?.count ?? 0 }));
  const short = counts.filter((c) => c.count < p.power.minCanariesPerRepetition);
  if (short.length === 0) {
    const smallest = Math.min(...counts.map((c) => c.count));
    return [reason({ ...base, value: smallest, outcome: 'PASS', message: `inserted canaries per covered repetition count (${listing}) are all >= ${p.power.minCanariesPerRepetition}` })];
  }
  return short.map((c) =>
    reason({
      ...base,
      value: c.count,
      outcome: 'INCONCLUSIVE',
      message:
        c.count === 0
          ? `the policy covers records repeated ${c.repetitions} times but no canary was inserted ${c.repetitions}x (${listing}): insert canaries at that count or narrow coverage.repetitions`
          : `only ${c.count} canaries inserted ${c.repetitions}x (${listing}); the policy needs >= ${p.power.minCanariesPerRepetition} per covered repetition count`,
    }),
  );
}

function referencesReason(m: ManifestSummary, p: Policy): Reason {
  const ok = m.references >= p.power.minReferenceCanaries;
  return reason({
    probe: 'canaries',
    metric: 'referenceCanaries',
    value: m.references,
    threshold: p.power.minReferenceCanaries,
    comparator: '>=',
    outcome: ok ? 'PASS' : 'INCONCLUSIVE',
    message: ok
      ? `${m.references} reference canaries (never inserted) check the null model and the extraction baseline`
      : `only ${m.references} reference canaries (never inserted); the policy needs >= ${p.power.minReferenceCanaries} to check the null model and the extraction baseline`,
  });
}

export function canaryChecks(m: ManifestSummary, context: CheckContext): Reason[] {
  return [secretSpaceReason(m, context.policy), ...perCountReasons(m, context), referencesReason(m, context.policy)];
}
