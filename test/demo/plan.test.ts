/**
 * The full demo's sizes come from `plan` and let its DP model clear: its guarantee passes every
 * planted count and membership by theorem, and its notes hold plan's holdout plus members.
 */
import { describe, expect, it } from 'vitest';
import { demoAuditPlan, demoDelta, demoFullNotes, demoPlan, demoPlanCommand, demoRepetitions, demoTargetEpsilon } from '../../src/demo/plan.js';
import { defaultPolicy } from '../../src/policy/load.js';
import { runCli } from '../helpers/cli.js';

describe('demo plan', () => {
  const full = demoPlan(false);
  const quick = demoPlan(true);

  it("the full demo plants plan's sizes, and its DP guarantee stands in for every check it covers", () => {
    expect(full.audit).toEqual(demoAuditPlan());
    expect(full.audit.standIn).toEqual({ epsilon: demoTargetEpsilon, delta: demoDelta, membership: true, repetitions: demoRepetitions });
    expect(full.holdout).toBe(full.audit.holdout);
    expect(full.notes).toBe(demoFullNotes);
    expect(full.notes).toBeGreaterThanOrEqual(full.audit.holdout + full.audit.members);
    const dp = full.runs.find((r) => r.name === 'dp')!.train;
    expect(dp).toMatchObject({ dp: true, targetEpsilon: demoTargetEpsilon, delta: demoDelta });
    expect(dp.targetEpsilon!).toBeLessThanOrEqual(defaultPolicy().policy.dp.maxEpsilon);
  });

  it('the quick demo plants the same canaries but cannot hold the holdout (so it says what a full audit needs)', () => {
    expect(quick.audit).toEqual(full.audit);
    expect(quick.holdout).toBeLessThan(full.audit.holdout);
    expect(quick.notes).toBeGreaterThan(quick.holdout);
  });

  it('the plan command the demo prints runs as printed and gives the sizes it plants', async () => {
    const [npx, memaudit, ...args] = demoPlanCommand.split(' ');
    expect([npx, memaudit]).toEqual(['npx', 'memaudit']);
    const r = await runCli([...args, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { commands: _commands, ...sizes } = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(sizes).toEqual(JSON.parse(JSON.stringify(demoAuditPlan())));
  });
});
