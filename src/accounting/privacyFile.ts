/**
 * privacy.json, the DP ledger a model directory carries (DESIGN.md "Model directory"): its type,
 * JSON Schema, and reader. A model trained without DP may carry `{"version": 1, "dp": false}`.
 */
import { InputError } from '../core/errors.js';
import { readJsonFile, validate, type JsonSchema } from '../core/schema.js';
import type { AccountantName, Segment } from './types.js';

export interface PrivacyLedgerFile {
  version: 1;
  dp: true;
  mechanism: 'poisson-subsampled-gaussian';
  neighboring: 'add-or-remove-one';
  sampler: 'poisson';
  datasetSize: number;
  /** Of the last segment (every segment is in `segments`). */
  samplingRate: number;
  expectedBatchSize: number;
  /** Of the last segment. */
  noiseMultiplier: number;
  clipNorm: number;
  steps: number;
  delta: number;
  segments: Segment[];
  epsilon: { rdp: number; pld: number };
  optimalOrder: number;
  /** The accountant whose epsilon is reported as "epsilon". */
  accountant: AccountantName;
  noiseSource: 'csprng' | 'seeded';
  /** RDP epsilon over training, thinned to about 200 points, for the report chart. */
  epsilonHistory: { step: number; epsilon: number }[];
}

export interface NonDpPrivacyFile {
  version: 1;
  dp: false;
}

export type PrivacyFile = PrivacyLedgerFile | NonDpPrivacyFile;

const nonNegative = { type: 'number', minimum: 0 };
const segmentSchema = {
  type: 'object',
  required: ['samplingRate', 'noiseMultiplier', 'steps'],
  additionalProperties: false,
  properties: {
    samplingRate: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    noiseMultiplier: { type: 'number', exclusiveMinimum: 0 },
    steps: { type: 'integer', minimum: 0 },
  },
};

const dpSchema = {
  type: 'object',
  required: [
    'version', 'dp', 'mechanism', 'neighboring', 'sampler', 'datasetSize', 'samplingRate', 'expectedBatchSize',
    'noiseMultiplier', 'clipNorm', 'steps', 'delta', 'segments', 'epsilon', 'optimalOrder', 'accountant',
    'noiseSource', 'epsilonHistory',
  ],
  properties: {
    version: { const: 1 },
    dp: { const: true },
    mechanism: { const: 'poisson-subsampled-gaussian' },
    neighboring: { const: 'add-or-remove-one' },
    sampler: { const: 'poisson' },
    datasetSize: { type: 'integer', minimum: 1 },
    samplingRate: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    expectedBatchSize: nonNegative,
    noiseMultiplier: { type: 'number', exclusiveMinimum: 0 },
    clipNorm: { type: 'number', exclusiveMinimum: 0 },
    steps: { type: 'integer', minimum: 0 },
    delta: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
    segments: { type: 'array', items: segmentSchema },
    epsilon: {
      type: 'object',
      required: ['rdp', 'pld'],
      additionalProperties: false,
      properties: { rdp: nonNegative, pld: nonNegative },
    },
    optimalOrder: { type: 'number', exclusiveMinimum: 1 },
    accountant: { enum: ['rdp', 'pld'] },
    noiseSource: { enum: ['csprng', 'seeded'] },
    epsilonHistory: {
      type: 'array',
      items: {
        type: 'object',
        required: ['step', 'epsilon'],
        additionalProperties: false,
        properties: { step: { type: 'integer', minimum: 0 }, epsilon: nonNegative },
      },
    },
  },
};

const nonDpSchema = {
  type: 'object',
  required: ['version', 'dp'],
  additionalProperties: false,
  properties: { version: { const: 1 }, dp: { const: false } },
};

/** JSON Schema (draft-07) of privacy.json. */
export const privacyFileSchema: JsonSchema = {
  $id: 'https://memaudit.dev/schemas/privacy.schema.json',
  title: 'memaudit privacy.json (DP ledger of a model directory)',
  type: 'object',
  required: ['version', 'dp'],
  properties: { version: { const: 1 }, dp: { type: 'boolean' } },
  if: { properties: { dp: { const: true } } },
  then: dpSchema,
  else: nonDpSchema,
};

/** Validates parsed privacy.json content; `source` names it in errors. */
export function parsePrivacyFile(data: unknown, source: string): PrivacyFile {
  const file = validate<PrivacyFile>(privacyFileSchema, data, source);
  if (file.dp) {
    // Consistency the schema cannot express: the segments add up to the step count.
    const total = file.segments.reduce((n, s) => n + s.steps, 0);
    if (total !== file.steps) throw new InputError(`${source}: /segments: steps add up to ${total}, but /steps is ${file.steps}`);
  }
  return file;
}

/** Reads and validates a privacy.json (DP ledger, or the non-DP marker). */
export function readPrivacyLedger(path: string): PrivacyFile {
  return parsePrivacyFile(readJsonFile(path), path);
}
