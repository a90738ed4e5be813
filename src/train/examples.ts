/**
 * Training records -> examples -> batches. The privacy unit is the record: for the char LM one
 * example is one record's whole text (all its windows), for the mlp one table row. Records are
 * plain JSON (they cross worker-thread and queue boundaries); readTrainingRecords reads them
 * from a file with src/data and digests the file for memaudit.json.
 */
import { basename } from 'node:path';
import { tf } from '../core/backend.js';
import { InputError } from '../core/errors.js';
import { sha256File } from '../core/hash.js';
import { readRecords } from '../data/index.js';
import type { DataFormat } from '../data/index.js';
import type { FeatureRow } from '../targets/target.js';
import { contextWindows, type CharTokenizer } from '../models/tokenizer.js';
import { featureWidth, featurizeInto, type FeatureSpec } from '../models/features.js';
import type { TrainingDataDigest } from '../models/model-dir.js';
import type { Batch } from './batch.js';

export type TrainingRecords =
  | { task: 'lm'; texts: string[]; source: TrainingDataDigest; textField?: string }
  | { task: 'classifier'; rows: FeatureRow[]; labelColumn: string; source: TrainingDataDigest };

export interface ReadTrainingOptions {
  format?: DataFormat;
  textField?: string;
  /** Set for a classifier: the column (CSV) or field (JSONL) holding the label. */
  labelColumn?: string;
}

/** Reads the training file into records (text for the LM, rows for a classifier) with its digest. */
export async function readTrainingRecords(path: string, options: ReadTrainingOptions = {}): Promise<TrainingRecords> {
  if (options.labelColumn !== undefined) {
    const label = options.labelColumn;
    const rows: FeatureRow[] = [];
    for await (const rec of readRecords(path, { format: options.format })) {
      let row: Record<string, unknown>;
      if (rec.row) row = rec.row;
      else {
        try {
          row = JSON.parse(rec.raw) as Record<string, unknown>;
        } catch {
          throw new InputError(`${path} line ${rec.line}: a classifier needs CSV or JSONL rows`);
        }
      }
      if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new InputError(`${path} line ${rec.line}: expected a row of named columns`);
      if (!(label in row)) throw new InputError(`${path} line ${rec.line}: no column "${label}" (--label-column)`);
      const out: FeatureRow = {};
      for (const [k, v] of Object.entries(row)) {
        if (typeof v === 'number' || typeof v === 'string') out[k] = v;
        else if (typeof v === 'boolean') out[k] = String(v);
        else if (v === null) out[k] = '';
        else throw new InputError(`${path} line ${rec.line}: column "${k}" is not a number or string`);
      }
      rows.push(out);
    }
    if (rows.length === 0) throw new InputError(`${path}: no records`);
    return { task: 'classifier', rows, labelColumn: label, source: { file: basename(path), sha256: await sha256File(path), records: rows.length } };
  }
  const texts: string[] = [];
  for await (const rec of readRecords(path, { format: options.format, textField: options.textField })) {
    if (typeof rec.text !== 'string') {
      throw new InputError(`${path} line ${rec.line}: no text${options.textField ? ` in "${options.textField}"` : ''} (--text-field)`);
    }
    texts.push(rec.text);
  }
  if (texts.length === 0) throw new InputError(`${path}: no records`);
  return { task: 'lm', texts, textField: options.textField, source: { file: basename(path), sha256: await sha256File(path), records: texts.length } };
}

/** Examples ready for batching: each example's rows (inputs, targets), host side. */
export interface ExampleSet {
  size: number;
  /** Row shape without the batch axis. */
  rowShape: number[];
  dtype: 'int32' | 'float32';
  /** Rows of example i: inputs[i] (rowCount x rowSize), targets[i]. */
  inputs: (Int32Array | Float32Array)[];
  targets: Int32Array[];
}

export function lmExamples(texts: readonly string[], tokenizer: CharTokenizer, contextLength: number): ExampleSet {
  const inputs: Int32Array[] = [];
  const targets: Int32Array[] = [];
  for (const text of texts) {
    const w = contextWindows(tokenizer.encode(text), contextLength);
    inputs.push(w.contexts);
    targets.push(w.targets);
  }
  return { size: texts.length, rowShape: [contextLength], dtype: 'int32', inputs, targets };
}

export function classifierExamples(rows: readonly FeatureRow[], features: readonly FeatureSpec[], labels: readonly string[], labelColumn: string, source: string): ExampleSet {
  const width = featureWidth(features);
  const index = new Map(labels.map((l, i) => [l, i]));
  const inputs: Float32Array[] = [];
  const targets: Int32Array[] = [];
  rows.forEach((row, i) => {
    const x = new Float32Array(width);
    featurizeInto(row, features, x, 0, `${source} record ${i + 1}`);
    inputs.push(x);
    const label = index.get(String(row[labelColumn]));
    if (label === undefined) throw new InputError(`${source} record ${i + 1}: the value of column "${labelColumn}" is not one of the model's labels`);
    targets.push(Int32Array.of(label));
  });
  return { size: rows.length, rowShape: [width], dtype: 'float32', inputs, targets };
}

/** The batch of the given examples (sorted indices): their rows, contiguous, with weights 1/rows. */
export function makeBatch(set: ExampleSet, indices: readonly number[]): Batch {
  const rowSize = set.rowShape.reduce((a, b) => a * b, 1);
  let rows = 0;
  for (const i of indices) rows += set.targets[i]!.length;
  const x = set.dtype === 'int32' ? new Int32Array(rows * rowSize) : new Float32Array(rows * rowSize);
  const targets = new Int32Array(rows);
  const weights = new Float32Array(rows);
  const segments = new Int32Array(rows);
  let r = 0;
  indices.forEach((exampleIndex, k) => {
    const t = set.targets[exampleIndex]!;
    x.set(set.inputs[exampleIndex]!, r * rowSize);
    targets.set(t, r);
    weights.fill(1 / t.length, r, r + t.length);
    segments.fill(k, r, r + t.length);
    r += t.length;
  });
  return {
    x: tf.tensor(x, [rows, ...set.rowShape], set.dtype),
    targets: tf.tensor1d(targets, 'int32'),
    rowWeights: tf.tensor1d(weights),
    segments,
    numExamples: indices.length,
    hostIds: set.dtype === 'int32' ? (x as Int32Array) : undefined,
  };
}

/** Splits sorted example indices into chunks of at most `maxRows` rows (an example is never split). */
export function chunkByRows(set: ExampleSet, indices: readonly number[], maxRows: number): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let rows = 0;
  for (const i of indices) {
    const n = set.targets[i]!.length;
    if (current.length > 0 && rows + n > maxRows) {
      chunks.push(current);
      current = [];
      rows = 0;
    }
    current.push(i);
    rows += n;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
