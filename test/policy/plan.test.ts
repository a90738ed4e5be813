import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultPolicy } from '../../src/policy/load.js';
import { exposureFailure, ImpossiblePlan, membershipFailure, nullUnresolvedRate, planAudit, planTargetNotPhi, sampledExposureInterval } from '../../src/policy/plan.js';
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
