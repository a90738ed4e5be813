/**
 * JSON Schemas of probe results: the run-info fields every result carries and each probe's own
 * fields. Plain data with no imports but types, apart from the probe modules (which load targets
 * and TensorFlow.js), so readers of results (report.json checks, `gate`) need not load the probes.
 */
import type { JsonSchema } from '../src/core/schema.js';
import type { ProbeName } from './types.js';

const targetDescriptorSchema: JsonSchema = {
  type: 'object',
  required: ['target', 'kind', 'task', 'digest', 'capabilities'],
  properties: {
    target: { type: 'string' },
    kind: { enum: ['local', 'openai', 'tgi', 'kserve', 'tfserving'] },
    task: { enum: ['lm', 'classifier'] },
    digest: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    files: { type: 'array', items: { type: 'object', required: ['name', 'sha256'], properties: { name: { type: 'string' }, sha256: { type: 'string' } } } },
    capabilities: { type: 'object' },
  },
};

/** JSON Schema of ProbeRunInfo: every probe result must match it. */
export const probeRunInfoSchema: JsonSchema = {
  type: 'object',
  required: ['probe', 'version', 'toolVersion', 'backend', 'target', 'manifestDigest', 'seed', 'startedAt', 'finishedAt'],
  properties: {
    probe: { enum: ['exposure', 'extraction', 'membership', 'dp-audit'] },
    version: { const: 1 },
    toolVersion: { type: 'string' },
    backend: { type: 'string' },
    target: targetDescriptorSchema,
    manifestDigest: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    seed: { type: 'string' },
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: 'string', format: 'date-time' },
  },
};

export const exposureResultSchema: JsonSchema = {
  type: 'object',
  required: ['probe', 'spaceSizeLog2', 'canaries', 'byRepetitions', 'reference', 'mode', 'scoring'],
  properties: {
    probe: { const: 'exposure' },
    spaceSizeLog2: { type: 'number', minimum: 0 },
    mode: { enum: ['exact', 'estimated'] },
    scoring: { enum: ['prefix-shared', 'per-text'] },
    canaries: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'role', 'repetitions', 'exposureBits', 'method', 'rank', 'logPerplexity'],
        properties: {
          id: { type: 'string' },
          role: { enum: ['inserted', 'reference'] },
          repetitions: { type: 'integer', minimum: 0 },
          exposureBits: { type: 'number', minimum: 0 },
          method: { enum: ['exact', 'estimated'] },
          rank: { type: 'number', minimum: 1 },
          logPerplexity: { type: ['number', 'string'] },
          exposureInterval: {
            type: 'object',
            required: ['lower', 'upper', 'confidence'],
            properties: { lower: { type: 'number', minimum: 0 }, upper: { type: 'number', minimum: 0 }, confidence: { type: 'number', minimum: 0, maximum: 1 } },
          },
          samples: { type: 'integer', minimum: 0 },
          samplesAtLeastAsLikely: { type: 'integer', minimum: 0 },
        },
      },
    },
    byRepetitions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['repetitions', 'count', 'meanExposureBits', 'maxExposureBits'],
        properties: { repetitions: { type: 'integer' }, count: { type: 'integer' }, meanExposureBits: { type: 'number' }, maxExposureBits: { type: 'number' } },
      },
    },
    reference: {
      type: 'object',
      required: ['count', 'meanExposureBits', 'maxExposureBits'],
      properties: { count: { type: 'integer' }, meanExposureBits: { type: 'number' }, maxExposureBits: { type: 'number' } },
    },
    insertedVsReference: {
      type: 'object',
      required: ['test', 'statistic', 'pValue'],
      properties: { test: { type: 'string' }, statistic: { type: 'number' }, pValue: { type: 'number', minimum: 0, maximum: 1 } },
    },
  },
};

export const extractionResultSchema: JsonSchema = {
  type: 'object',
  required: ['probe', 'targeted', 'untargeted'],
  properties: {
    probe: { const: 'extraction' },
    targeted: {
      type: 'object',
      required: ['attempted', 'extracted', 'byRepetitions', 'beam', 'canaries'],
      properties: {
        attempted: { type: 'integer', minimum: 0 },
        extracted: { type: 'integer', minimum: 0 },
        byRepetitions: {
          type: 'array',
          items: { type: 'object', required: ['repetitions', 'count', 'extracted'], properties: { repetitions: { type: 'integer' }, count: { type: 'integer' }, extracted: { type: 'integer' } } },
        },
        beam: { enum: ['target', 'distributions', 'unavailable'] },
        canaries: {
          type: 'array',
          items: {
            type: 'object',
            // Canary ids and outcomes only: never the secret or the generated text.
            additionalProperties: false,
            required: ['id', 'repetitions', 'role', 'greedy', 'beamRank'],
            properties: {
              id: { type: 'string' },
              repetitions: { type: 'integer' },
              role: { enum: ['inserted', 'reference'] },
              greedy: { type: 'boolean' },
              beamRank: { type: ['integer', 'null'], minimum: 1 },
              secretLogprob: { type: 'number' },
            },
          },
        },
      },
    },
    untargeted: {
      type: 'object',
      required: ['samples', 'identifiers', 'verbatimTrainingMatches'],
      properties: {
        samples: { type: 'integer', minimum: 0 },
        identifiers: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } },
        verbatimTrainingMatches: { type: ['integer', 'null'], minimum: 0 },
        top: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['sha256', 'perplexity', 'zlibRatio', 'identifiers'],
            properties: {
              sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
              perplexity: { type: 'number' },
              zlibRatio: { type: 'number' },
              identifiers: { type: 'array', items: { type: 'string' } },
              perplexityRank: { type: 'integer' },
              zlibRank: { type: 'integer' },
              verbatimRecords: { type: ['integer', 'null'] },
            },
          },
        },
      },
    },
  },
};

const fprRecord = { type: 'object', required: ['0.001', '0.01', '0.1'], properties: { '0.001': { type: 'number' }, '0.01': { type: 'number' }, '0.1': { type: 'number' } } };

export const membershipResultSchema: JsonSchema = {
  type: 'object',
  required: ['population', 'attacks', 'skipped'],
  properties: {
    population: { enum: ['manifest', 'files', 'records'] },
    records: {
      type: 'object',
      required: ['training', 'holdout', 'members', 'nonMembers'],
      properties: {
        training: { type: 'object', required: ['sha256', 'realRecords'], properties: { sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' }, realRecords: { type: 'integer', minimum: 1 } } },
        holdout: { type: 'object', required: ['sha256', 'records'], properties: { sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' }, records: { type: 'integer', minimum: 1 } } },
        members: { type: 'integer', minimum: 1 },
        nonMembers: { type: 'integer', minimum: 1 },
      },
    },
    attacks: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'members', 'nonMembers', 'auc', 'tprAtFpr'],
        properties: {
          name: { type: 'string' },
          members: { type: 'integer', minimum: 1 },
          nonMembers: { type: 'integer', minimum: 1 },
          auc: { type: 'number', minimum: 0, maximum: 1 },
          tprAtFpr: fprRecord,
        },
      },
    },
  },
};

export const dpAuditResultSchema: JsonSchema = {
  type: 'object',
  required: ['method', 'epsilonLowerBound', 'confidence', 'ceiling', 'claimedEpsilon', 'refuted', 'delta', 'canaries'],
  properties: {
    method: { enum: ['clopper-pearson', 'one-run'] },
    epsilonLowerBound: { type: 'number', minimum: 0 },
    confidence: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
    ceiling: { type: 'number', minimum: 0 },
    claimedEpsilon: { type: ['number', 'null'] },
    refuted: { type: 'boolean' },
    delta: { type: 'number' },
    canaries: { type: 'integer', minimum: 2 },
  },
};

/** Each probe's own result schema, by probe name. */
export const probeResultSchemas: Readonly<Record<ProbeName, JsonSchema>> = {
  exposure: exposureResultSchema,
  extraction: extractionResultSchema,
  membership: membershipResultSchema,
  'dp-audit': dpAuditResultSchema,
};
