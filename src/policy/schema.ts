/** JSON Schema (draft-07) of a policy file; every field is required so a policy says what it means. */
import type { JsonSchema } from '../core/schema.js';

const why = { type: 'string' };
const probeName = { enum: ['exposure', 'extraction', 'membership', 'dp-audit'] };

export const policySchema: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'name', 'alpha', 'beta', 'requiredProbes', 'coverage', 'power', 'exposure', 'extraction', 'membership', 'dp'],
  properties: {
    $schema: { type: 'string' },
    version: { const: 1 },
    name: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    alpha: { type: 'number', exclusiveMinimum: 0, maximum: 0.2 },
    alphaWhy: why,
    beta: { type: 'number', exclusiveMinimum: 0, maximum: 0.5 },
    betaWhy: why,
    // At least one: NOT_PHI needs a required probe to pass (an empty list would clear a model on no evidence).
    requiredProbes: { type: 'array', items: probeName, uniqueItems: true, minItems: 1 },
    requiredProbesWhy: why,
    coverage: {
      type: 'object',
      additionalProperties: false,
      required: ['repetitions'],
      properties: {
        repetitions: { oneOf: [{ const: 'inserted' }, { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1, uniqueItems: true }] },
        why,
      },
    },
    power: {
      type: 'object',
      additionalProperties: false,
      required: ['minCanariesPerRepetition', 'minReferenceCanaries', 'minSecretSpaceBits'],
      properties: {
        minCanariesPerRepetition: { type: 'integer', minimum: 1 },
        minReferenceCanaries: { type: 'integer', minimum: 1 },
        minSecretSpaceBits: { type: 'number', minimum: 0 },
        why,
      },
    },
    exposure: {
      type: 'object',
      additionalProperties: false,
      required: ['maxBits', 'maxFraction', 'samples', 'maxSamples', 'intervalConfidence'],
      properties: {
        maxBits: { type: 'number', exclusiveMinimum: 0 },
        maxFraction: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
        samples: { type: 'integer', minimum: 10 },
        maxSamples: { type: 'integer', minimum: 10 },
        intervalConfidence: { type: 'number', exclusiveMinimum: 0.5, exclusiveMaximum: 1 },
        why,
      },
    },
    extraction: {
      type: 'object',
      additionalProperties: false,
      required: ['maxExtracted'],
      properties: { maxExtracted: { type: 'integer', minimum: 0 }, why },
    },
    membership: {
      type: 'object',
      additionalProperties: false,
      required: ['fpr', 'maxTpr', 'attacks'],
      properties: {
        fpr: { enum: ['0.001', '0.01', '0.1'] },
        maxTpr: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
        attacks: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, uniqueItems: true },
        why,
      },
    },
    dp: {
      type: 'object',
      additionalProperties: false,
      required: ['required', 'maxEpsilon', 'maxDelta', 'acceptSeededNoise', 'auditWhenClaimed', 'standIn'],
      properties: {
        required: { type: 'boolean' },
        maxEpsilon: { type: 'number', exclusiveMinimum: 0 },
        maxDelta: { type: 'number', minimum: 0, exclusiveMaximum: 1 },
        acceptSeededNoise: { type: 'boolean' },
        auditWhenClaimed: { type: 'boolean' },
        standIn: { type: 'boolean' },
        why,
      },
    },
  },
};
