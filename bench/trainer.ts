/**
 * Trainer benchmark: for the charlm and the mlp at batch 256, in one run on one backend,
 * DP step time / non-private step time (same forward code, same optimizer) and naive per-example
 * loop time / DP step time. Timings are interleaved (non-private, DP, non-private, DP, ...) and
 * the median of the per-pair ratios is reported, so load on a shared machine affects both sides.
 * Then whole DP trainings with `--self-audit 1000` and without, interleaved the same way: the
 * time ratio and the change of the final loss (the canaries count as records, so the run takes
 * (N + 1000) / N times the steps; the phantom block itself costs a little per step).
 */
import { tf } from '../src/core/backend.js';
import { Rng } from '../src/core/rng.js';
import { buildCharLm, defaultCharLmConfig } from '../src/models/charlm.js';
import { buildMlp, defaultMlpConfig } from '../src/models/mlp.js';
import { CharTokenizer } from '../src/models/tokenizer.js';
import { fitFeatures } from '../src/models/features.js';
import { ClippingEngine } from '../src/train/engine.js';
import { classifierExamples, lmExamples, makeBatch, type ExampleSet } from '../src/train/examples.js';
import { disposeBatch } from '../src/train/batch.js';
import { trainModel, trainStep, type StepContext } from '../src/train/loop.js';
import type { TrainConfig } from '../src/train/config.js';
import type { TrainingRecords } from '../src/train/examples.js';
import { naiveClippedGradients } from '../src/train/naive.js';
import { csprngGaussian } from '../src/train/noise.js';
import { AuditCanaries } from '../src/train/self-audit.js';
import type { BenchRow, BenchSuite } from './suite.js';

const BATCH = 256;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** Synthetic short clinical notes of varying length (~40-140 characters). */
function notes(rng: Rng, count: number): string[] {
  const words = ['patient', 'presents', 'with', 'chest', 'pain', 'denies', 'fever', 'history', 'of', 'diabetes', 'hypertension', 'follow', 'up', 'in', 'two', 'weeks', 'bp', '130/85', 'mg', 'daily', 'lisinopril', 'metformin', 'no', 'acute', 'distress'];
  return Array.from({ length: count }, () => Array.from({ length: 6 + rng.int(14) }, () => rng.pick(words)).join(' ') + '.');
}

/**
 * `stepsPerSample` steps are timed together, so fast steps are not lost in timer and scheduler
 * noise; `warmUp` steps of each path run first, so both are timed in the steady state a training
 * run spends its time in (JIT-compiled host code, created kernels).
 */
function measure(name: string, model: tf.LayersModel, set: ExampleSet, o: { pairs: number; naiveRuns: number; stepsPerSample: number; warmUp: number }): BenchRow[] {
  const { pairs, naiveRuns, stepsPerSample } = o;
  const engine = new ClippingEngine(model, name);
  const all = [...Array(set.size).keys()];
  const common = { engine, set, maxRowsPerChunk: 1 << 20 };
  const plain: StepContext = { ...common, optimizer: tf.train.adam(1e-3) };
  const dp: StepContext = {
    ...common,
    optimizer: tf.train.adam(1e-3),
    dp: { clipNorm: 1, noiseMultiplier: 1, expectedBatchSize: BATCH, noise: csprngGaussian() }, // as `memaudit train --dp` runs (no --seed)
  };
  // The same DP step with 1000 self-audit canaries (q as for N = 10 batches of records), noised from their own CSPRNG stream.
  const canaries = new AuditCanaries({ count: 1000, samplingRate: 0.1, noiseMultiplier: 1, bits: new Rng('bench/bits'), sampling: new Rng('bench/sampling') });
  const audited: StepContext = { ...dp, dp: { ...dp.dp!, audit: { canaries, noise: csprngGaussian() } } };
  for (let k = 0; k < o.warmUp; k++) {
    trainStep(plain, all, k);
    trainStep(dp, all, k);
    trainStep(audited, all, k);
  }
  const dpOverPlain: number[] = [];
  const dpTimes: number[] = [];
  const auditedOverDp: number[] = [];
  for (let r = 0; r < pairs; r++) {
    const a = time(() => {
      for (let k = 0; k < stepsPerSample; k++) trainStep(plain, all, r);
    });
    const b = time(() => {
      for (let k = 0; k < stepsPerSample; k++) trainStep(dp, all, r);
    });
    const c = time(() => {
      for (let k = 0; k < stepsPerSample; k++) trainStep(audited, all, r);
    });
    // and the audited step before the plain DP one, so neither gains from its place in the order
    const c2 = time(() => {
      for (let k = 0; k < stepsPerSample; k++) trainStep(audited, all, r);
    });
    const b2 = time(() => {
      for (let k = 0; k < stepsPerSample; k++) trainStep(dp, all, r);
    });
    dpOverPlain.push(b / a);
    dpTimes.push(b / stepsPerSample);
    auditedOverDp.push((c + c2) / (b + b2));
  }
  const naiveOverDp: number[] = [];
  const batch = makeBatch(set, all);
  for (let r = 0; r < naiveRuns; r++) {
    const n = time(() => tf.dispose(naiveClippedGradients(engine, batch, 1).sums));
    const b = time(() => trainStep(dp, all, r));
    naiveOverDp.push(n / b);
  }
  disposeBatch(batch);
  plain.optimizer.dispose();
  dp.optimizer.dispose();
  dp.dp!.noise.close?.();
  audited.dp!.audit!.noise.close?.();
  const ratio = median(dpOverPlain);
  const naive = median(naiveOverDp);
  const auditStep = median(auditedOverDp);
  const limit = name === 'mlp' ? 1.2 : 1.3;
  return [
    { area: 'trainer', figure: `DP step / non-private step (${name}, batch ${BATCH})`, value: ratio, unit: 'x', target: `<= ${limit}`, pass: ratio <= limit },
    { area: 'trainer', figure: `naive per-example loop / DP step (${name}, batch ${BATCH})`, value: naive, unit: 'x', target: '>= 10', pass: naive >= 10 },
    { area: 'trainer', figure: `DP step time (${name}, batch ${BATCH}, median)`, value: median(dpTimes), unit: 'ms' },
    { area: 'trainer', figure: `DP step with 1000 self-audit canaries / DP step (${name}, batch ${BATCH})`, value: auditStep, unit: 'x', target: '<= 1.05', pass: auditStep <= 1.05 },
  ];
}

/** `pairs` DP trainings without and with `--self-audit 1000` (seeded alike per pair): median time ratio and mean relative loss change. */
async function selfAuditCost(name: string, config: TrainConfig, records: TrainingRecords, pairs: number): Promise<BenchRow[]> {
  const ratios: number[] = [];
  const lossChanges: number[] = [];
  const lossesWithout: number[] = [];
  const run = async (c: TrainConfig) => {
    const t0 = performance.now();
    const r = await trainModel(c, records);
    r.model.dispose();
    return { ms: performance.now() - t0, loss: r.finalLoss, steps: r.steps };
  };
  let steps = '';
  for (let k = 0; k < pairs; k++) {
    const seed = `bench-self-audit-${k}`;
    const without = await run({ ...config, seed });
    const withAudit = await run({ ...config, seed, selfAudit: { canaries: 1000, confidence: 0.999 } });
    ratios.push(withAudit.ms / without.ms);
    lossChanges.push((withAudit.loss - without.loss) / without.loss);
    lossesWithout.push(without.loss);
    steps = `${withAudit.steps} vs ${without.steps} steps`;
  }
  const ratio = median(ratios);
  const lossChange = (100 * lossChanges.reduce((a, b) => a + b, 0)) / lossChanges.length;
  const n = records.task === 'lm' ? records.texts.length : records.rows.length;
  // The noise floor: how much the final loss moves between seeds without the self-audit.
  const spread = (100 * lossesWithout.slice(1).reduce((a, l, k) => a + Math.abs(l - lossesWithout[k]!) / lossesWithout[k]!, 0)) / Math.max(1, pairs - 1);
  return [
    { area: 'trainer', figure: `DP training with --self-audit 1000 / without (${name}, N ${n}, ${steps})`, value: ratio, unit: 'x', target: '<= 1.15', pass: ratio <= 1.15 },
    { area: 'trainer', figure: `final loss change with --self-audit 1000 (${name}, N ${n}, mean of ${pairs} seeds)`, value: lossChange, unit: '%', target: '< 1 in size', pass: Math.abs(lossChange) < 1 },
    { area: 'trainer', figure: `final loss change between seeds without it (${name}, N ${n}, mean of ${pairs - 1})`, value: spread, unit: '%' },
  ];
}

export const trainerSuite: BenchSuite = {
  name: 'trainer',
  async run() {
    const rng = new Rng('bench/trainer');
    const tokenizer = CharTokenizer.publicAscii();
    const texts = notes(rng, BATCH);
    const charlm = buildCharLm({ ...defaultCharLmConfig, vocabSize: tokenizer.size, seed: 1 });
    const lmSet = lmExamples(texts, tokenizer, defaultCharLmConfig.contextLength);
    const rows = Array.from({ length: BATCH }, () => {
      const row: Record<string, number | string> = {};
      for (let j = 0; j < 30; j++) row[`x${j}`] = rng.normal();
      row.site = rng.pick(['a', 'b', 'c', 'd']);
      row.label = rng.bernoulli(0.3) ? 'yes' : 'no';
      return row;
    });
    const features = fitFeatures(rows, ['label']);
    const mlpSet = classifierExamples(rows, features, ['no', 'yes'], 'label', 'bench');
    const mlp = buildMlp({ ...defaultMlpConfig, inputDim: mlpSet.rowShape[0]!, numLabels: 2, seed: 2 });
    const out = [...measure('mlp', mlp, mlpSet, { pairs: 31, naiveRuns: 3, stepsPerSample: 5, warmUp: 50 }), ...measure('charlm', charlm, lmSet, { pairs: 11, naiveRuns: 2, stepsPerSample: 1, warmUp: 2 })];
    charlm.dispose();
    mlp.dispose();
    const source = { file: 'bench', sha256: '0'.repeat(64), records: 0 };
    const dpConfig = { dp: true, targetEpsilon: 3, clipNorm: 1, batchSize: BATCH, epochs: 1, learningRate: 0.005, optimizer: 'adam', accountant: 'rdp' } as const;
    // Labels that follow the features, so the final loss measures learning.
    const auditRows = Array.from({ length: 20000 }, () => {
      const row: Record<string, number | string> = { site: rng.pick(['a', 'b', 'c', 'd']) };
      for (let j = 0; j < 30; j++) row[`x${j}`] = rng.normal();
      row.label = (row.x0 as number) + (row.x1 as number) + 0.5 * rng.normal() > 0.5 ? 'yes' : 'no';
      return row;
    });
    out.push(...(await selfAuditCost('mlp', { ...dpConfig, model: 'mlp' }, { task: 'classifier', rows: auditRows, labelColumn: 'label', source }, 3)));
    out.push(...(await selfAuditCost('charlm', { ...dpConfig, model: 'charlm' }, { task: 'lm', texts: notes(rng, 10000), source }, 3)));
    return out;
  },
};
