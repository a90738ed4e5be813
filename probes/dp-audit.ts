/**
 * `probe dp-audit`: an empirical lower bound on the model's epsilon from canary membership
 * scores, tested against the DP claim in its privacy.json (or --claimed-epsilon). A bound above
 * the claim refutes it: the DP implementation or its accounting is wrong. A low bound is NOT
 * evidence of privacy: no bound from this many canaries can exceed the reported ceiling.
 *
 * Canaries come from the manifest: inserted ones are the "in" world, never-inserted ones the
 * "out" world. `--method one-run` (default for `canary insert --mode bernoulli` manifests, where
 * each canary was inserted with probability 1/2) is the Steinke-Nasr-Jagielski one-run audit;
 * `clopper-pearson` (default otherwise) treats canaries as independent trials. The statistics are
 * in ./membership/audit-bounds.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EPSILON_RELATIVE_TOLERANCE, readPrivacyLedger } from '../src/accounting/index.js';
import { verifyModelDirLedger } from '../src/report/dp-claim.js';
import type { BackendPreference } from '../src/core/backend.js';
import { ExitCode, UsageError, InconclusiveError } from '../src/core/errors.js';
import { fmt } from '../src/core/format.js';
import { parseTargetSpec } from '../src/targets/index.js';
import { probeRunInfo } from './common.js';
import type { ProbeContext, ProbeModule } from './registry.js';
import { dpAuditSpec } from './specs.js';
import { dpAuditResultSchema as resultSchema } from './schemas.js';
import type { DpAuditResult } from './types.js';
import { attackNames, runAttacks, type AttackName } from './membership/attacks.js';
import { candidatesFromManifest, type CandidateSet } from './membership/candidates.js';
import { attackOptionsFor } from './membership/options.js';
import { secretLogProbabilities } from './membership/secret-signal.js';
import { clopperPearsonBonferroni, clopperPearsonSplit, oneRunAudit, type AuditBound, type ThresholdStrategy } from './membership/audit-bounds.js';

export interface DpAuditProbeResult extends DpAuditResult {
  /** The membership attack whose scores were audited. */
  attack: string;
  members: number;
  nonMembers: number;
  /** Copies of each member canary in the training data; the bound is per record (group privacy). */
  groupSize: number;
  thresholdStrategy: ThresholdStrategy;
  /** Tests the significance was divided among (Bonferroni), 1 for a split. */
  hypotheses: number;
  /** One-run: guesses made and how many were right. */
  guesses?: number;
  correct?: number;
  /** Where the claim came from. */
  claimSource: 'privacy.json' | 'flag' | 'none';
  /** privacy.json: the epsilon it records (claimedEpsilon is the one recomputed from its parameters). */
  recordedEpsilon?: number;
  /** privacy.json: the fields that do not recompute or match the training config (docs/SCIENCE.md "Verifying a DP claim"). */
  ledgerMismatches?: string[];
  note: string;
}

/** A membership attack, or the secret's log-probability given its prefix (text canaries). */
type DpAuditAttack = AttackName | 'secret';

interface Claim {
  epsilon: number | null;
  delta: number | null;
  source: DpAuditProbeResult['claimSource'];
  recorded?: number;
  mismatches?: string[];
}

/**
 * --claimed-epsilon, else the DP ledger of a local model directory, with epsilon recomputed from
 * the ledger's own parameters: a hand-edited epsilon is not what gets tested.
 */
function claimFor(ctx: ProbeContext): Claim {
  const flag = ctx.options.claimedEpsilon;
  if (typeof flag === 'number') return { epsilon: flag, delta: null, source: 'flag' };
  const spec = parseTargetSpec(ctx.targetDescriptor.target);
  if (spec.kind === 'local') {
    const path = join(spec.dir, 'privacy.json');
    if (existsSync(path)) {
      const ledger = readPrivacyLedger(path);
      if (ledger.dp) {
        const recorded = ledger.epsilon[ledger.accountant];
        const check = verifyModelDirLedger(spec.dir, ledger);
        return { epsilon: check.recomputedEpsilon ?? recorded, delta: ledger.delta, source: 'privacy.json', recorded, mismatches: check.mismatches.map((m) => m.field) };
      }
    }
  }
  return { epsilon: null, delta: null, source: 'none' };
}

/** What the note adds when privacy.json's recorded epsilon or parameters do not check out. */
function ledgerNote(claim: Claim): string {
  if (claim.recorded === undefined || claim.epsilon === null) return '';
  const parts: string[] = [];
  if (!(Math.abs(claim.recorded - claim.epsilon) <= EPSILON_RELATIVE_TOLERANCE * Math.max(claim.recorded, claim.epsilon))) {
    parts.push(`privacy.json records epsilon ${fmt(claim.recorded)} but its own parameters give ${fmt(claim.epsilon)}: tested against ${fmt(claim.epsilon)}`);
  }
  if (claim.mismatches && claim.mismatches.length > 0) parts.push(`privacy.json does not verify against its parameters and the training config (${claim.mismatches.join(', ')})`);
  return parts.length > 0 ? `; ${parts.join('; ')}` : '';
}

/** Members: inserted canaries (with --repetitions R, only those inserted R times); non-members: never inserted. */
function auditPopulation(ctx: ProbeContext, set: CandidateSet): { members: number[]; nonMembers: number[]; groupSize: number } {
  const counts = [...new Set(set.candidates.filter((c) => c.member).map((c) => c.repetitions))].sort((a, b) => a - b);
  if (counts.length === 0) throw new InconclusiveError('dp-audit: the manifest has no inserted canaries');
  const asked = typeof ctx.options.repetitions === 'number' ? ctx.options.repetitions : undefined;
  if (asked !== undefined && !counts.includes(asked)) {
    throw new UsageError(`--repetitions ${asked}: no canary was inserted ${asked} times (counts in the manifest: ${counts.join(', ')})`);
  }
  const groupSize = asked ?? counts[0]!;
  const members: number[] = [];
  const nonMembers: number[] = [];
  set.candidates.forEach((c, i) => {
    if (!c.member) nonMembers.push(i);
    else if (c.repetitions === groupSize) members.push(i);
  });
  if (nonMembers.length === 0) throw new InconclusiveError('dp-audit: the manifest has no canaries that were never inserted (reference canaries)');
  return { members, nonMembers, groupSize };
}

/** The signal audited: --attack, else the secret given its prefix for text canaries, else the loss. */
function auditAttackFor(ctx: ProbeContext): DpAuditAttack {
  const asked = typeof ctx.options.attack === 'string' ? ctx.options.attack : 'auto';
  if (asked === 'auto') return ctx.target.task === 'lm' && ctx.manifest.kind === 'text' ? 'secret' : 'loss';
  if (asked === 'secret') {
    if (ctx.target.task !== 'lm' || ctx.manifest.kind !== 'text') throw new UsageError('--attack secret needs a language model and text canaries (a prefix and a secret)');
    return 'secret';
  }
  if (!attackNames.includes(asked as AttackName)) throw new UsageError(`--attack: unknown attack "${asked}" (known: secret, ${attackNames.join(', ')})`);
  return asked as AttackName;
}

/** One score per candidate (higher = more likely inserted). */
async function auditScores(ctx: ProbeContext, set: CandidateSet, attack: DpAuditAttack): Promise<number[]> {
  if (attack === 'secret') {
    // candidatesFromManifest keeps the manifest's canary order.
    const total = ctx.manifest.canaries.length;
    return secretLogProbabilities(ctx.target, ctx.targetDescriptor, ctx.manifest.canaries, (done) => ctx.progress.step('dp-audit canaries scored', done, total));
  }
  const options = await attackOptionsFor(ctx, set, ctx.backend as BackendPreference);
  try {
    const run = await runAttacks(ctx.target, set, { ...options, only: [attack], onBatch: (done, total) => ctx.progress.step('dp-audit candidates scored', done, total) });
    const scores = run.scores[attack];
    if (!scores) {
      const why = run.skipped.find((s) => s.attack.includes(attack))?.reason ?? 'it could not run on this target';
      throw new UsageError(`--attack ${attack}: ${why}`);
    }
    return scores;
  } finally {
    await options.reference?.close();
  }
}

export async function runDpAudit(ctx: ProbeContext): Promise<DpAuditProbeResult> {
  const started = new Date();
  const set = candidatesFromManifest(ctx.manifest, ctx.target.task);
  const methodFlag = typeof ctx.options.method === 'string' ? ctx.options.method : 'auto';
  const method = methodFlag === 'auto' ? (ctx.manifest.mode === 'bernoulli' ? 'one-run' : 'clopper-pearson') : methodFlag;
  if (method === 'one-run' && ctx.manifest.mode !== 'bernoulli') {
    throw new UsageError('--method one-run needs canaries each inserted with probability 1/2: use a manifest from `canary insert --mode bernoulli`');
  }
  const attack = auditAttackFor(ctx);
  const { members, nonMembers, groupSize } = auditPopulation(ctx, set);
  if (method === 'one-run' && members.length !== set.candidates.filter((c) => c.member).length) {
    // A never-inserted canary does not say which count it would have had, so dropping the
    // inserted canaries of other counts would tilt the 1/2 inclusion prior the bound rests on.
    throw new UsageError('the one-run audit needs every canary drawn for one repetition count: insert with `canary insert --mode bernoulli --repetitions R` (a single R)');
  }
  const claim = claimFor(ctx);
  const delta = typeof ctx.options.delta === 'number' ? ctx.options.delta : (claim.delta ?? 1e-5);
  const confidence = typeof ctx.options.confidence === 'number' ? ctx.options.confidence : 0.95;
  const strategy = (ctx.options.thresholdStrategy === 'split' ? 'split' : 'bonferroni') as ThresholdStrategy;

  const scores = await auditScores(ctx, set, attack);
  const inScores = members.map((i) => scores[i]!);
  const outScores = nonMembers.map((i) => scores[i]!);
  const common = { alpha: 1 - confidence, delta, groupSize };
  let bound: AuditBound;
  if (method === 'one-run') {
    if (strategy === 'split') throw new UsageError('--threshold-strategy split applies to --method clopper-pearson; the one-run audit uses a fixed guess grid with Bonferroni');
    bound = oneRunAudit(inScores, outScores, common);
  } else {
    bound = strategy === 'split' ? clopperPearsonSplit(inScores, outScores, { ...common, rng: ctx.rng.fork('split') }) : clopperPearsonBonferroni(inScores, outScores, common);
  }
  const refuted = claim.epsilon !== null && bound.epsilonLowerBound > claim.epsilon;
  const note = refuted
    ? `the empirical lower bound ${fmt(bound.epsilonLowerBound)} exceeds the claimed epsilon ${fmt(claim.epsilon!)}: the DP claim is refuted (implementation or accounting is wrong)`
    : `a lower bound below the claim is not evidence of privacy: with ${inScores.length + outScores.length} canaries no bound can exceed ${fmt(bound.ceiling)}`;
  const checkedNote = note + ledgerNote(claim);
  return {
    ...probeRunInfo(ctx, 'dp-audit', started),
    method: bound.method,
    epsilonLowerBound: bound.epsilonLowerBound,
    confidence: bound.confidence,
    ceiling: bound.ceiling,
    claimedEpsilon: claim.epsilon,
    delta,
    refuted,
    canaries: inScores.length + outScores.length,
    attack,
    members: inScores.length,
    nonMembers: outScores.length,
    groupSize,
    thresholdStrategy: bound.strategy,
    hypotheses: bound.hypotheses,
    ...(bound.guesses !== undefined ? { guesses: bound.guesses, correct: bound.correct } : {}),
    claimSource: claim.source,
    ...(claim.recorded !== undefined ? { recordedEpsilon: claim.recorded, ledgerMismatches: claim.mismatches ?? [] } : {}),
    note: checkedNote,
  };
}

/** The claim tested; the recorded epsilon beside it when privacy.json's own parameters give another. */
function claimedCell(result: DpAuditProbeResult): string {
  if (result.claimedEpsilon === null) return '-';
  const recorded = result.recordedEpsilon;
  const differs = recorded !== undefined && !(Math.abs(recorded - result.claimedEpsilon) <= EPSILON_RELATIVE_TOLERANCE * Math.max(recorded, result.claimedEpsilon));
  return differs ? `${fmt(result.claimedEpsilon, 3)} (privacy.json says ${fmt(recorded, 3)})` : fmt(result.claimedEpsilon, 3);
}

export const dpAuditProbe: ProbeModule<DpAuditProbeResult> = {
  ...dpAuditSpec,
  needs: (c) => (c.scoreText || c.classProbabilities ? null : 'needs per-token log-probabilities of given text (scoreText) or class probabilities'),
  resultSchema,
  run: runDpAudit,
  // DESIGN.md "Exit codes": a refuted DP claim fails the gate.
  exitCode: (result) => (result.refuted ? ExitCode.gateFailed : undefined),
  summary(result) {
    return [
      ['method', 'attack', 'canaries', 'epsilon >=', 'confidence', 'ceiling', 'claimed', 'refuted'],
      [result.method, result.attack, result.canaries, fmt(result.epsilonLowerBound, 3), result.confidence, fmt(result.ceiling, 3), claimedCell(result), result.refuted ? 'YES' : 'no'],
    ];
  },
};
