/**
 * Job kind "train-shadow": trains one shadow model with the trainer (src/train) on records
 * rebuilt from references (shadow-data.ts) and writes it to `<outDir>/model` as an ordinary
 * model directory. The trainer's configuration is the target's, with the job's seed.
 */
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { sha256Json } from '../core/hash.js';
import { saveTrainedModel, trainModel, type TrainConfig, type TrainingRecords } from '../train/index.js';
import { materializeSources, type ShadowSource } from './shadow-data.js';
import type { JobHandler, JobSpec, Json } from './types.js';

export type { ShadowSource } from './shadow-data.js';

export interface TrainShadowPayload {
  /** The trainer configuration (TrainConfig as plain JSON), without a seed: the job's seed is used. */
  train: Json;
  task: 'lm' | 'classifier';
  /** Classifiers: the label column of the rows. */
  labelColumn?: string;
  sources: ShadowSource[];
}

/** Subdirectory of a job's output holding the model directory. */
export const SHADOW_MODEL_DIR = 'model';

async function trainingRecords(payload: TrainShadowPayload): Promise<TrainingRecords> {
  const records = await materializeSources(payload.sources, payload.labelColumn);
  // The shadow's "training file" is the list of references: its digest stands in for a file digest.
  const source = { file: 'shadow-training-set', sha256: sha256Json(payload.sources.map(({ path: _path, ...rest }) => rest)), records: records.length };
  if (records.length === 0) throw new UsageError('a shadow model needs at least one training record');
  if (payload.task === 'classifier') {
    if (!payload.labelColumn) throw new UsageError('a classifier shadow model needs the label column');
    return { task: 'classifier', rows: records.map((r) => r.row ?? {}), labelColumn: payload.labelColumn, source };
  }
  return { task: 'lm', texts: records.map((r) => r.text ?? r.raw), source };
}

export const trainShadowHandler: JobHandler = {
  async run(spec: JobSpec, outDir: string): Promise<Json> {
    const payload = spec.payload as unknown as TrainShadowPayload;
    const config = { ...(payload.train as unknown as TrainConfig), seed: spec.seed };
    const records = await trainingRecords(payload);
    const result = await trainModel(config, records);
    try {
      await saveTrainedModel(join(outDir, SHADOW_MODEL_DIR), result);
    } finally {
      result.model.dispose();
    }
    return { records: records.source.records, steps: result.steps, finalLoss: result.finalLoss, epsilon: result.epsilon };
  },
};
