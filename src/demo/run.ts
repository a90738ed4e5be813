/**
 * `memaudit demo`: the whole pipeline on synthetic data, end to end, with nothing to bring.
 *
 * synth notes -> signing key -> canary generate (MRN) -> canary insert (the counts, references
 * and holdout `plan` gives) -> train the same charlm without DP and with DP-SGD, signing the
 * training provenance -> audit both with the default policy, trusting the demo's key (report +
 * signed attestation + audit log) -> a side-by-side summary with each verdict's coverage headline.
 *
 * Every stage is the library function the matching command calls, so the demo exercises exactly
 * what a user's pipeline runs.
 */
import { join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { rngFromSeed } from '../core/rng.js';
import { silentProgress, type Progress } from '../core/progress.js';
import { initBackend, type BackendPreference } from '../core/backend.js';
import { writeSyntheticNotes } from '../data/synth/index.js';
import { generateCanaries, insertCanaries, loadPack, writeCanarySet } from '../canary/index.js';
import { readTrainingRecords, saveTrainedModel, trainModel } from '../train/index.js';
import { modelFiles } from '../models/model-dir.js';
import { loadSigningKey, writeKeyPair } from '../attest/keys.js';
import { writeProvenance } from '../attest/provenance.js';
import { appendAuditLog } from '../attest/audit-log.js';
import { runAudit } from '../report/run.js';
import { findProbe } from '../../probes/registry.js';
import { openProbeSession, runProbe } from '../../probes/common.js';
import type { DpAuditResult } from '../../probes/types.js';
import type { Report } from '../report/types.js';
import type { VerdictName } from '../policy/verdict.js';
import { demoPlan, demoPlanCommand, type DemoPlan } from './plan.js';
import type { Plan } from '../policy/plan.js';

export interface DemoOptions {
  outDir: string;
  quick: boolean;
  seed?: string;
  backend?: BackendPreference;
  progress?: Progress;
}

/** One trained model's line in the summary: the figures a reader compares side by side. */
export interface DemoRun {
  name: 'no-dp' | 'dp';
  verdict: VerdictName;
  /** What the verdict covers, e.g. "NOT_PHI for records that occur up to 4 times". */
  headline: string;
  exitCode: number;
  epsilon: number | null;
  delta: number | null;
  finalLoss: number;
  steps: number;
  modelDir: string;
  report: string;
  attestation: string;
  exposureByRepetitions: { repetitions: number; meanExposureBits: number; maxExposureBits: number }[];
  referenceExposureBits: { mean: number; max: number } | null;
  extracted: { extracted: number; attempted: number } | null;
  /** Best membership attack's TPR at 0.1% FPR. */
  membershipTprAt0001: { attack: string; tpr: number } | null;
  /** dp-audit's empirical lower bound (run for both models: for the non-DP one it only shows what memorization implies). */
  empiricalEpsilonLowerBound: { value: number; ceiling: number; confidence: number; refuted: boolean } | null;
  /** Why the verdict: the reasons that decided it (probe, metric, value, threshold). */
  reasons: { probe: string; metric: string; value: number | null; threshold: number | null; outcome: string }[];
}

export interface DemoResult {
  outDir: string;
  backend: string;
  seed: string;
  quick: boolean;
  auditLog: string;
  publicKey: string;
  manifest: string;
  /** Notes synthesized, and real notes withheld as membership non-members. */
  notes: number;
  holdout: number;
  /** `plan`'s sizes for the full demo (the quick run is smaller: its summary says what a full audit needs). */
  plan: Plan;
  /** The `memaudit plan` command that gives those sizes. */
  planCommand: string;
  /** Whether the DP noise was seeded (--seed): a seeded guarantee cannot stand in under the default policy. */
  seededNoise: boolean;
  runs: DemoRun[];
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const progress = options.progress ?? silentProgress;
  const plan = demoPlan(options.quick);
  const outDir = resolve(options.outDir);
  mkdirSync(outDir, { recursive: true });
  const rng = rngFromSeed(options.seed);
  const info = await initBackend(options.backend ?? 'auto');
  const paths = {
    notes: join(outDir, 'data', 'notes.jsonl'),
    canaries: join(outDir, 'data', 'canaries.json'),
    train: join(outDir, 'data', 'train.jsonl'),
    manifest: join(outDir, 'data', 'manifest.json'),
    keys: join(outDir, 'keys'),
    auditLog: join(outDir, 'audit-log.jsonl'),
  };
  const stages = 3 + plan.runs.length * 2;
  const sizes = plan.audit;
  let stage = 0;
  const step = (what: string) => progress.log(`[${++stage}/${stages}] ${what}`);

  step('generating a signing key for the training provenance and the attestations');
  const keys = await writeKeyPair(paths.keys, 'ecdsa-p256', true);
  const signingKey = loadSigningKey(keys.privateKeyPath)!;

  step(`synthesizing ${plan.notes} clinical notes (nothing in them is real)`);
  await writeSyntheticNotes(paths.notes, plan.notes, rng.fork('synth'));

  const perCount = plan.repetitions.map((r) => sizes.canaries[String(r)]!);
  const canaryCount = perCount.reduce((a, b) => a + b, 0) + sizes.references;
  step(
    `drawing ${canaryCount} ${plan.pack} canaries: ${plan.repetitions.map((r, i) => `${perCount[i]} inserted ${r}x`).join(', ')}, ${sizes.references} kept out as references; ${plan.holdout} notes withheld as non-members`,
  );
  const set = generateCanaries(loadPack(plan.pack), { count: canaryCount, rng: rng.fork('canaries') });
  writeCanarySet(paths.canaries, set);
  await insertCanaries({
    data: paths.notes,
    canaries: set,
    repetitions: plan.repetitions,
    references: sizes.references,
    holdout: plan.holdout,
    out: paths.train,
    manifest: paths.manifest,
    rng: rng.fork('insert'),
  });

  const records = await readTrainingRecords(paths.train);
  const runs: DemoRun[] = [];
  for (const run of plan.runs) {
    const modelDir = join(outDir, 'models', run.name);
    step(`training the charlm ${run.name === 'dp' ? `with DP-SGD (target epsilon ${run.train.targetEpsilon}, delta ${run.train.delta})` : 'without DP'}`);
    const trained = await trainModel({ ...run.train, seed: options.seed === undefined ? undefined : `${rng.seed}/train/${run.name}` }, records, { progress, backend: info.backend });
    await saveTrainedModel(modelDir, trained, { beforePublish: async (dir) => void (await writeProvenance(dir, signingKey)) });
    appendAuditLog({ command: 'train', purpose: 'memaudit demo', inputs: [{ name: paths.train, sha256: records.source.sha256 }], outputs: modelFiles(modelDir), exitCode: 0 }, paths.auditLog);

    step(`auditing the ${run.name} model (exposure, extraction, membership${trained.privacy.dp ? ', dp-audit' : ''})`);
    const audit = await runAudit({
      target: modelDir,
      manifestPath: paths.manifest,
      outDir: join(outDir, 'runs', run.name),
      seed: `${rng.seed}/audit/${run.name}`,
      backend: info.backend,
      progress,
      signingKey,
      trustKeys: [keys.publicKeyPath],
      auditLogPath: paths.auditLog,
      purpose: 'memaudit demo',
      probeOptions: plan.probeOptions,
    });
    const dpAudit = (audit.report.results['dp-audit'] as DpAuditResult | undefined) ?? (await informationalDpAudit(modelDir, paths.manifest, `${rng.seed}/dp-audit/${run.name}`, info.backend));
    runs.push(summarize(run.name, audit.report, audit.verdict.exitCode, trained, modelDir, audit.reportPath, audit.attestationPath, dpAudit));
  }
  progress.done();
  return {
    outDir,
    backend: info.backend,
    seed: rng.seed,
    quick: options.quick,
    auditLog: paths.auditLog,
    publicKey: keys.publicKeyPath,
    manifest: paths.manifest,
    notes: plan.notes,
    holdout: plan.holdout,
    plan: sizes,
    planCommand: demoPlanCommand,
    seededNoise: options.seed !== undefined,
    runs,
  };
}

/**
 * The default policy runs dp-audit only when a model claims DP. For the side-by-side table the
 * demo runs it on the non-DP model too, against no claim: its lower bound shows how much
 * privacy loss the memorization alone proves.
 */
async function informationalDpAudit(modelDir: string, manifestPath: string, seed: string, backend: string): Promise<DpAuditResult | undefined> {
  const probe = findProbe('dp-audit');
  if (!probe) return undefined;
  const session = await openProbeSession({ target: modelDir, manifestPath, seed, backend: backend as BackendPreference });
  try {
    return (await runProbe(probe, session.contextFor(probe, {}))) as DpAuditResult;
  } finally {
    await session.close();
  }
}

function summarize(
  name: DemoRun['name'],
  report: Report,
  exitCode: number,
  trained: { epsilon: number | null; delta: number | null; finalLoss: number; steps: number },
  modelDir: string,
  reportPath: string,
  attestationPath: string,
  dpAudit: DpAuditResult | undefined,
): DemoRun {
  const { exposure, extraction, membership } = report.results;
  const best = membership?.attacks.reduce((a, b) => (b.tprAtFpr['0.001'] > a.tprAtFpr['0.001'] ? b : a));
  return {
    name,
    verdict: report.verdict.verdict,
    headline: report.verdict.headline,
    exitCode,
    epsilon: trained.epsilon,
    delta: trained.delta,
    finalLoss: trained.finalLoss,
    steps: trained.steps,
    modelDir,
    report: reportPath,
    attestation: attestationPath,
    exposureByRepetitions: exposure?.byRepetitions.map(({ repetitions, meanExposureBits, maxExposureBits }) => ({ repetitions, meanExposureBits, maxExposureBits })) ?? [],
    referenceExposureBits: exposure ? { mean: exposure.reference.meanExposureBits, max: exposure.reference.maxExposureBits } : null,
    extracted: extraction ? { extracted: extraction.targeted.extracted, attempted: extraction.targeted.attempted } : null,
    membershipTprAt0001: best ? { attack: best.name, tpr: best.tprAtFpr['0.001'] } : null,
    empiricalEpsilonLowerBound: dpAudit
      ? { value: dpAudit.epsilonLowerBound, ceiling: dpAudit.ceiling, confidence: dpAudit.confidence, refuted: dpAudit.refuted }
      : null,
    reasons: report.verdict.reasons
      .filter((r) => r.outcome === 'PHI' || r.outcome === 'INCONCLUSIVE')
      .map((r) => ({ probe: r.probe, metric: r.metric, value: r.value, threshold: r.threshold, outcome: r.outcome })),
  };
}

export type { DemoPlan };
