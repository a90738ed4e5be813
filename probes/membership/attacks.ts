/**
 * Runs the membership attacks on a candidate set: the reference-free ones from the target
 * alone, the reference-model attack when a reference target is given, and LiRA when shadow models
 * are asked for. Every attack yields one score per candidate (higher = more likely a member);
 * none of them looks at the ground truth.
 */
import { UsageError } from '../../src/core/errors.js';
import type { Target } from '../../src/targets/target.js';
import type { CandidateSet } from './candidates.js';
import { liraScores, liraVariantsFor, type LiraVariant } from './lira.js';
import { scoreCandidates, type ReferenceFreeAttack, type ScoreOptions } from './scoring.js';
import { shadowSignals, trainShadows, type ShadowPlan } from './shadows.js';
import { attackNames } from '../specs.js';

export type AttackName = ReferenceFreeAttack | 'reference' | LiraVariant;

/** Listed in probes/specs.ts, which the CLI reads without loading the attacks. */
export { attackNames };

export interface AttackOptions extends ScoreOptions {
  /** Attacks to run (default: every one the inputs allow). */
  only?: readonly AttackName[];
  /** Reference model: score = target signal - reference signal (Carlini et al. 2021's ratio; MIMIR reference.py). */
  reference?: Target;
  /** Shadow models for LiRA. */
  shadows?: ShadowPlan;
  log?: (message: string) => void;
}

export interface AttackRun {
  scores: Partial<Record<AttackName, number[]>>;
  skipped: { attack: string; reason: string }[];
  shadows?: { count: number; trained: number; cached: number; seed: string };
}

export async function runAttacks(target: Target, set: CandidateSet, options: AttackOptions = {}): Promise<AttackRun> {
  const wanted = (name: AttackName) => !options.only || options.only.includes(name);
  for (const name of options.only ?? []) {
    if (!attackNames.includes(name)) throw new UsageError(`--attacks: unknown attack "${name}" (known: ${attackNames.join(', ')})`);
  }
  const own = await scoreCandidates(target, set.candidates, options);
  const run: AttackRun = { scores: {}, skipped: [...own.skipped] };
  for (const [name, scores] of Object.entries(own.attacks) as [ReferenceFreeAttack, number[]][]) {
    if (wanted(name)) run.scores[name] = scores;
  }
  if (wanted('reference') && options.reference) {
    if (options.reference.task !== target.task) throw new UsageError(`--reference is a ${options.reference.task} model but the target is a ${target.task} model`);
    options.log?.('scoring candidates with the reference model');
    const ref = await scoreCandidates(options.reference, set.candidates, { ...options, distributionStats: false });
    run.scores.reference = own.signal.map((s, i) => s - ref.signal[i]!);
  } else if (options.only?.includes('reference')) {
    throw new UsageError('the reference attack needs --reference MODEL');
  } else if (!options.only) {
    run.skipped.push({ attack: 'reference', reason: 'needs a reference model (--reference MODEL)' });
  }
  const liraWanted = attackNames.filter((n): n is LiraVariant => n.startsWith('lira-') && wanted(n));
  if (options.shadows && liraWanted.length > 0) {
    options.log?.(`shadow models: ${options.shadows.count} (${options.shadows.workers} worker${options.shadows.workers === 1 ? '' : 's'})`);
    const shadowRun = await trainShadows(set, options.shadows);
    const signals = await shadowSignals(shadowRun, set);
    const lira = liraScores({ target: own.signal, shadowSignals: signals, inMask: shadowRun.inMask });
    for (const variant of liraWanted) {
      if (lira[variant]) run.scores[variant] = lira[variant];
      else if (!liraVariantsFor(options.shadows.count).includes(variant)) {
        run.skipped.push({ attack: variant, reason: `per-example variances need at least 4 shadow models (got ${options.shadows.count})` });
      }
    }
    const cached = shadowRun.outcomes.filter((o) => o.cached).length;
    run.shadows = { count: options.shadows.count, trained: shadowRun.outcomes.length - cached, cached, seed: shadowRun.seed };
  } else if (options.only?.some((n) => n.startsWith('lira-'))) {
    throw new UsageError('LiRA needs shadow models: pass --shadows K (an even number >= 2)');
  } else if (!options.only) {
    run.skipped.push({ attack: 'lira-*', reason: 'needs shadow models (--shadows K)' });
  }
  return run;
}
