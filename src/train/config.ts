/**
 * The training configuration: plain JSON (it crosses worker-thread and queue boundaries, e.g.
 * for shadow models), with defaults small enough that a charlm on ~2000 short notes trains in
 * well under a minute on wasm.
 */
import { UsageError } from '../core/errors.js';
import { checkFlagValue } from '../core/flags.js';
import type { AccountantName } from '../accounting/index.js';
import { defaultCharLmConfig, hiddenActivations, type HiddenActivation } from '../models/charlm.js';
import { defaultMlpConfig } from '../models/mlp.js';

export type OptimizerName = 'sgd' | 'momentum' | 'adam';
export const optimizerNames: readonly OptimizerName[] = ['sgd', 'momentum', 'adam'];

export interface ArchitectureOptions {
  contextLength?: number;
  embeddingDim?: number;
  hiddenUnits?: number[];
  activation?: HiddenActivation;
  layerNorm?: boolean;
}

export interface TrainConfig {
  /** "charlm", "mlp", or the path of a tfjs LayersModel model.json to train as given. */
  model: string;
  /** Sizes of the built-in architectures. */
  architecture?: ArchitectureOptions;
  /** The task of a custom model.json: "classifier" when labelColumn is set, else "lm". */
  dp: boolean;
  /** sigma; with targetEpsilon too, training stops when the next step would exceed the budget. */
  noiseMultiplier?: number;
  /** Calibrates sigma so that the planned steps spend exactly this budget (when noiseMultiplier is not given). */
  targetEpsilon?: number;
  /** Default: min(1e-5, 1 / (10 N)). */
  delta?: number;
  clipNorm: number;
  /** Expected batch size qN (DP: Poisson sampling with q = batchSize / N); fixed batches without DP. */
  batchSize: number;
  epochs: number;
  learningRate: number;
  optimizer: OptimizerName;
  /** Momentum of the "momentum" optimizer; beta1 of Adam stays at its default. */
  momentum?: number;
  accountant: AccountantName;
  /** The run's seed (--seed): model init, sampling, dropout and then also the DP noise (recorded as seeded). */
  seed?: string;
  /** Largest number of model rows in one physical chunk (a logical batch is split, its noise added once). */
  maxRowsPerChunk?: number;
  /** DP only: the white-box self-audit with this many gradient canaries, bounded at this confidence (train/self-audit.ts). */
  selfAudit?: { canaries: number; confidence: number };
}

export const trainDefaults = {
  clipNorm: 1,
  batchSize: 64,
  epochs: 3,
  learningRate: 0.005,
  optimizer: 'adam' as OptimizerName,
  momentum: 0.9,
  accountant: 'rdp' as AccountantName,
  maxRowsPerChunk: 32768,
};

/** Checks the combinations a flag parser cannot (throws UsageError naming the flag). */
export function checkTrainConfig(config: TrainConfig): void {
  if (config.dp && config.noiseMultiplier === undefined && config.targetEpsilon === undefined) {
    throw new UsageError('--dp needs --noise-multiplier S or --target-epsilon E');
  }
  if (!config.dp && (config.noiseMultiplier !== undefined || config.targetEpsilon !== undefined)) {
    throw new UsageError('--noise-multiplier and --target-epsilon need --dp (without it training is not private)');
  }
  // The same ranges as the flags (core/flags.ts flagRanges), for configs built without the CLI.
  const ranged: [string, number | undefined][] = [
    ['clip-norm', config.clipNorm],
    ['lr', config.learningRate],
    ['epochs', config.epochs],
    ['noise-multiplier', config.noiseMultiplier],
    ['target-epsilon', config.targetEpsilon],
    ['batch-size', config.batchSize],
  ];
  for (const [flag, v] of ranged) if (v !== undefined) checkFlagValue(flag, v);
  if (config.delta !== undefined && !(config.delta > 0 && config.delta < 1)) throw new UsageError(`--delta must be in (0, 1), got ${config.delta}`);
  if (config.selfAudit) {
    const { canaries, confidence } = config.selfAudit;
    if (!config.dp) throw new UsageError('--self-audit needs --dp (it audits the DP-SGD claim)');
    if (!(Number.isInteger(canaries) && canaries >= 1)) throw new UsageError(`--self-audit must be a positive integer, got ${canaries}`);
    if (!(confidence > 0 && confidence < 1)) throw new UsageError(`--self-audit-confidence must be in (0, 1), got ${confidence}`);
  }
  if (!optimizerNames.includes(config.optimizer)) throw new UsageError(`--optimizer must be one of ${optimizerNames.join(', ')}`);
  const a = config.architecture ?? {};
  if (a.activation !== undefined && !hiddenActivations.includes(a.activation)) throw new UsageError(`--activation must be one of ${hiddenActivations.join(', ')}`);
  if (a.contextLength !== undefined) checkFlagValue('context-length', a.contextLength);
  if (a.embeddingDim !== undefined) checkFlagValue('embedding-dim', a.embeddingDim);
  for (const u of a.hiddenUnits ?? []) checkFlagValue('hidden', u);
  checkHiddenWeights(config);
}

/**
 * Weights of the hidden dense layers (without the input-dependent first layer of an mlp): each
 * size is in range on its own, but their products can still exceed memory, which tfjs reports as
 * an allocation failure deep inside training.
 */
export const maxHiddenWeights = 5e7;

/** Widths of the built-in model's dense stack whose sizes the flags fix (a charlm's starts at its flattened embedding). */
function denseWidths(config: TrainConfig): number[] {
  if (config.model === 'mlp') return mlpArchitecture(config.architecture).hiddenUnits;
  const a = charLmArchitecture(config.architecture);
  return [a.contextLength * a.embeddingDim, ...a.hiddenUnits];
}

function checkHiddenWeights(config: TrainConfig): void {
  if (config.model !== 'charlm' && config.model !== 'mlp') return;
  const widths = denseWidths(config);
  let weights = 0;
  for (let i = 1; i < widths.length; i++) weights += widths[i - 1]! * widths[i]!;
  if (weights > maxHiddenWeights) {
    const what = config.model === 'charlm' ? '--hidden, --embedding-dim or --context-length' : '--hidden';
    throw new UsageError(`the ${config.model} layers would hold ${weights.toExponential(2)} weights, more than ${maxHiddenWeights.toExponential(0)}: lower ${what}`);
  }
}

export function charLmArchitecture(a: ArchitectureOptions = {}) {
  return { ...defaultCharLmConfig, ...definedOnly(a) };
}

export function mlpArchitecture(a: ArchitectureOptions = {}) {
  const { hiddenUnits, activation, layerNorm } = a;
  return { ...defaultMlpConfig, ...definedOnly({ hiddenUnits, activation, layerNorm }) };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
