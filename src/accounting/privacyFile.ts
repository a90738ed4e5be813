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
  /** Present when trained with `--self-audit M`. */
  selfAudit?: SelfAuditRecord;
}

/**
 * The trainer's white-box one-run self-audit (docs/SCIENCE.md, "White-box self-audit"): M
 * gradient-space audit canaries, each included with probability 1/2, scored from the noisy updates.
 */
export interface SelfAuditRecord {
  method: 'one-run-whitebox';
  /** Audit canaries, each included with probability 1/2 by a secret bit. */
  canaries: number;
  /** Guesses made (the most confident in and out canaries; the rest abstain). */
  guesses: number;
  correct: number;
  epsilonLowerBound: number;
  confidence: number;
  /** The largest bound this many audit canaries could give at this confidence. */
  ceiling: number;
  claimedEpsilon: number;
  /** epsilonLowerBound > claimedEpsilon. */
  refuted: boolean;
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
    selfAudit: {
      type: 'object',
      required: ['method', 'canaries', 'guesses', 'correct', 'epsilonLowerBound', 'confidence', 'ceiling', 'claimedEpsilon', 'refuted'],
      properties: {
        method: { const: 'one-run-whitebox' },
        canaries: { type: 'integer', minimum: 1 },
        guesses: { type: 'integer', minimum: 0 },
        correct: { type: 'integer', minimum: 0 },
        epsilonLowerBound: nonNegative,
        confidence: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
        ceiling: nonNegative,
        claimedEpsilon: nonNegative,
        refuted: { type: 'boolean' },
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
