/**
 * The DP-SGD loop (Abadi et al. 2016, Poisson sampling and add/remove adjacency as in docs/SCIENCE.md):
 * each step Poisson-samples examples with probability q (empty batches still run), clips each
 * example's gradient to C (clipping engine), adds N(0, sigma^2 C^2) once to the clipped sum,
 * divides by the public expected batch size qN, and applies SGD / momentum / Adam. The ledger
 * composes every step with the accountant; with a target epsilon, sigma is calibrated first and
 * the run stops before a step would exceed the budget. Without DP the same forward code trains
 * on shuffled fixed-size batches, for baselines.
 */
import { tf } from '../core/backend.js';
import { UsageError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { silentProgress, type Progress } from '../core/progress.js';
import { toolVersion } from '../core/version.js';
import { calibrateNoise, computeEpsilon, defaultDelta, PrivacyLedger, samplingRateFor, stepsFor } from '../accounting/index.js';
import { CharTokenizer } from '../models/tokenizer.js';
import { buildCharLm } from '../models/charlm.js';
import { buildMlp } from '../models/mlp.js';
import { featureWidth, fitFeatures, type FeatureSpec } from '../models/features.js';
import { loadLayersModelFile, nonPrivate, saveModelDir, type ModelMeta, type PrivacyRecord, type SaveModelDirOptions } from '../models/model-dir.js';
import { disposeBatch } from './batch.js';
import { checkTrainConfig, charLmArchitecture, mlpArchitecture, trainDefaults, type TrainConfig } from './config.js';
import { ClippingEngine } from './engine.js';
import { chunkByRows, classifierExamples, lmExamples, makeBatch, type ExampleSet, type TrainingRecords } from './examples.js';
import { csprngGaussian, seededGaussian, type GaussianSource } from './noise.js';
import { poissonSample, ShuffledBatches } from './sampler.js';
import { AuditCanaries } from './self-audit.js';
import type { SelfAuditRecord } from '../accounting/privacyFile.js';

export interface TrainOptions {
  progress?: Progress;
  /** The backend the run is on, recorded in memaudit.json (default: tf.getBackend()). */
  backend?: string;
  /** Called after every step (tests, benchmarks). */
  onStep?: (info: { step: number; batchSize: number; loss: number; epsilon: number | null }) => void;
}

export interface TrainResult {
  model: tf.LayersModel;
  meta: ModelMeta;
  privacy: PrivacyRecord;
  /** Mean per-record loss (nats per character for the LM) over the training data after training. */
  finalLoss: number;
  steps: number;
  plannedSteps: number;
  /** True when training stopped early because the next step would exceed --target-epsilon. */
  stoppedAtBudget: boolean;
  epsilon: number | null;
  delta: number | null;
  noiseMultiplier: number | null;
  samplingRate: number;
  /** The white-box self-audit (also in privacy.selfAudit), when trained with DP and selfAudit. */
  selfAudit?: SelfAuditRecord;
}

interface Prepared {
  model: tf.LayersModel;
  set: ExampleSet;
  meta: Omit<ModelMeta, 'toolVersion' | 'backend' | 'seed' | 'createdAt' | 'training'>;
}

const uint31 = (rng: Rng) => rng.int(2 ** 31 - 1);

/** Builds (or loads) the model and turns the records into examples. */
async function prepare(config: TrainConfig, records: TrainingRecords, rng: Rng): Promise<Prepared> {
  const custom = config.model !== 'charlm' && config.model !== 'mlp';
  if (!custom && (config.model === 'charlm') !== (records.task === 'lm')) {
    throw new UsageError(config.model === 'mlp' ? '--model mlp needs --label-column (a classifier trains on labelled rows)' : '--model charlm trains on text; drop --label-column');
  }
  const architecture = custom ? 'custom' : (config.model as 'charlm' | 'mlp');
  if (records.task === 'lm') {
    // DP: a vocabulary from the private data would reveal which characters it contains.
    const tokenizer = config.dp ? CharTokenizer.publicAscii() : CharTokenizer.fromTexts(records.texts);
    let model: tf.LayersModel;
    let contextLength: number;
    if (custom) {
      model = await loadLayersModelFile(config.model);
      const inShape = model.inputs[0]!.shape;
      const units = model.outputs[0]!.shape[1];
      if (inShape.length !== 2 || typeof inShape[1] !== 'number') throw new UsageError(`${config.model}: a language model must take [batch, contextLength] character ids, got [${inShape.join(', ')}]`);
      if (units !== tokenizer.size) throw new UsageError(`${config.model}: outputs ${units} classes but the character vocabulary has ${tokenizer.size}`);
      contextLength = inShape[1];
    } else {
      const arch = charLmArchitecture(config.architecture);
      contextLength = arch.contextLength;
      model = buildCharLm({ ...arch, vocabSize: tokenizer.size, seed: uint31(rng) });
    }
    return {
      model,
      set: lmExamples(records.texts, tokenizer, contextLength),
      meta: { version: 1, task: 'lm', architecture, tokenizer: tokenizer.toJSON(), contextLength, textField: records.textField ?? 'text', trainingData: records.source },
    };
  }
  const features: FeatureSpec[] = fitFeatures(records.rows, [records.labelColumn]);
  const labels = [...new Set(records.rows.map((r) => String(r[records.labelColumn])))].sort();
  if (labels.length < 2) throw new UsageError(`--label-column ${records.labelColumn}: a classifier needs at least 2 labels, found ${labels.length}`);
  let model: tf.LayersModel;
  if (custom) {
    model = await loadLayersModelFile(config.model);
    const inShape = model.inputs[0]!.shape;
    if (inShape.length !== 2 || inShape[1] !== featureWidth(features)) throw new UsageError(`${config.model}: takes [${inShape.join(', ')}] inputs but the features are ${featureWidth(features)} wide`);
    if (model.outputs[0]!.shape[1] !== labels.length) throw new UsageError(`${config.model}: outputs ${model.outputs[0]!.shape[1]} classes but the data has ${labels.length} labels`);
  } else {
    model = buildMlp({ ...mlpArchitecture(config.architecture), inputDim: featureWidth(features), numLabels: labels.length, seed: uint31(rng) });
  }
  return {
    model,
    set: classifierExamples(records.rows, features, labels, records.labelColumn, records.source.file),
    meta: { version: 1, task: 'classifier', architecture, features, labels, labelColumn: records.labelColumn, trainingData: records.source },
  };
}

function makeOptimizer(config: TrainConfig): tf.Optimizer {
  switch (config.optimizer) {
    case 'sgd':
      return tf.train.sgd(config.learningRate);
    case 'momentum':
      return tf.train.momentum(config.learningRate, config.momentum ?? trainDefaults.momentum);
    case 'adam':
      return tf.train.adam(config.learningRate);
  }
}

export { makeOptimizer };


/** Mean per-example loss over the whole set (forward only, chunked). */
export function evaluateLoss(engine: ClippingEngine, set: ExampleSet, maxRows: number): number {
  let sum = 0;
  const all = [...Array(set.size).keys()];
  for (const chunk of chunkByRows(set, all, maxRows)) {
    const batch = makeBatch(set, chunk);
    sum += tf.tidy(() => engine.lossSum(engine.forward(batch), batch).dataSync()[0]!);
    disposeBatch(batch);
  }
  return sum / set.size;
}

/**
 * A NaN or infinite loss means the weights are no longer numbers (too large a step, clip norm or
 * noise): stop rather than save and audit a model that is all NaN.
 */
function assertFiniteLoss(loss: number, step: number): void {
  if (Number.isFinite(loss)) return;
  throw new UsageError(`training diverged at step ${step}: the loss is ${loss}; lower --lr (or --clip-norm, --noise-multiplier) and train again`);
}

export async function trainModel(config: TrainConfig, records: TrainingRecords, options: TrainOptions = {}): Promise<TrainResult> {
  checkTrainConfig(config);
  const progress = options.progress ?? silentProgress;
  const rng = config.seed === undefined ? Rng.unseeded() : new Rng(config.seed);
  const { model, set, meta } = await prepare(config, records, rng.fork('init'));
  const engine = new ClippingEngine(model, config.model); // refuses unsupported layers before any step
  // Self-audit canaries are privacy units like records (docs/SCIENCE.md, "White-box self-audit"):
  // each is Poisson-sampled at the records' rate q and counted in the ledger's dataset size and the
  // default delta. They ride along: q, the steps and the normalizer qN come from the real records,
  // so the real parameters' updates are distributed exactly as in a run without the audit.
  const auditCount = config.dp ? (config.selfAudit?.canaries ?? 0) : 0;
  const N = set.size;
  const privacyUnits = N + auditCount;
  const B = config.batchSize;
  const q = samplingRateFor(N, B);
  const plannedSteps = stepsFor(N, B, config.epochs);
  const maxRows = config.maxRowsPerChunk ?? trainDefaults.maxRowsPerChunk;
  const optimizer = makeOptimizer(config);
  const sampleRng = rng.fork('sampling');
  const dropoutRng = rng.fork('dropout');

  let delta: number | null = null;
  let sigma: number | null = null;
  let ledger: PrivacyLedger | undefined;
  let noise: GaussianSource | undefined;
  let canaries: AuditCanaries | undefined;
  let auditNoise: GaussianSource | undefined;
  if (config.dp) {
    delta = config.delta ?? defaultDelta(privacyUnits);
    if (delta >= 1 / privacyUnits) throw new UsageError(`--delta ${delta} must be below 1/N = ${1 / privacyUnits} (N = ${privacyUnits} records), else epsilon means little`);
    sigma =
      config.noiseMultiplier ??
      calibrateNoise({ samplingRate: q, steps: plannedSteps, delta, targetEpsilon: config.targetEpsilon!, accountant: config.accountant }).noiseMultiplier;
    noise = config.seed === undefined ? csprngGaussian() : seededGaussian(rng.fork('dp-noise'));
    ledger = new PrivacyLedger({ datasetSize: privacyUnits, delta, clipNorm: config.clipNorm, noiseSource: noise.kind, accountant: config.accountant });
    if (auditCount > 0) {
      canaries = new AuditCanaries({ count: auditCount, samplingRate: q, noiseMultiplier: sigma, bits: rng.fork('self-audit'), sampling: rng.fork('self-audit-sampling') });
      // The same kind of source, its own stream: the audit adds no draw to the real parameters' noise.
      auditNoise = config.seed === undefined ? csprngGaussian() : seededGaussian(rng.fork('dp-noise-self-audit'));
    }
  }

  const stepContext: StepContext = {
    engine,
    set,
    optimizer,
    maxRowsPerChunk: maxRows,
    dp: ledger ? { clipNorm: config.clipNorm, noiseMultiplier: sigma!, expectedBatchSize: q * N, noise: noise!, ...(canaries ? { audit: { canaries, noise: auditNoise! } } : {}) } : undefined,
  };
  const shuffled = new ShuffledBatches(N, B, sampleRng);
  let steps = 0;
  let stoppedAtBudget = false;
  try {
    for (let step = 0; step < plannedSteps; step++) {
      if (ledger && config.targetEpsilon !== undefined && wouldExceed(ledger, q, sigma!, delta!, config.targetEpsilon, config.accountant)) {
        stoppedAtBudget = true;
        break;
      }
      const indices = ledger ? poissonSample(set.size, q, sampleRng) : shuffled.next();
      const lossSum = trainStep(stepContext, indices, uint31(dropoutRng));
      ledger?.addSteps(q, sigma!);
      steps++;
      assertFiniteLoss(lossSum, steps);
      const loss = indices.length > 0 ? lossSum / indices.length : NaN;
      const epsilon = ledger ? ledger.epsilon('rdp') : null;
      progress.step('train steps', steps, plannedSteps, `loss ${loss.toFixed(3)}${epsilon === null ? '' : `  eps ${epsilon.toFixed(3)} (rdp)`}`);
      options.onStep?.({ step: steps, batchSize: indices.length, loss, epsilon });
      if (steps % 20 === 0) await new Promise((r) => setImmediate(r)); // let signals and progress through
    }
  } finally {
    optimizer.dispose();
    noise?.close?.();
    auditNoise?.close?.();
  }
  progress.done();
  if (ledger && steps === 0) throw new UsageError('--target-epsilon is too small for even one step at this noise multiplier');

  const finalLoss = evaluateLoss(engine, set, maxRows);
  assertFiniteLoss(finalLoss, steps);
  const epsilon = ledger ? ledger.epsilon(config.accountant) : null;
  const selfAudit = canaries?.audit(epsilon!, delta!, config.selfAudit!.confidence);
  const privacy: PrivacyRecord = ledger ? { ...ledger.toJSON(), ...(selfAudit ? { selfAudit } : {}) } : nonPrivate;
  const fullMeta: ModelMeta = {
    ...meta,
    toolVersion,
    backend: options.backend ?? tf.getBackend(),
    seed: config.seed ?? null,
    createdAt: new Date().toISOString(),
    training: {
      ...(config as unknown as Record<string, unknown>),
      steps,
      plannedSteps,
      // Feature scaling, category and label lists (mlp) and the data-derived vocabulary (non-DP LM)
      // come from the data without noise: they are outside the DP guarantee.
      preprocessingFromData: meta.task === 'classifier' || !config.dp,
    },
  };
  return {
    model,
    meta: fullMeta,
    privacy,
    finalLoss,
    steps,
    plannedSteps,
    stoppedAtBudget,
    epsilon,
    delta,
    noiseMultiplier: sigma,
    samplingRate: q,
    ...(selfAudit ? { selfAudit } : {}),
  };
}

export interface StepContext {
  engine: ClippingEngine;
  set: ExampleSet;
  optimizer: tf.Optimizer;
  maxRowsPerChunk: number;
  /** DP-SGD when set (with the self-audit's canaries when `audit` is); plain minibatch SGD through the same forward code otherwise. */
  dp?: { clipNorm: number; noiseMultiplier: number; expectedBatchSize: number; noise: GaussianSource; audit?: { canaries: AuditCanaries; noise: GaussianSource } };
}

/**
 * One optimizer step on the examples `indices` (sorted; may be empty under Poisson sampling).
 * DP: clipped sum over physical chunks, noise N(0, sigma^2 C^2) added ONCE to the sum, divided by
 * the public expected batch size qN (folded into the clip factors and the host-side noise, which
 * saves two passes over every parameter). Returns the summed example loss.
 */
export function trainStep(ctx: StepContext, indices: readonly number[], seed: number): number {
  const { engine, set, dp } = ctx;
  let lossSum = 0;
  let grads: tf.Tensor[] | undefined;
  for (const chunk of chunkByRows(set, indices, ctx.maxRowsPerChunk)) {
    const batch = makeBatch(set, chunk);
    try {
      let part: tf.Tensor[];
      if (dp) {
        const r = engine.clippedGradients(batch, dp.clipNorm, seed, 1 / dp.expectedBatchSize);
        lossSum += r.lossSum;
        part = r.sums;
      } else {
        const r = engine.meanGradients(batch, seed);
        lossSum += r.lossSum;
        // The chunk's mean, weighted to its share of the batch mean (one chunk: weight 1).
        part = chunk.length === indices.length ? r.grads : r.grads.map((g) => tf.tidy(() => g.mul(chunk.length / indices.length)));
        if (part !== r.grads) tf.dispose(r.grads);
      }
      grads = grads ? accumulate(grads, part) : part;
    } finally {
      disposeBatch(batch);
    }
  }
  grads ??= engine.params.map((p) => tf.zerosLike(p.variable) as tf.Tensor); // an empty Poisson batch
  if (dp) {
    // The noise is added on the host, where it is drawn: one upload per parameter instead of an
    // upload and an add kernel (reading a tensor is a copy on the CPU backends; measured: ~0.1 ms
    // of a ~3 ms mlp step).
    const noiseStd = (dp.noiseMultiplier * dp.clipNorm) / dp.expectedBatchSize;
    const noisy = grads.map((g) => tf.tensor(withNoise(g.dataSync() as Float32Array, dp.noise, noiseStd), g.shape));
    tf.dispose(grads);
    grads = noisy;
    // The self-audit's phantom block: its canaries' clipped sum, noised like every parameter.
    if (dp.audit) {
      const { canaries, noise } = dp.audit;
      canaries.observe(withNoise(canaries.clippedSum(dp.clipNorm, 1 / dp.expectedBatchSize), noise, noiseStd), dp.clipNorm / dp.expectedBatchSize);
    }
  }
  const named = grads;
  ctx.optimizer.applyGradients(Object.fromEntries(engine.params.map((p, k) => [p.variable.name, named[k]!])));
  tf.dispose(grads);
  return lossSum;
}

/** sum + N(0, std^2) per coordinate, from the run's noise source. */
function withNoise(sum: Float32Array, noise: GaussianSource, std: number): Float32Array {
  const z = new Float32Array(sum.length);
  noise.fill(z, std);
  for (let j = 0; j < z.length; j++) z[j]! += sum[j]!;
  return z;
}

/** Element-wise sums of two aligned gradient lists; both inputs are disposed. */
function accumulate(into: tf.Tensor[], add: tf.Tensor[]): tf.Tensor[] {
  const out = into.map((t, k) => tf.add(t, add[k]!));
  tf.dispose([...into, ...add]);
  return out;
}

/** Would one more step at (q, sigma) take epsilon above the budget? RDP bounds PLD from above, so PLD is only computed when RDP says yes. */
function wouldExceed(ledger: PrivacyLedger, q: number, sigma: number, delta: number, budget: number, accountant: 'rdp' | 'pld'): boolean {
  const next = [...ledger.segments(), { samplingRate: q, noiseMultiplier: sigma, steps: 1 }];
  const rdp = computeEpsilon(next, delta, { accountant: 'rdp' }).epsilon;
  if (rdp <= budget) return false;
  if (accountant === 'rdp') return true;
  return computeEpsilon(next, delta, { accountant: 'pld' }).epsilon > budget;
}

/** Saves a trained model as a model directory (DESIGN.md); `options.beforePublish` adds files (signed provenance) before it appears. */
export async function saveTrainedModel(dir: string, result: TrainResult, options: SaveModelDirOptions = {}): Promise<void> {
  await saveModelDir(dir, result.model, result.meta, result.privacy, options);
}
