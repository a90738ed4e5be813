/**
 * Shared by the classifier API targets: rows to numeric matrices, and model outputs to class
 * probabilities.
 */
import { InputError } from '../../core/errors.js';
import type { FeatureRow } from '../target.js';

/** Rows as a numeric matrix in `features` order; a missing or non-numeric value names its row and column. */
export function featureMatrix(rows: FeatureRow[], features: string[]): number[][] {
  return rows.map((row, r) =>
    features.map((name) => {
      const raw = row[name];
      if (raw === undefined) throw new InputError(`row ${r}: feature "${name}" is missing`);
      const value = typeof raw === 'number' ? raw : Number(raw);
      if (!Number.isFinite(value)) throw new InputError(`row ${r}: feature "${name}" is not a number (the model takes numeric inputs)`);
      return value;
    }),
  );
}

/**
 * Class probabilities from a model's output rows. Rows already summing to 1 with non-negative
 * entries are probabilities; a single column in [0, 1] is p(class 1) of a sigmoid; anything else is
 * taken as logits and softmaxed (servers differ: KServe's HF runtime returned raw logits under
 * --return_probabilities in some versions, interfaces.md A.7).
 */
export function toProbabilities(outputs: number[][], source: string): number[][] {
  const width = outputs[0]?.length ?? 0;
  if (outputs.some((row) => row.length !== width || row.some((v) => typeof v !== 'number' || !Number.isFinite(v)))) {
    throw new InputError(`${source}: the output is not a numeric [rows, classes] matrix`);
  }
  if (width === 1 && outputs.every((row) => row[0]! >= 0 && row[0]! <= 1)) return outputs.map(([p]) => [1 - p!, p!]);
  const areProbabilities = outputs.every((row) => row.every((v) => v >= 0) && Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-3);
  if (areProbabilities) return outputs;
  return outputs.map((row) => {
    const max = Math.max(...row);
    const exps = row.map((v) => Math.exp(v - max));
    const sum = exps.reduce((s, v) => s + v, 0);
    return exps.map((v) => v / sum);
  });
}

/** Reshapes a flat row-major tensor into rows of `width`. */
export function reshapeRows(data: number[], rows: number, source: string): number[][] {
  if (rows === 0) return [];
  if (data.length % rows !== 0) throw new InputError(`${source}: ${data.length} output values do not split into ${rows} rows`);
  const width = data.length / rows;
  return Array.from({ length: rows }, (_, r) => data.slice(r * width, (r + 1) * width));
}

/** Labels for `width` classes: the user's, else the class indices. */
export function labelsFor(width: number, labels: string[] | undefined, source: string): string[] {
  if (labels === undefined) return Array.from({ length: width }, (_, i) => String(i));
  if (labels.length !== width) throw new InputError(`${source}: the model outputs ${width} classes but --labels names ${labels.length}`);
  return labels;
}

/** Picks the output most likely to hold probabilities when a model has several. */
export function pickOutputName(names: string[]): string | undefined {
  return names.find((n) => /prob/i.test(n)) ?? names.find((n) => /score|logit|output/i.test(n)) ?? names[0];
}
