/** JSON Schemas (draft-07) of the canary set and the insertion manifest, validated when read. */
import type { JsonSchema } from '../core/schema.js';

const secretSpace = {
  type: 'object',
  required: ['slots'],
  properties: {
    slots: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', required: ['format'], properties: { format: { type: 'string' }, params: { type: 'object' } } },
    },
  },
};

const canary = {
  type: 'object',
  required: ['id', 'text', 'prefix', 'secret', 'suffix', 'format'],
  properties: {
    id: { type: 'string', minLength: 1 },
    text: { type: 'string', minLength: 1 },
    prefix: { type: 'string' },
    secret: { type: 'string', minLength: 1 },
    suffix: { type: 'string' },
    format: { type: 'string', minLength: 1 },
    record: { type: 'object', additionalProperties: { type: ['string', 'number'] } },
    label: { type: 'string' },
  },
};

const common = {
  version: { const: 1 },
  pack: { type: 'string', minLength: 1 },
  kind: { enum: ['text', 'tabular'] },
  secretSpace,
  spaceSize: { type: 'string', pattern: '^[1-9][0-9]*$' },
  spaceSizeLog2: { type: 'number', minimum: 0 },
  seed: { type: 'string' },
};

export const canarySetSchema: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'memaudit canary set',
  type: 'object',
  required: ['version', 'pack', 'packDigest', 'kind', 'secretSpace', 'spaceSize', 'spaceSizeLog2', 'seed', 'canaries'],
  properties: {
    ...common,
    packDigest: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    labelColumn: { type: 'string', minLength: 1 },
    canaries: { type: 'array', minItems: 1, items: canary },
  },
};

const datasetDigest = {
  type: 'object',
  required: ['path', 'sha256', 'records', 'format'],
  properties: {
    path: { type: 'string' },
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    records: { type: 'integer', minimum: 0 },
    format: { enum: ['jsonl', 'csv', 'text'] },
  },
};

export const manifestSchema: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'memaudit insertion manifest',
  type: 'object',
  required: ['version', 'mode', 'seed', 'pack', 'kind', 'secretSpace', 'spaceSize', 'spaceSizeLog2', 'input', 'output', 'canaries', 'createdAt', 'toolVersion'],
  properties: {
    ...common,
    mode: { enum: ['fixed', 'bernoulli'] },
    input: datasetDigest,
    output: datasetDigest,
    holdout: datasetDigest,
    textField: { type: 'string', minLength: 1 },
    labelColumn: { type: 'string', minLength: 1 },
    inclusionProbability: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
    canaries: {
      type: 'array',
      minItems: 1,
      items: {
        allOf: [canary],
        required: ['role', 'repetitions'],
        properties: { role: { enum: ['inserted', 'reference'] }, repetitions: { type: 'integer', minimum: 0 } },
      },
    },
    createdAt: { type: 'string', format: 'date-time' },
    toolVersion: { type: 'string' },
  },
};
