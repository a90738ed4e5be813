/**
 * Membership inference at the policy's low FPR (Carlini et al. 2022), per attack.
 *
 * - Clean: every attack the policy names is present, has at least 1/fpr non-members (so the FPR
 *   is resolved), and its TPR is bounded under maxTpr at 1 - beta. The empirical threshold's true
 *   FPR is random, so beta is split: the TPR is read at a non-member rank whose true FPR is >= fpr
 *   with probability >= 1 - beta/2, and its Clopper-Pearson upper bound at 1 - beta/2 must be at
 *   most maxTpr (docs/SCIENCE.md, "Membership clean bound").
 * - PHI: TPR > maxTpr and, under exchangeable scores (the null: membership does not change a
 *   record's score), the members ranked above the threshold's non-member are significantly many
 *   (exact negative-hypergeometric tail, docs/SCIENCE.md) at the Bonferroni share of alpha.
 */
import type { FprKey, MembershipAttackResult, MembershipResult } from '../../../probes/types.js';
import { proportionUpperBound, trialsToClearAtRate } from '../bounds.js';
import { binomialUpperTail, membersAboveUpperTail } from '../stats.js';
import type { Policy } from '../types.js';
import type { CheckContext, CheckResult } from './context.js';
import { fmt, num, reason, type Reason } from './reason.js';

/**
 * The non-member rank s whose score is the threshold TPR at `fpr` reads: with n non-members and
 * distinct scores, TPR(fpr) counts the members above the (floor(fpr n) + 1)-th highest non-member
 * (probes/metrics.ts tprAtFpr takes the last ROC vertex with FPR <= fpr).
 */
export function thresholdNonMemberRank(fpr: number, nonMembers: number): number {
  return Math.floor(fpr * nonMembers + 1e-9) + 1;
}

/**
 * The non-member rank whose score is a threshold with true FPR >= fpr with probability >= 1 - risk:
 * the s-th highest of n non-member scores has true FPR below fpr exactly when more than s - 1 of
 * the n fall above the fpr-quantile, P(Binomial(n, fpr) >= s).
 */
export function hedgedNonMemberRank(fpr: number, nonMembers: number, risk: number): number {
  const key = `${fpr}/${nonMembers}/${risk}`;
  let rank = hedgedRanks.get(key);
  if (rank === undefined) {
    rank = 1;
    while (rank <= nonMembers && binomialUpperTail(rank, nonMembers, fpr) > risk) rank++;
    if (hedgedRanks.size > 10_000) hedgedRanks.clear();
    hedgedRanks.set(key, rank);
  }
  return rank;
}
const hedgedRanks = new Map<string, number>();

/**
 * TPR at the hedged threshold (members above the rank-th non-member) from the result's ROC: the
 * first vertex past FPR (rank - 1)/n, exact for the probe's ROC, an over-estimate where it was
 * thinned. Without a ROC, the TPR at the smallest reported FPR at or above that point (also an
 * over-estimate); null when none is.
 */
export function hedgedTpr(a: MembershipAttackResult, rank: number): number | null {
  const target = (rank - 1) / a.nonMembers;
  if (a.roc && a.roc.fpr.length === a.roc.tpr.length) {
    const index = a.roc.fpr.findIndex((f) => num(f) > target + 1e-12);
    return index < 0 ? 1 : num(a.roc.tpr[index]);
  }
  const keys = (Object.keys(a.tprAtFpr) as FprKey[]).filter((k) => Number(k) >= target - 1e-12).sort((x, y) => Number(x) - Number(y));
  return keys.length > 0 ? num(a.tprAtFpr[keys[0]!]) : null;
}

/** The clean bound: the TPR upper bound at the hedged threshold (each half of beta spent on one of the two uncertainties). */
export function membershipCleanBound(a: MembershipAttackResult, p: Policy): { upper: number; tpr: number | null; readAtFpr: number } {
  const rank = hedgedNonMemberRank(Number(p.membership.fpr), a.nonMembers, p.beta / 2);
  const tpr = hedgedTpr(a, rank);
  if (tpr === null || !Number.isFinite(tpr)) return { upper: 1, tpr: null, readAtFpr: rank / a.nonMembers };
  const truePositives = Math.min(a.members, Math.ceil(tpr * a.members - 1e-9));
  return { upper: proportionUpperBound(truePositives, a.members, p.beta / 2), tpr, readAtFpr: rank / a.nonMembers };
}

/** Exact p-value of "members rank above chance" for a TPR read at `fpr`. */
export function membershipPValue(tpr: number, fpr: number, members: number, nonMembers: number): number {
  const truePositives = Math.min(members, Math.floor(tpr * members + 1e-9));
  return membersAboveUpperTail(truePositives, thresholdNonMemberRank(fpr, nonMembers), members, nonMembers);
}

function attackReason(a: MembershipAttackResult, required: boolean, context: CheckContext): Reason {
  const p = context.policy;
  const fpr = Number(p.membership.fpr);
  const maxTpr = p.membership.maxTpr;
  const tpr = num(a.tprAtFpr[p.membership.fpr]);
  const members = a.members;
  const nonMembers = a.nonMembers;
  const base = { probe: 'membership' as const, metric: `tprAtFpr${p.membership.fpr}:${a.name}`, value: tpr, threshold: maxTpr, comparator: '<=' as const };
  const notDeciding = required ? 'INCONCLUSIVE' : 'INFO';
  if (!(members > 0 && nonMembers > 0) || !Number.isFinite(tpr)) {
    return reason({ ...base, outcome: notDeciding, message: `${a.name}: no usable TPR at ${fpr} FPR (${members} members, ${nonMembers} non-members)` });
  }
  const pValue = membershipPValue(tpr, fpr, members, nonMembers);
  const sizes = `${members} members / ${nonMembers} non-members`;
  if (tpr > maxTpr && pValue <= context.alphaPerTest) {
    return reason({ ...base, outcome: 'PHI', message: `${a.name}: TPR ${fmt(tpr)} at ${fpr} FPR > ${maxTpr}, significantly above chance (exact p = ${fmt(pValue)} <= ${fmt(context.alphaPerTest)}, ${sizes}, AUC ${fmt(num(a.auc))})` });
  }
  if (tpr > maxTpr) {
    return reason({ ...base, outcome: notDeciding, message: `${a.name}: TPR ${fmt(tpr)} at ${fpr} FPR > ${maxTpr} but not significantly above chance (exact p = ${fmt(pValue)} > ${fmt(context.alphaPerTest)} with ${sizes})` });
  }
  const { upper, tpr: hedged, readAtFpr } = membershipCleanBound(a, p);
  const minNonMembers = Math.ceil(1 / fpr);
  const reading = `read at the threshold of FPR ${fmt(readAtFpr)} (true FPR >= ${fpr} at ${fmt(1 - p.beta / 2)}): TPR ${hedged === null ? 'unknown' : fmt(hedged)}, ${fmt(1 - p.beta / 2)} upper bound ${fmt(upper)}`;
  if (upper <= maxTpr && nonMembers >= minNonMembers) {
    return reason({ ...base, outcome: 'PASS', message: `${a.name}: TPR ${fmt(tpr)} at ${fpr} FPR; ${reading} <= ${maxTpr} (${sizes})` });
  }
  const theorem = context.standIn.membershipTprBound;
  if (required && theorem !== null && theorem <= maxTpr) {
    return reason({ ...base, outcome: 'PASS', message: `${a.name} passes by theorem: ${context.standIn.basis} bounds every attack's TPR at ${fpr} FPR by e^eps fpr + delta = ${fmt(theorem)} <= ${maxTpr} (measured TPR ${fmt(tpr)}, ${sizes})` });
  }
  const need: string[] = [];
  if (upper > maxTpr) {
    const needed = hedged === null ? null : trialsToClearAtRate(hedged, maxTpr, p.beta / 2);
    need.push(`${reading} exceeds ${maxTpr} with ${members} members${needed === null ? '' : ` (about ${needed} members would clear at this rate)`}`);
  }
  if (nonMembers < minNonMembers) need.push(`${nonMembers} non-members cannot resolve ${fpr} FPR (needs >= ${minNonMembers})`);
  return reason({ ...base, outcome: notDeciding, message: `${a.name}: TPR ${fmt(tpr)} at ${fpr} FPR is under ${maxTpr} but ${need.join(' and ')}` });
}

export function membershipChecks(r: MembershipResult, context: CheckContext): CheckResult {
  const required = context.policy.membership.attacks;
  const reasons = r.attacks.map((a) => attackReason(a, required.includes(a.name), context));
  const theorem = context.standIn.membershipTprBound;
  const byTheorem = theorem !== null && theorem <= context.policy.membership.maxTpr;
  for (const name of required.filter((x) => !r.attacks.some((a) => a.name === x))) {
    reasons.push(
      reason({
        probe: 'membership',
        metric: `tprAtFpr${context.policy.membership.fpr}:${name}`,
        threshold: context.policy.membership.maxTpr,
        comparator: '<=',
        outcome: byTheorem ? 'PASS' : 'INCONCLUSIVE',
        message: byTheorem
          ? `${name} passes by theorem: the result has no such attack, but ${context.standIn.basis} bounds every attack's TPR at ${context.policy.membership.fpr} FPR by e^eps fpr + delta = ${fmt(theorem)} <= ${context.policy.membership.maxTpr}`
          : `${name}: the policy requires this attack and the result has none (a dropped attack cannot clear the model)`,
      }),
    );
  }
  return { reasons };
}
