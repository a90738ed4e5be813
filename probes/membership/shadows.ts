/**
 * Shadow models for LiRA, as jobs: K models, each trained by the trainer on the base data (if
 * any) plus the candidates assigned IN to it (each candidate IN exactly K/2 shadows, see
 * lira.ts), run by the job runner (the local worker pool, or the queue) and cached by job key, then scored like the target.
 *
 * Jobs reference candidates by manifest canary id or by file digest and record index, never by
 * content, so job specs and the cache hold no training records.
 *
 * The assignment and the job seeds come from a shadow seed that defaults to a digest of the
 * experiment (population, training config, K), not from the run's random stream: a rerun without
 * --seed trains the same shadows and finds them in the cache.
 */
import { sha256Json } from '../../src/core/hash.js';
import { Rng } from '../../src/core/rng.js';
import type { BackendPreference } from '../../src/core/backend.js';
import { createJobRunner, type JobOutcome, type JobSpec, type Json } from '../../src/jobs/index.js';
import { SHADOW_MODEL_DIR, type ShadowSource, type TrainShadowPayload } from '../../src/jobs/train-shadow.js';
import { openTarget } from '../../src/targets/index.js';
import type { CandidateSet } from './candidates.js';
import { assignShadowMembership } from './lira.js';
import { scoreCandidates } from './scoring.js';
import { join } from 'node:path';

export interface ShadowPlan {
  /** K, even. */
  count: number;
  workers: number;
  cacheDir: string;
  backend: BackendPreference;
  /** The trainer's configuration (plain JSON), the same as the target's. */
  train: Json;
  /** Classifiers: the label column of the training rows. */
  labelColumn?: string;
  /** Data every shadow trains on besides its candidates (e.g. the manifest's input dataset). */
  base?: { path: string; sha256: string; format?: string; textField?: string; labelColumn?: string };
  /** Copies of an IN candidate in a shadow's training data (default 1). */
  repetitions?: number;
  /** Where the manifest is, when candidates come from it (jobs read canaries from it by id). */
  manifest?: { path: string; sha256: string };
  /** Overrides the derived shadow seed. */
  seed?: string;
  onProgress?: (done: number, total: number, cached: boolean) => void;
}

export interface ShadowRun {
  inMask: boolean[][];
  outcomes: JobOutcome[];
  seed: string;
}

function experimentSeed(set: CandidateSet, plan: ShadowPlan): string {
  return sha256Json({
    population: set.population,
    candidates: set.candidates.map((c) => c.origin),
    files: set.files ? { m: set.files.members.sha256, n: set.files.nonMembers.sha256 } : null,
    manifest: plan.manifest?.sha256 ?? null,
    base: plan.base?.sha256 ?? null,
    train: plan.train,
    count: plan.count,
    repetitions: plan.repetitions ?? 1,
  }).slice(0, 24);
}

/** The K job specs and the IN/OUT assignment they realize. */
export function shadowJobs(set: CandidateSet, plan: ShadowPlan): { specs: JobSpec[]; inMask: boolean[][]; seed: string } {
  const seed = plan.seed ?? experimentSeed(set, plan);
  const rng = new Rng(seed);
  const inMask = assignShadowMembership(set.candidates.length, plan.count, rng.fork('assignment'));
  const repetitions = plan.repetitions ?? 1;
  const specs = inMask.map((row, k): JobSpec => {
    const sources: ShadowSource[] = [];
    if (plan.base) sources.push({ kind: 'records', ...plan.base, indices: null, repetitions: 1 });
    const chosen = set.candidates.filter((_, i) => row[i]);
    if (set.population === 'manifest') {
      if (!plan.manifest) throw new Error('shadowJobs: manifest candidates need plan.manifest');
      sources.push({ kind: 'manifest-canaries', ...plan.manifest, ids: chosen.map((c) => (c.origin as { id: string }).id), repetitions });
    } else {
      for (const which of ['members', 'nonMembers'] as const) {
        const file = set.files![which];
        const indices = chosen.filter((c) => c.origin.kind === 'file' && c.origin.file === which).map((c) => (c.origin as { index: number }).index);
        sources.push({
          kind: 'records',
          path: file.path,
          sha256: file.sha256,
          ...(file.format ? { format: file.format } : {}),
          ...(file.textField ? { textField: file.textField } : {}),
          ...(file.labelColumn ? { labelColumn: file.labelColumn } : {}),
          indices,
          repetitions,
        });
      }
    }
    const payload: TrainShadowPayload = { train: plan.train, task: set.task, ...(plan.labelColumn ? { labelColumn: plan.labelColumn } : {}), sources };
    return { version: 1, kind: 'train-shadow', seed: rng.fork(`shadow-${k}`).seed, payload: payload as unknown as Json };
  });
  return { specs, inMask, seed };
}

/** Trains (or finds in the cache) the K shadow models. */
export async function trainShadows(set: CandidateSet, plan: ShadowPlan): Promise<ShadowRun> {
  const { specs, inMask, seed } = shadowJobs(set, plan);
  const runner = await createJobRunner({
    workers: plan.workers,
    cacheDir: plan.cacheDir,
    backend: plan.backend,
    onProgress: (p) => plan.onProgress?.(p.done, p.total, p.outcome.cached),
  });
  const outcomes = await runner.run(specs);
  return { inMask, outcomes, seed };
}

/** shadowSignals[k][i]: shadow k's signal on candidate i, scored exactly as the target is. */
export async function shadowSignals(run: ShadowRun, set: CandidateSet): Promise<number[][]> {
  const out: number[][] = [];
  for (const outcome of run.outcomes) {
    const target = await openTarget(join(outcome.dir, SHADOW_MODEL_DIR));
    try {
      out.push((await scoreCandidates(target, set.candidates, { distributionStats: false })).signal);
    } finally {
      await target.close();
    }
  }
  return out;
}
