/**
 * Opening a local target from a directory: a memaudit model directory (memaudit.json says what
 * it is), or a user's own tfjs LayersModel / GraphModel (converted from Keras or a TF SavedModel)
 * whose task, vocabulary or feature columns come from flags; what is missing is named.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tf } from '../../core/backend.js';
import { InputError, UsageError } from '../../core/errors.js';
import { sha256Hex, sha256Json } from '../../core/hash.js';
import { parseJson } from '../../core/schema.js';
import { CharTokenizer } from '../../models/tokenizer.js';
import {
  confinedModelPath,
  filesRead,
  loadLayersModelFile,
  loadModelDir,
  META_JSON,
  MODEL_JSON,
  readPrivacyRecord,
  readWeightShards,
  type ModelFile,
  type ModelMeta,
  type ReadDigests,
} from '../../models/model-dir.js';
import type { FeatureSpec } from '../../models/features.js';
import type { Target, TargetCapabilities, TargetDescriptor, TargetTask } from '../target.js';
import { LocalClassifierTarget } from './classifier.js';
import { logProbFunction, looksLikeProbabilities } from './forward.js';
import { LocalLmTarget, type LmTokenizer } from './lm.js';
import { readVocabFile, tokenizerForVocab } from './vocab.js';

/** Flags describing a user's model that has no memaudit.json. */
export interface UserModelOptions {
  task?: TargetTask;
  vocabFile?: string;
  contextLength?: number;
  features?: string[];
  labels?: string[];
}

export interface LocalOpenOptions extends UserModelOptions {
  /** Windows (LM) per model call. */
  batchWindows?: number;
}

export async function openLocalTarget(dir: string, options: LocalOpenOptions = {}): Promise<Target> {
  if (!existsSync(dir)) throw new InputError(`--target ${dir}: model directory not found`);
  if (!statSync(dir).isDirectory()) throw new InputError(`--target ${dir}: not a directory (a target is a model directory, or openai:/tgi:/kserve:/tfserving: URL)`);
  if (existsSync(join(dir, META_JSON))) return openModelDir(dir, options);
  if (existsSync(join(dir, MODEL_JSON))) return openUserModel(dir, options);
  throw new InputError(`--target ${dir}: neither ${META_JSON} nor ${MODEL_JSON} found (not a model directory)`);
}

function descriptor(dir: string, task: TargetTask, capabilities: TargetCapabilities, files: { name: string; sha256: string }[], model: string, tokenizer?: string): () => TargetDescriptor {
  return () => ({
    target: dir,
    kind: 'local',
    task,
    digest: sha256Json(files),
    files,
    model,
    capabilities: { ...capabilities },
    ...(tokenizer ? { tokenizer } : {}),
  });
}

function inputDtype(model: tf.LayersModel | tf.GraphModel): 'float32' | 'int32' {
  return model.inputs[0]?.dtype === 'int32' ? 'int32' : 'float32';
}

async function openModelDir(dir: string, options: LocalOpenOptions): Promise<Target> {
  const { model, meta, files } = await loadModelDir(dir);
  const { fn } = logProbFunction(model);
  const label = `target ${dir}`;
  if (meta.task === 'lm') {
    const tokenizer = CharTokenizer.fromJSON(meta.tokenizer!);
    const target: LocalLmTarget = new LocalLmTarget({
      label,
      model,
      logProbs: fn,
      tokenizer,
      contextLength: meta.contextLength!,
      inputDtype: inputDtype(model),
      describe: () => descriptor(dir, 'lm', target.capabilities, files, meta.architecture, 'char')(),
      batchWindows: options.batchWindows,
    });
    return target;
  }
  const target: LocalClassifierTarget = new LocalClassifierTarget({
    label,
    model,
    logProbs: fn,
    features: meta.features!,
    labels: meta.labels!,
    describe: () => descriptor(dir, 'classifier', target.capabilities, files, meta.architecture)(),
  });
  return target;
}

/** The memaudit.json of a model directory, when it has one (serve uses it for /v1/models). */
export function modelMetaOf(dir: string): ModelMeta | undefined {
  const path = join(dir, META_JSON);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as ModelMeta) : undefined;
}

interface ModelJson {
  format?: string;
  modelTopology?: unknown;
  weightsManifest?: { paths?: string[]; weights?: tf.io.WeightsManifestEntry[] }[];
  generatedBy?: string;
  convertedBy?: string | null;
  signature?: object;
  userDefinedMetadata?: Record<string, object>;
  modelInitializer?: object;
}

/** Loads a GraphModel from model.json and its weight shards, without file:// (every backend). */
async function loadGraphModelFile(path: string, json: ModelJson, digests: ReadDigests): Promise<tf.GraphModel> {
  const { specs, data } = readWeightShards(path, json, digests);
  try {
    return await tf.loadGraphModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology as object,
        weightSpecs: specs,
        weightData: data,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy ?? undefined,
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata,
        modelInitializer: json.modelInitializer,
      }),
    );
  } catch (e) {
    throw new InputError(`${path}: tfjs cannot load this graph model (${String((e as Error).message ?? e).split('\n')[0]})`);
  }
}

/** The files the loader read (and privacy.json, which the audit reads) and the vocabulary file, with digests: the attestation's subjects. */
function userModelFiles(dir: string, digests: ReadDigests, vocabFile?: string): ModelFile[] {
  readPrivacyRecord(dir, digests);
  const files = filesRead(digests);
  if (vocabFile) files.push({ name: `vocab:${basename(vocabFile)}`, sha256: sha256Hex(readFileSync(vocabFile)) });
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Whether the model's outputs are probabilities, from one batch of zero inputs. */
function detectOutputKind(model: tf.LayersModel | tf.GraphModel, inputShape: number[], dtype: 'float32' | 'int32'): 'probabilities' | 'logits' {
  const out = tf.tidy(() => {
    const y = model.predict(tf.zeros([2, ...inputShape], dtype));
    const t = Array.isArray(y) ? y[0]! : y instanceof tf.Tensor ? y : Object.values(y)[0]!;
    return t.reshape([2, -1]);
  });
  const data = out.dataSync() as Float32Array;
  const width = out.shape[1]!;
  out.dispose();
  return looksLikeProbabilities(data, width) ? 'probabilities' : 'logits';
}

async function openUserModel(dir: string, options: LocalOpenOptions): Promise<Target> {
  const path = join(dir, MODEL_JSON);
  const digests: ReadDigests = new Map();
  const bytes = readFileSync(confinedModelPath(dir, MODEL_JSON, path));
  digests.set(MODEL_JSON, sha256Hex(bytes));
  const json = parseJson(bytes.toString('utf8'), path) as ModelJson;
  if (!json || typeof json !== 'object' || !json.modelTopology) throw new InputError(`${path}: not a tfjs model.json (no modelTopology)`);
  const task = options.task;
  if (!task) throw new UsageError(`--target ${dir}: it has no ${META_JSON}; give --task lm (with --vocab-file) or --task classifier (with --features)`);
  if (task === 'lm' && !options.vocabFile) throw new UsageError(`--target ${dir}: it has no ${META_JSON}; --task lm needs --vocab-file`);
  if (task === 'classifier' && !(options.features && options.features.length > 0)) {
    throw new UsageError(`--target ${dir}: it has no ${META_JSON}; --task classifier needs --features (the input columns, in order)`);
  }
  const graph = json.format === 'graph-model';
  const model: tf.LayersModel | tf.GraphModel = graph ? await loadGraphModelFile(path, json, digests) : await loadLayersModelFile(path, digests);
  const dtype = inputDtype(model);
  const shape = model.inputs[0]?.shape ?? [];
  const label = `target ${dir}`;
  const kind = graph || !(model instanceof tf.LayersModel) ? undefined : logProbFunction(model).kind === 'logits-from-dense' ? 'dense' : undefined;

  if (task === 'lm') {
    const vocab = readVocabFile(options.vocabFile!);
    const tokenizer: LmTokenizer = tokenizerForVocab(vocab, `--vocab-file ${options.vocabFile}`);
    const modelContext = shape.length === 2 && typeof shape[1] === 'number' && shape[1] > 0 ? shape[1] : undefined;
    const contextLength = options.contextLength ?? modelContext;
    if (!contextLength) throw new UsageError(`--target ${dir}: the model input has no fixed length; give --context-length`);
    if (modelContext !== undefined && contextLength !== modelContext) {
      throw new UsageError(`--context-length ${contextLength} does not match the model's input length ${modelContext}`);
    }
    const outputKind = kind === 'dense' ? undefined : detectOutputKind(model, [contextLength], dtype);
    const { fn } = logProbFunction(model, outputKind);
    const width = tf.tidy(() => fn(tf.zeros([1, contextLength], dtype)).shape[1]);
    if (width !== vocab.length) throw new InputError(`--vocab-file ${options.vocabFile}: has ${vocab.length} tokens but the model predicts ${width}`);
    const files = userModelFiles(dir, digests, options.vocabFile);
    const target: LocalLmTarget = new LocalLmTarget({
      label,
      model,
      logProbs: fn,
      tokenizer,
      contextLength,
      inputDtype: dtype,
      describe: () => descriptor(dir, 'lm', target.capabilities, files, graph ? 'graph-model' : 'layers-model', 'vocab')(),
      batchWindows: options.batchWindows,
    });
    return target;
  }

  const features: FeatureSpec[] = options.features!.map((name) => ({ name, kind: 'numeric', mean: 0, std: 1 }));
  const inputWidth = shape[shape.length - 1];
  if (typeof inputWidth === 'number' && inputWidth > 0 && inputWidth !== features.length) {
    throw new UsageError(`--features names ${features.length} columns but the model takes ${inputWidth}`);
  }
  const outputKind = kind === 'dense' ? undefined : detectOutputKind(model, [features.length], dtype);
  let { fn } = logProbFunction(model, outputKind);
  let width = tf.tidy(() => fn(tf.zeros([1, features.length], 'float32')).shape[1]!);
  if (width === 1) {
    // One sigmoid unit: p(class 1). Its two-class log-probabilities are [log(1 - p), log p].
    const predict = (input: tf.Tensor) => tf.clipByValue((model.predict(input) as tf.Tensor).reshape([input.shape[0]!, 1]), 1e-7, 1 - 1e-7);
    fn = (input) => {
      const p = predict(input);
      return tf.log(tf.concat([tf.sub(1, p), p], 1)) as tf.Tensor2D;
    };
    width = 2;
  }
  const labels = options.labels ?? Array.from({ length: width }, (_, i) => String(i));
  if (labels.length !== width) throw new UsageError(`--labels names ${labels.length} classes but the model outputs ${width}`);
  const files = userModelFiles(dir, digests);
  const target: LocalClassifierTarget = new LocalClassifierTarget({
    label,
    model,
    logProbs: fn,
    features,
    labels,
    describe: () => descriptor(dir, 'classifier', target.capabilities, files, graph ? 'graph-model' : 'layers-model')(),
  });
  return target;
}
