/**
 * `probe membership`: membership-inference attacks on candidate records (manifest canaries, real
 * training records vs the manifest's holdout, or the user's member/non-member files), each reported with AUC and TPR at 0.1%, 1% and 10% FPR
 * with bootstrap confidence intervals. Gate on the low-FPR TPR, never on AUC alone.
 */
import type { BackendPreference } from '../../src/core/backend.js';
import { fmt } from '../../src/core/format.js';
import { probeRunInfo } from '../common.js';
import { attackMetrics } from '../metrics.js';
import type { ProbeContext, ProbeModule } from '../registry.js';
import { membershipSpec } from '../specs.js';
import { membershipResultSchema as resultSchema } from '../schemas.js';
import type { MembershipAttackResult, MembershipResult } from '../types.js';
import { runAttacks, type AttackRun } from './attacks.js';
import type { CandidateSet } from './candidates.js';
import { attackOptionsFor, candidateSetFor } from './options.js';

export interface MembershipProbeResult extends MembershipResult {
  /** Attacks that could not run on this target, and why. */
  skipped: { attack: string; reason: string }[];
  /** LiRA's shadow models: how many, how many were trained now vs found in the cache. */
  shadows?: AttackRun['shadows'];
  /** Balanced accuracy of each attack (best threshold), by name. */
  balancedAccuracy: Record<string, number>;
}

/** Runs the attacks and scores them against the ground truth. */
export async function runMembership(ctx: ProbeContext, set: CandidateSet): Promise<{ run: AttackRun; attacks: MembershipAttackResult[]; balanced: Record<string, number> }> {
  const options = await attackOptionsFor(ctx, set, ctx.backend as BackendPreference);
  try {
    const run = await runAttacks(ctx.target, set, {
      ...options,
      onBatch: (done, total) => ctx.progress.step('membership candidates scored', done, total),
    });
    const resamples = typeof ctx.options.bootstrap === 'number' ? ctx.options.bootstrap : 200;
    const attacks: MembershipAttackResult[] = [];
    const balanced: Record<string, number> = {};
    for (const [name, scores] of Object.entries(run.scores)) {
      const members = scores.filter((_, i) => set.candidates[i]!.member);
      const nonMembers = scores.filter((_, i) => !set.candidates[i]!.member);
      const metrics = attackMetrics(members, nonMembers, resamples > 0 ? { bootstrap: { rng: ctx.rng.fork(`bootstrap/${name}`), resamples } } : {});
      attacks.push({
        name,
        members: metrics.members,
        nonMembers: metrics.nonMembers,
        auc: metrics.auc,
        tprAtFpr: metrics.tprAtFpr,
        ...(metrics.aucInterval ? { aucInterval: metrics.aucInterval } : {}),
        ...(metrics.tprAtFprInterval ? { tprAtFprInterval: metrics.tprAtFprInterval } : {}),
        roc: metrics.roc,
      });
      balanced[name] = metrics.balancedAccuracy;
    }
    return { run, attacks, balanced };
  } finally {
    await options.reference?.close();
  }
}

export const membershipProbe: ProbeModule<MembershipProbeResult> = {
  ...membershipSpec,
  needs: (c) => (c.scoreText || c.classProbabilities ? null : 'needs per-token log-probabilities of given text (scoreText) or class probabilities'),
  resultSchema,
  async run(ctx) {
    const started = new Date();
    const set = await candidateSetFor(ctx);
    const { run, attacks, balanced } = await runMembership(ctx, set);
    return {
      ...probeRunInfo(ctx, 'membership', started),
      population: set.population,
      ...(set.records ? { records: set.records } : {}),
      attacks,
      skipped: run.skipped,
      ...(run.shadows ? { shadows: run.shadows } : {}),
      balancedAccuracy: balanced,
    };
  },
  summary(result) {
    const rows: (string | number | null)[][] = [['attack', 'members', 'non-members', 'AUC', 'TPR@0.1%', 'TPR@1%', 'TPR@10%']];
    for (const a of result.attacks) {
      rows.push([a.name, a.members, a.nonMembers, fmt(a.auc, 3), fmt(a.tprAtFpr['0.001'], 3), fmt(a.tprAtFpr['0.01'], 3), fmt(a.tprAtFpr['0.1'], 3)]);
    }
    return rows;
  },
};
