import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultPolicy } from '../../src/policy/load.js';
import { exposureFailure, ImpossiblePlan, membershipFailure, nullUnresolvedRate, planAudit, plannedStandIn, planTargetNotPhi, sampledExposureInterval } from '../../src/policy/plan.js';
import { groupPrivacyExposureBound } from '../../src/policy/checks/dp.js';
import { runCli, tempDir } from '../helpers/cli.js';

const policy = defaultPolicy().policy;
const mrnBits = Math.log2(1e8);

describe('plan sizing (pure)', () => {
  const plan = planAudit({ policy, datasetSize: 10_000, repetitions: [1, 4], spaceSizeLog2: mrnBits, exposureMode: 'estimated' });
  const budget = (1 - planTargetNotPhi) / (2 + policy.membership.attacks.length);

  it('gives each covered count the fewest canaries whose null failure fits its share of the 5% budget', () => {
    expect(Object.keys(plan.canaries)).toEqual(['1', '4']);
    const n = plan.canaries['1']!;
    expect(plan.canaries['4']).toBe(n);
    const rate = nullUnresolvedRate(policy, 'estimated', mrnBits);
    expect(exposureFailure(n, rate, policy)).toBeLessThanOrEqual(budget);
    for (let fewer = 59; fewer < n; fewer++) expect(exposureFailure(fewer, rate, policy)).toBeGreaterThan(budget);
    expect(plan.pNotPhiNull).toBeGreaterThanOrEqual(planTargetNotPhi);
    expect(plan.pPhiAtEffect).toBeGreaterThan(0.3);
    expect(plan.references).toBe(policy.power.minReferenceCanaries);
  });

  it('sizes the holdout to resolve the FPR and the members so each attack clears a null model within its share', () => {
    expect(plan.holdout % 1000).toBe(0);
    expect(membershipFailure(plan.members, plan.holdout, policy)).toBeLessThanOrEqual(budget);
    expect(membershipFailure(plan.members - 1, plan.holdout, policy)).toBeGreaterThan(budget);
    expect(membershipFailure(plan.members, 999, policy)).toBe(1);
  });

  it("the null model's unresolved rate is the share of sample counts whose interval reaches over maxBits", () => {
    const rate = nullUnresolvedRate(policy, 'estimated', mrnBits);
    const samples = policy.exposure.maxSamples;
    let unresolved = 0;
    for (let k = 0; k <= 200; k++) if (sampledExposureInterval(k, samples, policy.exposure.intervalConfidence, mrnBits).upper > policy.exposure.maxBits) unresolved++;
    expect(rate).toBeCloseTo(unresolved / (samples + 1), 12);
    expect(rate).toBeGreaterThan(2 ** -10);
    expect(nullUnresolvedRate(policy, 'exact', 19.9)).toBe(2 ** -10);
    // Exact ranks never straddle: fewer canaries do.
    expect(planAudit({ policy, datasetSize: 10_000, repetitions: [1], spaceSizeLog2: 19.9, exposureMode: 'exact' }).canaries['1']).toBeLessThan(plan.canaries['1']!);
  });

  it('refuses what cannot be met: a secret space at or under maxBits, a dataset smaller than holdout + members', () => {
    expect(() => planAudit({ policy, datasetSize: 10_000, repetitions: [1], spaceSizeLog2: 9.97, exposureMode: 'exact' })).toThrow(ImpossiblePlan);
    expect(() => planAudit({ policy, datasetSize: 5000, repetitions: [1, 4], spaceSizeLog2: mrnBits, exposureMode: 'estimated' })).toThrow(/dataset \(5000 records\) is too small for the holdout \(3000 .*\) plus 3205 members/);
  });
});

describe('plan sizing with a DP guarantee standing in', () => {
  const request = { policy, datasetSize: 10_000, repetitions: [1, 4], spaceSizeLog2: mrnBits, exposureMode: 'estimated' as const };
  const membershipBound = (eps: number, delta: number) => Math.exp(eps) * Number(policy.membership.fpr) + delta;

  it("uses the verdict's stand-in rule: membership iff e^eps fpr + delta <= maxTpr, count r iff the group-privacy bound <= maxFraction", () => {
    for (const eps of [0.25, 0.9, 0.97, 0.98, 2, 2.3, 2.31, 3]) {
      const plan = planAudit({ ...request, repetitions: [1, 4, 16], dp: { epsilon: eps, delta: 1e-5 } });
      expect(plan.standIn!.membership).toBe(membershipBound(eps, 1e-5) <= policy.membership.maxTpr);
      expect(plan.standIn!.repetitions).toEqual([1, 4, 16].filter((r) => groupPrivacyExposureBound(eps, 1e-5, r, policy.exposure.maxBits) <= policy.exposure.maxFraction));
      const standIn = plannedStandIn(policy, { epsilon: eps, delta: 1e-5 });
      expect(standIn.usable).toBe(true);
      expect(standIn.membershipTprBound).toBeCloseTo(membershipBound(eps, 1e-5), 15);
    }
    // The thresholds the README names: membership up to eps ~2.3, 4x exposure up to eps ~0.97.
    expect(planAudit({ ...request, dp: { epsilon: 2.3, delta: 1e-5 } }).standIn).toMatchObject({ membership: true, repetitions: [1] });
    expect(planAudit({ ...request, dp: { epsilon: 2.31, delta: 1e-5 } }).standIn).toMatchObject({ membership: false, repetitions: [1] });
    expect(planAudit({ ...request, dp: { epsilon: 0.9, delta: 1e-5 } }).standIn).toMatchObject({ membership: true, repetitions: [1, 4] });
  });

  it('sizes only what must clear empirically: all by theorem keeps the floors and a 1/fpr holdout; eps 2 still sizes the 4x count', () => {
    const all = planAudit({ ...request, datasetSize: 2000, dp: { epsilon: 0.9, delta: 1e-5 } });
    expect(all).toMatchObject({ canaries: { 1: policy.power.minCanariesPerRepetition, 4: policy.power.minCanariesPerRepetition }, references: 20, holdout: 1000, members: 1000, pNotPhiNull: 1 });
    const partial = planAudit({ ...request, dp: { epsilon: 2, delta: 1e-5 } });
    const noDp = planAudit(request);
    // One empirical check (4x exposure) gets the whole 5% budget: fewer canaries than when six checks share it, still >= 59.
    expect(partial.canaries['4']).toBeLessThan(noDp.canaries['4']!);
    expect(partial.canaries['4']).toBeGreaterThanOrEqual(59);
    expect(partial.canaries['1']).toBe(partial.canaries['4']);
    const rate = nullUnresolvedRate(policy, 'estimated', mrnBits);
    expect(exposureFailure(partial.canaries['4']!, rate, policy)).toBeLessThanOrEqual(1 - planTargetNotPhi);
    expect(exposureFailure(partial.canaries['4']! - 1, rate, policy)).toBeGreaterThan(1 - planTargetNotPhi);
    expect(partial.holdout).toBe(1000);
    expect(noDp.standIn).toBeUndefined();
  });

  it('a policy without the stand-in plans as without DP', () => {
    const strict = { ...policy, dp: { ...policy.dp, standIn: false } };
    const plan = planAudit({ ...request, policy: strict, dp: { epsilon: 0.5, delta: 1e-5 } });
    expect(plan.standIn).toMatchObject({ membership: false, repetitions: [] });
    expect(plan).toMatchObject({ canaries: { 1: 124, 4: 124 }, holdout: 3000, members: 3205 });
  });
});

describe('memaudit plan (CLI)', () => {
  it('--json prints exactly the sizes, the probabilities and the commands', async () => {
    const r = await runCli(['plan', '--dataset-size', '10000', '--repetitions', '1,4', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['canaries', 'references', 'holdout', 'members', 'pNotPhiNull', 'pPhiAtEffect', 'commands']);
    expect(out).toMatchObject({ canaries: { 1: 124, 4: 124 }, references: 20, holdout: 3000, members: 3205 });
    expect(out.commands).toEqual([
      'memaudit canary generate --pack mrn --count 268 --out canaries.json',
      'memaudit canary insert --data data.jsonl --canaries canaries.json --repetitions 1,4 --references 20 --holdout 3000 --out train.jsonl --manifest manifest.json',
      'memaudit audit --target MODEL --manifest manifest.json --out RUN_DIR',
    ]);
  });

  it('--dp-epsilon/--dp-delta name what passes by theorem and print the signed train and trusted audit commands', async () => {
    const r = await runCli(['plan', '--dataset-size', '2000', '--repetitions', '1,4', '--dp-epsilon', '0.9', '--dp-delta', '1e-5', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ canaries: { 1: 5, 4: 5 }, holdout: 1000, members: 1000, standIn: { epsilon: 0.9, delta: 1e-5, membership: true, repetitions: [1, 4] } });
    expect(out.commands.slice(2)).toEqual([
      'memaudit train --data train.jsonl --model charlm --dp --target-epsilon 0.9 --delta 0.00001 --out MODEL --sign-key keys/memaudit.key',
      'memaudit audit --target MODEL --manifest manifest.json --trust-key keys/memaudit.pub --out RUN_DIR',
    ]);
    const half = await runCli(['plan', '--dataset-size', '2000', '--dp-epsilon', '0.9']);
    expect(half.code).toBe(2);
    expect(half.stderr.trim()).toBe('memaudit plan: give --dp-epsilon E and --dp-delta D together (the DP guarantee the model will be trained with)');
  });

  it('counts --data records with the streaming reader and exits 2 with the reason when they are too few', async () => {
    const dir = tempDir();
    const data = join(dir, 'notes.jsonl');
    writeFileSync(data, Array.from({ length: 40 }, (_, i) => JSON.stringify({ text: `note ${i}` })).join('\n\n') + '\n');
    const r = await runCli(['plan', '--data', data]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual(['memaudit plan: the dataset (40 records) is too small for the holdout (3000 records withheld as non-members) plus 3205 members the policy\'s membership test needs']);
  });

  it('an API that cannot score text, or a secret space too small, is exit 2 with one line', async () => {
    const api = await runCli(['plan', '--dataset-size', '10000', '--target-kind', 'api', '--scoring', 'no']);
    expect(api.code).toBe(2);
    expect(api.stderr).toMatch(/^memaudit plan: an API target that cannot score text cannot run exposure or membership .* NOT_PHI/);
    const dir = tempDir();
    const pack = join(dir, 'tiny.json');
    writeFileSync(pack, JSON.stringify({ version: 1, name: 'tiny', kind: 'text', format: 'digits', description: 'three digits', template: 'code {secret}', secret: [{ format: 'digits', params: { length: 3 } }] }));
    const tiny = await runCli(['plan', '--dataset-size', '10000', '--pack', pack]);
    expect(tiny.code).toBe(2);
    expect(tiny.stderr).toMatch(/^memaudit plan: the secret space \(9.97 bits\) cannot exceed the policy's exposure.maxBits \(10\)/);
  });
});
