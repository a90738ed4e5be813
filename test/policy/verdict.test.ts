import { describe, expect, it } from 'vitest';
import { decide, exposureThreshold, SKEW_NORMAL_MIN_BELOW } from '../../src/policy/verdict.js';
import { probeOptionsFor } from '../../src/report/run.js';
import { EMPIRICAL_MIN_BELOW } from '../../probes/exposure.js';
import { defaultPolicy, loadPolicy } from '../../src/policy/load.js';
import { fisherExactGreater } from '../../src/policy/stats.js';
import type { AuditEvidence } from '../../src/policy/evidence.js';
import { cleanEvidence, dpAudit, dpLedger, exposure, extraction, manifest, membership } from './fixtures.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/cli.js';

const policy = defaultPolicy();

function expectReasonsComplete(v: ReturnType<typeof decide>): void {
  for (const r of v.reasons) {
    expect(r.probe).toBeTruthy();
    expect(r.metric).toBeTruthy();
    expect(r.message.length).toBeGreaterThan(10);
    expect('value' in r && 'threshold' in r).toBe(true);
  }
}

describe('verdict rules', () => {
  it('clears a well-powered clean run (NOT_PHI, exit 0), every reason a pass', () => {
    const v = decide(cleanEvidence(), policy);
    expect(v.verdict).toBe('NOT_PHI');
    expect(v.exitCode).toBe(0);
    expect(v.reasons.every((r) => r.outcome === 'PASS')).toBe(true);
    expect(v.reasons.map((r) => r.probe)).toEqual(expect.arrayContaining(['exposure', 'extraction', 'membership', 'canaries']));
  });

  it('any extracted canary is PHI, naming count and threshold', () => {
    const e = cleanEvidence();
    e.results.extraction = extraction({ 16: 3 }, e.manifest);
    const v = decide(e, policy);
    expect(v.verdict).toBe('PHI');
    expect(v.exitCode).toBe(1);
    const r = v.reasons.find((x) => x.probe === 'extraction')!;
    expect(r).toMatchObject({ metric: 'extractedCanaries', value: 3, threshold: 0, outcome: 'PHI' });
    expect(r.message).toContain('16x: 3/200');
    expectReasonsComplete(v);
  });

  it('extraction that references match as often is not PHI (guessable secrets)', () => {
    const e = cleanEvidence();
    e.results.extraction = extraction({ 16: 2 }, e.manifest, 4);
    const v = decide(e, policy);
    expect(v.verdict).toBe('INCONCLUSIVE');
    expect(v.reasons.some((r) => r.probe === 'extraction' && /guessable/.test(r.message))).toBe(true);
  });

  it('exposure: PHI over the Bonferroni threshold, INCONCLUSIVE between it and maxBits, clean under maxBits', () => {
    const e = cleanEvidence();
    const { bits } = exposureThreshold(policy.policy, 600, e.results.exposure!.reference.maxExposureBits);
    expect(bits).toBeCloseTo(Math.log2(600 / policy.policy.alpha), 6);
    e.results.exposure = exposure((r, i) => (r === 16 && i === 0 ? bits + 0.5 : 1), e.manifest);
    const v = decide(e, policy);
    expect(v.verdict).toBe('PHI');
    const r = v.reasons.find((x) => x.probe === 'exposure')!;
    expect(r.metric).toBe('maxExposureBits@16x');
    expect(r.threshold).toBeCloseTo(bits, 6);
    expect(r.value).toBeCloseTo(bits + 0.5, 6);

    e.results.exposure = exposure((r, i) => (r === 16 && i === 0 ? bits - 0.5 : 1), e.manifest);
    const between = decide(e, policy);
    expect(between.verdict).toBe('INCONCLUSIVE');
    expect(between.reasons[0]).toMatchObject({ probe: 'exposure', metric: 'maxExposureBits', threshold: 10 });
    expect(between.reasons[0]!.message).toMatch(/chance gives that with p = /);

    e.results.exposure = exposure((r, i) => (r === 16 && i === 0 ? 9.9 : 1), e.manifest);
    expect(decide(e, policy).verdict).toBe('NOT_PHI');
  });

  it('the reference canaries raise the PHI threshold when they reach higher (the empirical null)', () => {
    const e = cleanEvidence();
    const ex = exposure((r, i) => (r === 16 && i === 0 ? 20.5 : 1), e.manifest);
    ex.reference.maxExposureBits = 21;
    e.results.exposure = ex;
    const v = decide(e, policy);
    expect(v.verdict).toBe('INCONCLUSIVE');
    expect(v.checks.find((c) => c.metric === 'maxExposureBits@16x')!.threshold).toBe(21);
  });

  it('never calls PHI from noise: null exposures of many canaries stay under the threshold', () => {
    // 600 unmemorized canaries: exposures are -log2(U); the max of 600 is ~9.2 bits on average.
    let seed = 1;
    const uniform = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    let phi = 0;
    for (let trial = 0; trial < 200; trial++) {
      const e = cleanEvidence();
      e.results.exposure = exposure(() => -Math.log2(uniform()), e.manifest);
      if (decide(e, policy).verdict === 'PHI') phi++;
    }
    expect(phi).toBeLessThanOrEqual(2); // alpha = 0.1%: expect ~0.2 of 200
  });

  it('too few canaries per repetition count is INCONCLUSIVE, naming the count', () => {
    const e = cleanEvidence();
    e.manifest = manifest(3, 1200);
    const v = decide(e, policy);
    expect(v.verdict).toBe('INCONCLUSIVE');
    expect(v.reasons).toContainEqual(expect.objectContaining({ probe: 'canaries', metric: 'canariesPerRepetition', value: 3, threshold: 5 }));
  });

  it('a small secret space is INCONCLUSIVE', () => {
    const e = cleanEvidence();
    e.manifest = { ...e.manifest, spaceSizeLog2: 13.3 };
    expect(decide(e, policy).reasons).toContainEqual(expect.objectContaining({ metric: 'secretSpaceBits', outcome: 'INCONCLUSIVE' }));
  });

  it('a missing capability makes a required probe INCONCLUSIVE, never NOT_PHI', () => {
    const e = cleanEvidence();
    delete e.results.exposure;
    e.failures.push({ probe: 'exposure', kind: 'capability', capability: 'scoreText', message: 'the API cannot score text' });
    const v = decide(e, policy);
    expect(v.verdict).toBe('INCONCLUSIVE');
    expect(v.exitCode).toBe(3);
    expect(v.reasons).toContainEqual(expect.objectContaining({ probe: 'exposure', metric: 'capability:scoreText' }));
  });

  it('a required probe that did not run is INCONCLUSIVE', () => {
    const e = cleanEvidence();
    delete e.results.membership;
    expect(decide(e, policy).reasons).toContainEqual(expect.objectContaining({ probe: 'membership', metric: 'ran', outcome: 'INCONCLUSIVE' }));
  });

  it('low-FPR membership TPR significantly above the FPR is PHI', () => {
    const e = cleanEvidence();
    e.results.membership = membership([{ name: 'lira-online', members: 800, nonMembers: 1200, tpr: 0.08, auc: 0.7 }]);
    const v = decide(e, policy);
    expect(v.verdict).toBe('PHI');
    expect(v.reasons[0]).toMatchObject({ probe: 'membership', metric: 'tprAtFpr0.001:lira-online', value: 0.08, threshold: 0.01 });
  });

  it('a high TPR from a handful of canaries is not significant: INCONCLUSIVE, not PHI', () => {
    const e = cleanEvidence();
    // 3 of 30 members above every one of 30 non-members: FPR 0.001 is not resolved by 30 non-members.
    e.results.membership = membership([{ name: 'loss', members: 30, nonMembers: 30, tpr: 0.1 }]);
    const v = decide(e, policy);
    expect(v.verdict).toBe('INCONCLUSIVE');
    expect(v.reasons.find((r) => r.probe === 'membership')!.message).toMatch(/not significantly above chance/);
  });

  it('membership at chance with too few members or non-members cannot clear the model', () => {
    const e = cleanEvidence();
    e.results.membership = membership([{ name: 'loss', members: 100, nonMembers: 200, tpr: 0 }]);
    const r = decide(e, policy).reasons.find((x) => x.probe === 'membership')!;
    expect(r.outcome).toBe('INCONCLUSIVE');
    expect(r.message).toMatch(/upper bound .* exceeds 0.01 with 100 members/);
    expect(r.message).toMatch(/200 non-members cannot resolve/);
  });

  it('a refuted DP claim is PHI on its own reason', () => {
    const e = cleanEvidence();
    e.ledger = dpLedger(1);
    e.results['dp-audit'] = dpAudit(2.2, 1);
    const v = decide(e, policy);
    expect(v.verdict).toBe('PHI');
    expect(v.reasons).toEqual([expect.objectContaining({ probe: 'dp-audit', metric: 'epsilonLowerBound', value: 2.2, threshold: 1, outcome: 'PHI' })]);
    expect(v.reasons[0]!.message).toMatch(/refuted/);
  });

  it('an unrefuted DP audit is informational and says a low bound is no evidence of privacy', () => {
    const e = cleanEvidence();
    e.ledger = dpLedger(2.5);
    e.results['dp-audit'] = dpAudit(0.4, 2.5);
    const v = decide(e, policy);
    expect(v.verdict).toBe('NOT_PHI');
    expect(v.checks.find((c) => c.probe === 'dp-audit')!.message).toMatch(/not evidence of privacy/);
  });

  it('a policy requiring DP fails a non-DP model and a seeded-noise model', () => {
    const strict = { ...policy, policy: { ...policy.policy, dp: { ...policy.policy.dp, required: true } } };
    const e = cleanEvidence();
    expect(decide(e, strict).verdict).toBe('PHI');
    e.ledger = dpLedger(2.5, 'seeded');
    expect(decide(e, strict).reasons[0]!.message).toMatch(/seeded/);
    e.ledger = dpLedger(2.5);
    expect(decide(e, strict).verdict).toBe('NOT_PHI');
    e.ledger = dpLedger(5);
    expect(decide(e, strict).reasons[0]).toMatchObject({ probe: 'dp-ledger', value: 5, threshold: 3 });
  });

  it('PHI evidence wins over missing power', () => {
    const e: AuditEvidence = cleanEvidence();
    e.manifest = manifest(2, 3);
    e.results.extraction = extraction({ 16: 1 }, e.manifest);
    expect(decide(e, policy).verdict).toBe('PHI');
  });

  it('is deterministic: the same evidence and policy give the same verdict object', () => {
    expect(decide(cleanEvidence(), policy)).toEqual(decide(cleanEvidence(), policy));
  });
});

describe('review fixes', () => {
  it('F1: the manifest binding is a PASS when the model trained on the manifest output, INFO when unverifiable, INCONCLUSIVE on a mismatch', () => {
    const e = cleanEvidence();
    e.binding = { manifestOutputSha256: e.manifest.output.sha256, modelTrainingDataSha256: e.manifest.output.sha256 };
    const ok = decide(e, policy);
    expect(ok.verdict).toBe('NOT_PHI');
    expect(ok.reasons).toContainEqual(expect.objectContaining({ probe: 'manifest', outcome: 'PASS' }));

    // An API cannot state its training data: noted, but not inconclusive by construction.
    e.binding = { manifestOutputSha256: e.manifest.output.sha256, modelTrainingDataSha256: null };
    const api = decide(e, policy);
    expect(api.verdict).toBe('NOT_PHI');
    expect(api.checks).toContainEqual(expect.objectContaining({ probe: 'manifest', outcome: 'INFO', message: expect.stringMatching(/manifest binding unverified/) }));
    delete e.binding; // a report written before bindings were recorded
    expect(decide(e, policy).checks).toContainEqual(expect.objectContaining({ probe: 'manifest', outcome: 'INFO' }));

    e.binding = { manifestOutputSha256: e.manifest.output.sha256, modelTrainingDataSha256: '0'.repeat(64) };
    const wrong = decide(e, policy);
    expect(wrong.verdict).toBe('INCONCLUSIVE');
    expect(wrong.reasons).toEqual([expect.objectContaining({ probe: 'manifest', outcome: 'INCONCLUSIVE', message: expect.stringContaining('0'.repeat(64)) })]);
  });

  it('F2: no required probe passing never clears a model, and a policy must require a probe', () => {
    const none = { ...policy, policy: { ...policy.policy, requiredProbes: [] } };
    const v = decide(cleanEvidence(), none);
    expect(v.verdict).toBe('INCONCLUSIVE');
    expect(v.reasons).toEqual([expect.objectContaining({ probe: 'policy', metric: 'requiredProbesPassing', value: 0, threshold: 1 })]);

    // dp-audit alone: an unrefuted audit is no evidence of privacy.
    const dpOnly = { ...policy, policy: { ...policy.policy, requiredProbes: ['dp-audit' as const] } };
    const e: AuditEvidence = { ...cleanEvidence(), results: { 'dp-audit': dpAudit(0.2, 2.5) }, ledger: dpLedger(2.5) };
    const d = decide(e, dpOnly);
    expect(d.verdict).toBe('INCONCLUSIVE');
    expect(d.reasons[0]!.message).toMatch(/not evidence of privacy/);

    const dir = tempDir();
    const file = join(dir, 'empty-probes.json');
    writeFileSync(file, JSON.stringify({ ...policy.policy, requiredProbes: [] }));
    expect(() => loadPolicy(file)).toThrow(/empty-probes.json: \/requiredProbes: must NOT have fewer than 1 items/);
  });

  it('F3: extraction reads the never-inserted references where the probe puts them (targeted.reference)', () => {
    const e = cleanEvidence();
    // Shaped as probes/extraction.ts writes it: no repetitions-0 group, references apart.
    e.results.extraction = {
      ...extraction({}, e.manifest),
      targeted: { attempted: 600, extracted: 3, byRepetitions: [{ repetitions: 1, count: 200, extracted: 1 }, { repetitions: 4, count: 200, extracted: 1 }, { repetitions: 16, count: 200, extracted: 1 }], reference: { attempted: 1200, extracted: 6 } },
    };
    const v = decide(e, policy);
    expect(v.verdict).toBe('INCONCLUSIVE');
    const r = v.reasons.find((x) => x.probe === 'extraction')!;
    expect(r.message).toMatch(/so were 6 of 1200 never-inserted references \(Fisher p = /);
    // Without references extracted it is PHI.
    e.results.extraction.targeted.reference = { attempted: 1200, extracted: 0 };
    expect(decide(e, policy).verdict).toBe('PHI');
  });

  it("F4: a DP claim is refuted (PHI) only at the policy's confidence", () => {
    const e = cleanEvidence();
    e.ledger = dpLedger(1);
    e.results['dp-audit'] = dpAudit(2.2, 1, 0.95);
    const weak = decide(e, policy);
    expect(weak.verdict).toBe('INCONCLUSIVE');
    expect(weak.reasons).toEqual([expect.objectContaining({ probe: 'dp-audit', outcome: 'INCONCLUSIVE', message: expect.stringMatching(/at 0.95 confidence, but the policy .* 0.999 confidence/) })]);
    e.results['dp-audit'] = dpAudit(2.2, 1, 0.999);
    expect(decide(e, policy).verdict).toBe('PHI');
    const loose = { ...policy, policy: { ...policy.policy, alpha: 0.05 } };
    e.results['dp-audit'] = dpAudit(2.2, 1, 0.95);
    expect(decide(e, loose).verdict).toBe('PHI');
  });

  it('F4: audit runs dp-audit at 1 - alpha unless the user chose a higher confidence', () => {
    expect(probeOptionsFor('dp-audit', policy.policy, {})).toEqual({ confidence: 0.999 });
    expect(probeOptionsFor('dp-audit', policy.policy, { confidence: '0.9999', method: 'one-run' })).toEqual({ confidence: 0.9999, method: 'one-run' });
    expect(() => probeOptionsFor('dp-audit', policy.policy, { confidence: '0.99' })).toThrow(/1 - alpha = 0.999/);
  });

  function estimated(bitsOf: (i: number) => number, estimator: 'importance' | 'skew-normal' | undefined, samples: number | undefined) {
    const e = cleanEvidence();
    const ex = exposure((_r, i) => bitsOf(i), e.manifest);
    ex.mode = 'estimated';
    if (samples !== undefined) ex.candidatesPerCanary = samples;
    else delete ex.candidatesPerCanary;
    for (const c of ex.canaries) {
      c.method = 'estimated';
      if (estimator) c.estimator = estimator;
    }
    e.results.exposure = ex;
    return e;
  }

  it('F5: an estimated exposure clears a canary only within what its samples resolve', () => {
    // 2040 skew-normal samples resolve log2(2040 / 10) = 7.67 bits; 9 bits is the fitted tail.
    const tail = decide(estimated((i) => (i === 0 ? 9 : 1), 'skew-normal', 2040), policy);
    expect(tail.verdict).toBe('INCONCLUSIVE');
    expect(tail.reasons).toEqual([expect.objectContaining({ probe: 'exposure', metric: 'maxExposureBits', outcome: 'INCONCLUSIVE', message: expect.stringMatching(/2040 sampled candidates resolve \(about 7.672 bits.*extrapolated tail.*about 10240 samples/) })]);
    // The same value from 2000 importance draws (log2 2000 = 10.97 bits) is resolved.
    const imp = decide(estimated((i) => (i === 0 ? 9 : 1), 'importance', 2000), policy);
    expect(imp.verdict).toBe('NOT_PHI');
    expect(imp.reasons.find((r) => r.probe === 'exposure')!.message).toMatch(/estimated \(importance\), each within the about 10.97 bits/);
    // Low skew-normal estimates inside the sampled range pass; an unknown sample count never does.
    expect(decide(estimated(() => 1, 'skew-normal', 2040), policy).verdict).toBe('NOT_PHI');
    expect(decide(estimated(() => 1, undefined, undefined), policy).verdict).toBe('INCONCLUSIVE');
    // A memorized canary stays PHI however it was estimated.
    expect(decide(estimated((i) => (i === 0 ? 29 : 1), 'skew-normal', 2040), policy).verdict).toBe('PHI');
  });

  it("F5: the verdict's skew-normal resolution constant is the estimator's", () => {
    expect(SKEW_NORMAL_MIN_BELOW).toBe(EMPIRICAL_MIN_BELOW);
  });

  it('F6: a NaN or missing exposure among inserted canaries is INCONCLUSIVE, and PHI elsewhere still wins', () => {
    const e = cleanEvidence();
    e.results.exposure = exposure((r, i) => (r === 4 && i === 3 ? Number.NaN : 1), e.manifest);
    const v = decide(e, policy);
    expect(v.verdict).toBe('INCONCLUSIVE');
    expect(v.reasons).toEqual([expect.objectContaining({ probe: 'exposure', metric: 'unmeasuredCanaries', value: 1, message: expect.stringMatching(/canary c4-3/) })]);
    // As read back from report.json ("NaN" string).
    (e.results.exposure.canaries[0] as { exposureBits: unknown }).exposureBits = 'NaN';
    expect(decide(e, policy).reasons[0]!.value).toBe(2);
    e.results.exposure = exposure((r, i) => (r === 4 && i === 3 ? Number.NaN : r === 16 && i === 0 ? 29 : 1), e.manifest);
    expect(decide(e, policy).verdict).toBe('PHI');
  });
});

describe('policy files', () => {
  it('the default policy validates and documents every threshold', () => {
    const p = policy.policy;
    expect(p.requiredProbes).toEqual(['exposure', 'extraction', 'membership']);
    for (const section of [p.power, p.exposure, p.extraction, p.membership, p.dp]) expect(section.why!.length).toBeGreaterThan(80);
    expect(policy.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a malformed policy is one line naming the file and the place', () => {
    const dir = tempDir();
    const file = join(dir, 'p.json');
    writeFileSync(file, JSON.stringify({ ...policy.policy, exposure: { ...policy.policy.exposure, maxBits: 'ten' } }));
    expect(() => loadPolicy(file)).toThrow(`${file}: /exposure/maxBits: must be number`);
    writeFileSync(file, '{"version": 1,');
    expect(() => loadPolicy(file)).toThrow(/not valid JSON/);
  });
});

describe('fisherExactGreater', () => {
  it('matches hand-computed hypergeometric tails', () => {
    // 3/3 vs 0/3: P = 1 / C(6,3) = 0.05
    expect(fisherExactGreater(3, 3, 0, 3)).toBeCloseTo(0.05, 10);
    // 1/2 vs 1/2: P(X>=1) = 1 - C(2,0)C(2,2)/C(4,2) = 5/6
    expect(fisherExactGreater(1, 2, 1, 2)).toBeCloseTo(5 / 6, 10);
  });
});
