/**
 * The model directory (DESIGN.md "Files"): `model.json` + `weights.bin` (an ordinary tfjs
 * LayersModel), `memaudit.json` (what the model is and what it was trained on) and
 * `privacy.json` (the DP ledger, or `{version:1, dp:false}`).
 *
 * Saving and loading use our own IO handlers (tf.io.withSaveHandler / fromMemory) so they work
 * on every backend (file:// needs tfjs-node). A directory is written whole into a temporary
 * sibling and renamed into place: a crash never leaves half a model behind.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { removeTemp, tempPathFor } from '../core/atomic.js';
import { tf } from '../core/backend.js';
import { InputError, rethrowWriteFailure, UsageError } from '../core/errors.js';
import { sha256Hex } from '../core/hash.js';
import { validate, type JsonSchema } from '../core/schema.js';
import { parsePrivacyFile, type PrivacyFile } from '../accounting/index.js';
import type { CharTokenizerJson } from './tokenizer.js';
import type { FeatureSpec } from './features.js';
import { confinedModelPath, filesRead, META_JSON, MODEL_JSON, PRIVACY_JSON, readJsonOrFail, weightFileNames, WEIGHTS_BIN, type ModelFile, type ReadDigests } from './model-files.js';

export { confinedModelPath, filesRead, META_JSON, MODEL_JSON, modelFiles, PRIVACY_JSON, weightFileNames, WEIGHTS_BIN, type ModelFile, type ReadDigests } from './model-files.js';


export type ModelTask = 'lm' | 'classifier';
export type ModelArchitecture = 'charlm' | 'mlp' | 'custom';

export interface TrainingDataDigest {
  /** Basename of the training file (never its contents). */
  file: string;
  sha256: string;
  records: number;
}

export interface ModelMeta {
  version: 1;
  task: ModelTask;
  architecture: ModelArchitecture;
  tokenizer?: CharTokenizerJson;
  contextLength?: number;
  features?: FeatureSpec[];
  labels?: string[];
  labelColumn?: string;
  textField?: string;
  trainingData: TrainingDataDigest;
  toolVersion: string;
  backend: string;
  /** The --seed of the training run, null when it ran unseeded. */
  seed: string | null;
  createdAt: string;
  /** The training configuration (plain JSON), for provenance. */
  training?: Record<string, unknown>;
}

/** privacy.json: the accounting ledger (PrivacyLedger.toJSON()) or the non-DP marker. */
export type PrivacyRecord = PrivacyFile;
export const nonPrivate: PrivacyRecord = { version: 1, dp: false };

export const modelMetaSchema: JsonSchema = {
  type: 'object',
  required: ['version', 'task', 'architecture', 'trainingData', 'toolVersion', 'backend', 'seed', 'createdAt'],
  properties: {
    version: { const: 1 },
    task: { enum: ['lm', 'classifier'] },
    architecture: { enum: ['charlm', 'mlp', 'custom'] },
    tokenizer: {
      type: 'object',
      required: ['kind', 'vocab', 'padId', 'unkId'],
      properties: {
        kind: { const: 'char' },
        vocab: { type: 'array', items: { type: 'string' }, minItems: 3 },
        padId: { type: 'integer', minimum: 0 },
        unkId: { type: 'integer', minimum: 0 },
      },
    },
    contextLength: { type: 'integer', minimum: 1 },
    features: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'kind'],
        properties: {
          name: { type: 'string' },
          kind: { enum: ['numeric', 'categorical'] },
          mean: { type: 'number' },
          std: { type: 'number', exclusiveMinimum: 0 },
          categories: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    labels: { type: 'array', items: { type: 'string' }, minItems: 2 },
    labelColumn: { type: 'string' },
    textField: { type: 'string' },
    trainingData: {
      type: 'object',
      required: ['file', 'sha256', 'records'],
      properties: {
        file: { type: 'string' },
        sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        records: { type: 'integer', minimum: 0 },
      },
    },
    toolVersion: { type: 'string' },
    backend: { type: 'string' },
    seed: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    training: { type: 'object' },
  },
  allOf: [
    { if: { properties: { task: { const: 'lm' } } }, then: { required: ['tokenizer', 'contextLength'] } },
    { if: { properties: { task: { const: 'classifier' } } }, then: { required: ['features', 'labels'] } },
  ],
};

interface ModelJsonFile {
  modelTopology: unknown;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  trainingConfig?: unknown;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** Serializes a LayersModel through our own save handler: topology JSON and one weights buffer. */
export async function serializeModel(model: tf.LayersModel): Promise<{ modelJson: string; weights: Uint8Array }> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!captured || !captured.modelTopology || !captured.weightSpecs) throw new Error('tfjs returned no model artifacts');
  const data = captured.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(captured.weightData);
  const file: ModelJsonFile = {
    modelTopology: captured.modelTopology,
    format: captured.format ?? 'layers-model',
    generatedBy: captured.generatedBy,
    convertedBy: captured.convertedBy ?? null,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: captured.weightSpecs }],
  };
  if (captured.trainingConfig) file.trainingConfig = captured.trainingConfig;
  return { modelJson: JSON.stringify(file), weights: new Uint8Array(data) };
}



/** The manifest's weight files read and joined in order, with their specs (tfjs converters write any number of shards). */
export function readWeightShards(modelJsonPath: string, json: { weightsManifest?: unknown }, digests?: ReadDigests): { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } {
  const folder = dirname(modelJsonPath);
  const buffers = weightFileNames(modelJsonPath, json).map((name) => {
    try {
      const bytes = readFileSync(confinedModelPath(folder, name, modelJsonPath));
      digests?.set(name, sha256Hex(bytes));
      return bytes;
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(`${modelJsonPath}: weight file "${name}" not found beside it`);
    }
  });
  const specs = (json.weightsManifest as { weights?: tf.io.WeightsManifestEntry[] }[] | undefined ?? []).flatMap((g) => g.weights ?? []);
  const joined = Buffer.concat(buffers);
  return { specs, data: joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength) as ArrayBuffer };
}

/**
 * Loads a tfjs LayersModel from a `model.json` and the weight files its manifest names, without
 * file:// (works on every backend).
 */
export async function loadLayersModelFile(modelJsonPath: string, digests?: ReadDigests): Promise<tf.LayersModel> {
  const json = readJsonOrFail(modelJsonPath, digests) as Partial<ModelJsonFile>;
  if (!json || typeof json !== 'object' || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new InputError(`${modelJsonPath}: not a tfjs LayersModel model.json (needs modelTopology and weightsManifest)`);
  }
  const { specs, data } = readWeightShards(modelJsonPath, json, digests);
  try {
    return await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology as object,
        weightSpecs: specs,
        weightData: data,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy ?? undefined,
      }),
    );
  } catch (e) {
    throw new InputError(`${modelJsonPath}: tfjs cannot load this model (${String((e as Error).message ?? e).split('\n')[0]})`);
  }
}


// Temporary directories of saves in progress, removed if the process exits mid-save.
const pendingDirs = new Set<string>();
let exitHook = false;

/**
 * Writes a model directory atomically. An existing model directory at `dir` is replaced; an
 * existing folder that is not a model directory (and not empty) is refused rather than clobbered.
 */
export interface SaveModelDirOptions {
  /** Writes more files into the finished temporary directory before it is renamed into place (e.g. signed provenance). */
  beforePublish?: (tempDir: string) => Promise<void>;
}

export async function saveModelDir(dir: string, model: tf.LayersModel, meta: ModelMeta, privacy: PrivacyRecord = nonPrivate, options: SaveModelDirOptions = {}): Promise<void> {
  validate(modelMetaSchema, meta, `${META_JSON} (to be written)`);
  parsePrivacyFile(privacy, `${PRIVACY_JSON} (to be written)`);
  const target = resolve(dir);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new UsageError(`${dir}: exists and is not a directory`);
    const entries = readdirSync(target);
    if (entries.length > 0 && !entries.includes(META_JSON)) {
      throw new UsageError(`${dir}: exists and is not a memaudit model directory; refusing to overwrite it`);
    }
  }
  const { modelJson, weights } = await serializeModel(model);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const d of pendingDirs) removeTemp(d);
    });
  }
  const temp = tempPathFor(target);
  const old = `${temp}.old`;
  pendingDirs.add(temp);
  try {
    mkdirSync(dirname(target), { recursive: true });
    mkdirSync(temp);
    writeFileSync(join(temp, MODEL_JSON), modelJson);
    writeFileSync(join(temp, WEIGHTS_BIN), weights);
    writeFileSync(join(temp, META_JSON), JSON.stringify(meta, null, 2) + '\n');
    writeFileSync(join(temp, PRIVACY_JSON), JSON.stringify(privacy, null, 2) + '\n');
    await options.beforePublish?.(temp);
    if (existsSync(target)) {
      renameSync(target, old);
      pendingDirs.add(old);
    }
    renameSync(temp, target);
  } catch (e) {
    rethrowWriteFailure(e, dir);
  } finally {
    removeTemp(temp);
    removeTemp(old);
    pendingDirs.delete(temp);
    pendingDirs.delete(old);
  }
}

export interface LoadedModelDir {
  model: tf.LayersModel;
  meta: ModelMeta;
  privacy: PrivacyRecord;
  /** Every file read, with the sha256 of the bytes read (what modelFiles lists, from this very load). */
  files: ModelFile[];
}

/** Reads memaudit.json only (validated), without loading weights. */
export function readModelMeta(dir: string, digests?: ReadDigests): ModelMeta {
  const path = join(dir, META_JSON);
  if (!existsSync(path)) {
    throw new InputError(existsSync(dir) ? `${dir}: not a memaudit model directory (${META_JSON} not found)` : `${dir}: model directory not found`);
  }
  return validate<ModelMeta>(modelMetaSchema, readJsonOrFail(path, digests), path);
}

/** Reads privacy.json (validated). A model directory without one is treated as not trained by memaudit with DP. */
export function readPrivacyRecord(dir: string, digests?: ReadDigests): PrivacyRecord {
  const path = join(dir, PRIVACY_JSON);
  if (!existsSync(path)) return nonPrivate;
  return parsePrivacyFile(readJsonOrFail(path, digests), path);
}


export async function loadModelDir(dir: string): Promise<LoadedModelDir> {
  const digests: ReadDigests = new Map();
  const meta = readModelMeta(dir, digests);
  const privacy = readPrivacyRecord(dir, digests);
  const model = await loadLayersModelFile(join(dir, MODEL_JSON), digests);
  checkMetaAgainstModel(model, meta, dir);
  return { model, meta, privacy, files: filesRead(digests) };
}

/** The model's shapes must agree with memaudit.json, else the target would silently misread it. */
function checkMetaAgainstModel(model: tf.LayersModel, meta: ModelMeta, dir: string): void {
  const out = model.outputs[0]?.shape;
  const units = out?.[out.length - 1];
  const expected = meta.task === 'lm' ? meta.tokenizer?.vocab.length : meta.labels?.length;
  if (units !== expected) {
    throw new InputError(`${join(dir, META_JSON)}: the model outputs ${units} classes but memaudit.json describes ${expected} (${meta.task === 'lm' ? 'vocabulary' : 'labels'})`);
  }
  if (meta.task === 'lm') {
    const inShape = model.inputs[0]?.shape;
    if (inShape?.length !== 2 || inShape[1] !== meta.contextLength) {
      throw new InputError(`${join(dir, META_JSON)}: contextLength ${meta.contextLength} does not match the model input shape [${inShape?.join(', ')}]`);
    }
  }
}

