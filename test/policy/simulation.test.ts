/**
 * Simulated audits through the real `decide`, at `plan`'s recommended sizes (docs/SCIENCE.md,
 * "The verdict's statistics"): the error rates the policy states must hold.
 *
 * - Null model: every canary's rank fraction is uniform (as a never-inserted reference's), its
 *   exposure interval is what a sampling estimator gives (Clopper-Pearson on the samples beating
 *   the secret, more samples where the interval straddles maxBits); membership scores are
 *   exchangeable, so the members/non-members in score order are a uniformly random sequence, and
 *   TPR at the policy FPR is read by probes/metrics.ts tprAtFpr from the ROC those scores give.
 * - Material effect: a fraction maxFraction of one count's canaries memorized (rank 1), or one
 *   attack with TPR maxTpr at the FPR (that share of members scored above every non-member).
 */
import { describe, expect, it } from 'vitest';
import { rocCurve, tprAtFpr, type RocCurve } from '../../probes/metrics.js';
import type { CanaryExposure } from '../../probes/types.js';
import { rngFromSeed, type Rng } from '../../src/core/rng.js';
import type { AuditEvidence } from '../../src/policy/evidence.js';
import { defaultPolicy } from '../../src/policy/load.js';
import { planAudit, sampledExposureInterval } from '../../src/policy/plan.js';
import { decide, type VerdictName } from '../../src/policy/verdict.js';
import { cleanEvidence, exposureResult, extraction, manifest, membership } from './fixtures.js';

const loaded = defaultPolicy();
const policy = loaded.policy;
const fpr = Number(policy.membership.fpr);
const spaceSizeLog2 = Math.log2(1e8); // the mrn pack: 8 digits
const repetitions = [1, 4];
const plan = planAudit({ policy, datasetSize: 10_000, repetitions, spaceSizeLog2, exposureMode: 'estimated' });

interface Sizes {
  perCount: number;
  references: number;
  members: number;
  nonMembers: number;
}
const planSizes: Sizes = { perCount: plan.canaries['1']!, references: plan.references, members: plan.members, nonMembers: plan.holdout };
type Effect = 'none' | 'exposure' | 'membership';

/** Binomial(n, p) by inversion; a normal draw where the mean is large (such counts resolve far from maxBits either way). */
function binomial(n: number, p: number, rng: Rng): number {
  const mean = n * p;
  if (mean > 60) return Math.min(n, Math.max(0, Math.round(mean + Math.sqrt(mean * (1 - p)) * rng.normal())));
  const u = rng.next();
  let k = 0;
  let pmf = (1 - p) ** n;
  let cdf = pmf;
  while (u > cdf && k < n) {
    pmf *= ((n - k) / (k + 1)) * (p / (1 - p));
    k++;
    cdf += pmf;
  }
  return k;
}

const intervals = new Map<string, { lower: number; upper: number }>();
function interval(beating: number, samples: number) {
  const key = `${beating}/${samples}`;
  if (!intervals.has(key)) intervals.set(key, sampledExposureInterval(beating, samples, policy.exposure.intervalConfidence, spaceSizeLog2));
  return intervals.get(key)!;
}

/** An estimated canary whose secret has rank fraction `fraction`: exposure.samples first, maxSamples if the interval straddles maxBits. */
function estimatedCanary(id: string, role: 'inserted' | 'reference', reps: number, fraction: number, rng: Rng): CanaryExposure {
  let samples = policy.exposure.samples;
  let beating = binomial(samples, fraction, rng);
  let bounds = interval(beating, samples);
  if (bounds.lower <= policy.exposure.maxBits && bounds.upper > policy.exposure.maxBits) {
    samples = policy.exposure.maxSamples;
    beating = binomial(samples, fraction, rng);
    bounds = interval(beating, samples);
  }
  const exposureBits = Math.min(spaceSizeLog2, -Math.log2((beating + 1) / (samples + 1)));
  return { id, role, repetitions: reps, exposureBits, method: 'estimated', estimator: 'importance', rank: 1, logPerplexity: 0, samples, exposureInterval: { ...bounds, confidence: policy.exposure.intervalConfidence } };
}

/**
 * The low-FPR ROC of exchangeable scores (`memorized` members scored above every non-member): the
 * labels in score order are a uniformly random sequence, read far enough past the FPR (20 more
 * non-members) to fix every vertex the verdict reads, then (1, 1).
 */
function simulatedRoc(members: number, nonMembers: number, memorized: number, rng: Rng): { fpr: number[]; tpr: number[] } {
  const roc: Pick<RocCurve, 'fpr' | 'tpr'> = { fpr: [0], tpr: [0] };
  let truePositives = memorized;
  let falsePositives = 0;
  if (memorized > 0) roc.fpr.push(0), roc.tpr.push(memorized / members);
  let membersLeft = members - memorized;
  let nonMembersLeft = nonMembers;
  const readUntil = Math.floor(fpr * nonMembers) + 20;
  while (falsePositives < readUntil && membersLeft + nonMembersLeft > 0) {
    if (rng.next() * (membersLeft + nonMembersLeft) < membersLeft) membersLeft--, truePositives++;
    else nonMembersLeft--, falsePositives++;
    roc.fpr.push(falsePositives / nonMembers);
    roc.tpr.push(truePositives / members);
  }
  roc.fpr.push(1);
  roc.tpr.push(1);
  return roc;
}

/** TPR at the policy FPR as the probe reads it (probes/metrics.ts tprAtFpr). */
const tprOf = (roc: { fpr: number[]; tpr: number[] }) => tprAtFpr(roc as RocCurve, fpr);

/** TPR = maxTpr at the FPR: a share q of members memorized, q + (1 - q) s / (n + 1) = maxTpr for the s-th non-member's threshold. */
function memorizedShare(nonMembers: number): number {
  const chance = (Math.floor(fpr * nonMembers) + 1) / (nonMembers + 1);
  return (policy.membership.maxTpr - chance) / (1 - chance);
}

function simulatedEvidence(sizes: Sizes, effect: Effect, rng: Rng): AuditEvidence {
  const m = manifest(sizes.perCount, sizes.references, repetitions, spaceSizeLog2);
  const memorizedFraction = 2 ** -spaceSizeLog2;
  const canaries: CanaryExposure[] = [];
  for (const reps of repetitions) {
    for (let i = 0; i < sizes.perCount; i++) {
      const memorized = effect === 'exposure' && reps === 1 && rng.next() < policy.exposure.maxFraction;
      canaries.push(estimatedCanary(`c${reps}-${i}`, 'inserted', reps, memorized ? memorizedFraction : rng.next(), rng));
    }
  }
  for (let i = 0; i < sizes.references; i++) canaries.push(estimatedCanary(`r-${i}`, 'reference', 0, rng.next(), rng));
  const attacks = policy.membership.attacks.map((name, index) => {
    const memorized = effect === 'membership' && index === 0 ? binomialShare(sizes, rng) : 0;
    const roc = simulatedRoc(sizes.members, sizes.nonMembers, memorized, rng);
    return { name, members: sizes.members, nonMembers: sizes.nonMembers, tpr: tprOf(roc), roc };
  });
  return {
    manifest: m,
    results: { exposure: exposureResult(canaries, m, 'estimated', policy.exposure.samples), extraction: extraction({}, m), membership: membership(attacks) },
    failures: [],
    ledger: { version: 1, dp: false },
  };
}

function binomialShare(sizes: Sizes, rng: Rng): number {
  return binomial(sizes.members, memorizedShare(sizes.nonMembers), rng);
}

function rates(sizes: Sizes, effect: Effect, audits: number, seed: string): Record<VerdictName, number> {
  const rng = rngFromSeed(seed);
  const counts: Record<VerdictName, number> = { PHI: 0, NOT_PHI: 0, INCONCLUSIVE: 0 };
  for (let i = 0; i < audits; i++) counts[decide(simulatedEvidence(sizes, effect, rng), loaded).verdict]++;
  return { PHI: counts.PHI / audits, NOT_PHI: counts.NOT_PHI / audits, INCONCLUSIVE: counts.INCONCLUSIVE / audits };
}

const report = (label: string, r: Record<VerdictName, number>) => console.log(`${label}: NOT_PHI ${r.NOT_PHI.toFixed(4)}, PHI ${r.PHI.toFixed(4)}, INCONCLUSIVE ${r.INCONCLUSIVE.toFixed(4)}`);

describe("simulated audits at plan's sizes (default policy, mrn secrets, dataset 10000, repetitions 1,4)", () => {
  it('the simulated TPR is the one rocCurve + tprAtFpr give for the same exchangeable scores', () => {
    // Same random order, full scores: the prefix read cannot differ from the whole ROC.
    for (const seed of ['a', 'b', 'c', 'd']) {
      const order = rngFromSeed(seed);
      const members: number[] = [];
      const nonMembers: number[] = [];
      let score = 1e6;
      for (let m = 300, n = 2000; m + n > 0; score--) {
        if (order.next() * (m + n) < m) members.push(score), m--;
        else nonMembers.push(score), n--;
      }
      const full = tprAtFpr(rocCurve(members, nonMembers), fpr);
      expect(tprOf(simulatedRoc(300, 2000, 0, rngFromSeed(seed)))).toBeCloseTo(full, 12);
    }
  });

  let null1x: Record<VerdictName, number> | undefined;
  const nullAtPlan = () => (null1x ??= rates(planSizes, 'none', 1000, 'null-1x'));

  it('a model that memorized nothing: NOT_PHI >= 95% and PHI <= 0.3% over 1000 audits', () => {
    const null1x = nullAtPlan();
    report(`null, ${JSON.stringify(planSizes)}`, null1x);
    expect(null1x.NOT_PHI).toBeGreaterThanOrEqual(0.95);
    expect(null1x.PHI).toBeLessThanOrEqual(0.003);
  });

  it("a model at the policy's material effect is cleared at most 5% of the time", () => {
    const exposureEffect = rates(planSizes, 'exposure', 400, 'effect-exposure');
    const membershipEffect = rates(planSizes, 'membership', 400, 'effect-membership');
    report('exposure effect (5% of 1x canaries memorized)', exposureEffect);
    report('membership effect (TPR 0.01 at 0.001 FPR, one attack)', membershipEffect);
    expect(exposureEffect.NOT_PHI).toBeLessThanOrEqual(0.05);
    expect(membershipEffect.NOT_PHI).toBeLessThanOrEqual(0.05);
  });

  it('P(NOT_PHI | null) does not fall as canaries grow (1x, 2x, 4x the planned canaries)', () => {
    const twice = rates({ ...planSizes, perCount: planSizes.perCount * 2, references: planSizes.references * 2 }, 'none', 300, 'null-2x');
    const fourTimes = rates({ ...planSizes, perCount: planSizes.perCount * 4, references: planSizes.references * 4 }, 'none', 300, 'null-4x');
    report('null, 2x canaries', twice);
    report('null, 4x canaries', fourTimes);
    // Tolerance: two binomial standard errors at 300 audits.
    for (const larger of [twice, fourTimes]) {
      expect(larger.NOT_PHI).toBeGreaterThanOrEqual(Math.min(0.95, nullAtPlan().NOT_PHI - 0.02));
      expect(larger.PHI).toBeLessThanOrEqual(0.003);
    }
  });
});

describe('the never-beaten estimate (an exposure point value of log2|R| with nothing resolved above its lower end)', () => {
  it('cannot produce PHI: only the interval is read, and its lower end is about log2(M / 3)', () => {
    const e = cleanEvidence();
    const bits = e.manifest.spaceSizeLog2;
    for (const confidence of [0.95, policy.exposure.intervalConfidence]) {
      const ex = e.results.exposure!;
      const samples = policy.exposure.samples;
      const never = sampledExposureInterval(0, samples, confidence, bits);
      expect(never.upper).toBe(bits);
      expect(never.lower).toBeLessThan(policy.exposure.maxBits);
      if (confidence === 0.95) expect(never.lower).toBeCloseTo(Math.log2(samples / 3.69), 1);
      // Every inserted canary at every count reads "log2|R| bits" as a point value.
      for (const c of ex.canaries) {
        if (c.role !== 'inserted') continue;
        Object.assign(c, { method: 'estimated', estimator: 'importance', exposureBits: bits, exposureInterval: { ...never, confidence } });
      }
      const v = decide(e, loaded);
      expect(v.verdict).toBe('INCONCLUSIVE');
      expect(v.checks.filter((c) => c.outcome === 'PHI')).toEqual([]);
    }
  });
});
