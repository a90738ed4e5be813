/**
 * Membership inference at the policy's low FPR (Carlini et al. 2022), per attack.
 *
 * - Clean: every attack the policy names is present, has at least 1/fpr non-members (so the FPR
 *   is resolved), and the Clopper-Pearson upper bound at 1 - beta of its TPR is at most maxTpr.
 * - PHI: TPR > maxTpr and, under exchangeable scores (the null: membership does not change a
 *   record's score), the members ranked above the threshold's non-member are significantly many
 *   (exact negative-hypergeometric tail, docs/SCIENCE.md) at the Bonferroni share of alpha.
 */
import type { MembershipAttackResult, MembershipResult } from '../../../probes/types.js';
import { proportionUpperBound, trialsToClearAtRate } from '../bounds.js';
import { membersAboveUpperTail } from '../stats.js';
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
  const truePositives = Math.min(members, Math.ceil(tpr * members - 1e-9));
  const upper = proportionUpperBound(truePositives, members, p.beta);
  const minNonMembers = Math.ceil(1 / fpr);
  if (upper <= maxTpr && nonMembers >= minNonMembers) {
    return reason({ ...base, outcome: 'PASS', message: `${a.name}: TPR ${fmt(tpr)} at ${fpr} FPR, ${fmt(1 - p.beta)} upper bound ${fmt(upper)} <= ${maxTpr} (${sizes})` });
  }
  const theorem = context.standIn.membershipTprBound;
  if (required && theorem !== null && theorem <= maxTpr) {
    return reason({ ...base, outcome: 'PASS', message: `${a.name} passes by theorem: ${context.standIn.basis} bounds every attack's TPR at ${fpr} FPR by e^eps fpr + delta = ${fmt(theorem)} <= ${maxTpr} (measured TPR ${fmt(tpr)}, ${sizes})` });
  }
  const need: string[] = [];
  if (upper > maxTpr) {
    const needed = trialsToClearAtRate(truePositives / members, maxTpr, p.beta);
    need.push(`its upper bound ${fmt(upper)} exceeds ${maxTpr} with ${members} members${needed === null ? '' : ` (about ${needed} members would clear at this rate)`}`);
  }
  if (nonMembers < minNonMembers) need.push(`${nonMembers} non-members cannot resolve ${fpr} FPR (needs >= ${minNonMembers})`);
  return reason({ ...base, outcome: notDeciding, message: `${a.name}: TPR ${fmt(tpr)} at ${fpr} FPR is under ${maxTpr} but ${need.join(' and ')}` });
}

export function membershipChecks(r: MembershipResult, context: CheckContext): CheckResult {
  const required = context.policy.membership.attacks;
  const reasons = r.attacks.map((a) => attackReason(a, required.includes(a.name), context));
  for (const name of required.filter((x) => !r.attacks.some((a) => a.name === x))) {
    reasons.push(
      reason({
        probe: 'membership',
        metric: `tprAtFpr${context.policy.membership.fpr}:${name}`,
        threshold: context.policy.membership.maxTpr,
        comparator: '<=',
        outcome: 'INCONCLUSIVE',
        message: `${name}: the policy requires this attack and the result has none (a dropped attack cannot clear the model)`,
      }),
    );
  }
  return { reasons };
}
