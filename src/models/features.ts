/**
 * Tabular features for the mlp classifier: numeric columns are standardized with the training
 * mean and standard deviation, categorical columns are one-hot encoded over the categories seen
 * in training (an unseen category encodes as all zeros). The same specs, stored in
 * memaudit.json, featurize rows at training time and in the local target, so both agree.
 */
import { InputError } from '../core/errors.js';
import type { FeatureRow } from '../targets/target.js';

export interface FeatureSpec {
  name: string;
  kind: 'numeric' | 'categorical';
  mean?: number;
  std?: number;
  categories?: string[];
}

/** Width of the feature vector the specs produce. */
export function featureWidth(features: readonly FeatureSpec[]): number {
  let width = 0;
  for (const f of features) width += f.kind === 'numeric' ? 1 : (f.categories?.length ?? 0);
  return width;
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/**
 * Infers feature specs from training rows: a column is numeric when every value parses as a
 * finite number, else categorical. `exclude` names columns that are not features (the label).
 */
export function fitFeatures(rows: readonly FeatureRow[], exclude: readonly string[] = []): FeatureSpec[] {
  if (rows.length === 0) throw new InputError('no training rows to infer features from');
  const names = Object.keys(rows[0]!).filter((n) => !exclude.includes(n));
  const specs: FeatureSpec[] = [];
  for (const name of names) {
    const values = rows.map((r) => r[name]);
    const numbers = values.map(asNumber);
    if (numbers.every((n) => n !== undefined)) {
      const nums = numbers as number[];
      const mean = nums.reduce((a, b) => a + b, 0) / nums.length;
      const variance = nums.reduce((a, b) => a + (b - mean) ** 2, 0) / nums.length;
      const std = Math.sqrt(variance);
      specs.push({ name, kind: 'numeric', mean, std: std > 0 ? std : 1 });
    } else {
      const categories = [...new Set(values.map((v) => (v === undefined || v === null ? '' : String(v))))].sort();
      specs.push({ name, kind: 'categorical', categories });
    }
  }
  return specs;
}

/** Writes the feature vector of one row into `out` at `offset`. `where` names the row in errors. */
export function featurizeInto(row: FeatureRow, features: readonly FeatureSpec[], out: Float32Array, offset: number, where: string): void {
  let k = offset;
  for (const f of features) {
    const value = row[f.name];
    if (f.kind === 'numeric') {
      const n = asNumber(value);
      if (n === undefined) throw new InputError(`${where}: feature "${f.name}" must be a number, got ${value === undefined || value === null ? 'no value' : 'a non-numeric value'}`);
      out[k++] = (n - (f.mean ?? 0)) / (f.std ?? 1);
    } else {
      const cats = f.categories ?? [];
      const idx = cats.indexOf(value === undefined || value === null ? '' : String(value));
      for (let j = 0; j < cats.length; j++) out[k++] = j === idx ? 1 : 0;
    }
  }
}

/** Feature matrix [rows.length x featureWidth] (row-major) for a batch of rows. */
export function featurize(rows: readonly FeatureRow[], features: readonly FeatureSpec[], source = 'row'): Float32Array {
  const width = featureWidth(features);
  const out = new Float32Array(rows.length * width);
  rows.forEach((row, i) => featurizeInto(row, features, out, i * width, `${source} ${i + 1}`));
  return out;
}
