/**
 * JSON Schema of report.json. It pins what the verdict reads (manifest summary, the ledger, the
 * verdict) and holds each probe's result to that probe's own schema (probes/registry.ts). Numbers
 * that may be infinite are written as "Infinity" (JSON has no infinity), so those fields accept
 * that string.
 */
import type { JsonSchema } from '../core/schema.js';
// probes/schemas.ts, not the probe modules: reading a report (gate) must not load TensorFlow.js.
import { probeResultSchemas, probeRunInfoSchema } from '../../probes/schemas.js';
import type { ProbeName } from '../../probes/types.js';
import { policySchema } from '../policy/schema.js';

// The policy schema nested without its $schema keyword (allowed only at the root).
const { $schema: _policyDialect, ...policyBody } = policySchema;

const numberish = { anyOf: [{ type: 'number' }, { enum: ['Infinity', '-Infinity', 'NaN'] }] };
const digest = { type: 'string', pattern: '^[0-9a-f]{64}$' };
const count = { type: 'integer', minimum: 0 };

const reason = {
  type: 'object',
  required: ['probe', 'metric', 'value', 'threshold', 'message', 'outcome'],
  properties: {
    probe: { type: 'string' },
    metric: { type: 'string' },
    value: { anyOf: [numberish, { type: 'null' }] },
    threshold: { anyOf: [numberish, { type: 'null' }] },
    comparator: { enum: ['<=', '>=', '<', '>', null] },
    outcome: { enum: ['PHI', 'INCONCLUSIVE', 'PASS', 'INFO'] },
    message: { type: 'string' },
  },
};

// ---- probe results: the probes' own schemas ------------------------------------------------------

const nonFinite = { enum: ['Infinity', '-Infinity', 'NaN'] };

/**
 * A schema as report.json needs it: every number may also be "Infinity", "-Infinity" or "NaN",
 * the strings serializeReport writes for non-finite numbers (JSON has none). enum, const and
 * required hold values and names, not schemas, and are kept as they are.
 */
export function widenNumbers(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(widenNumbers);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === 'enum' || k === 'const' || k === 'required' ? v : widenNumbers(v);
  const type = out.type;
  const numeric = type === 'number' || (Array.isArray(type) && type.includes('number'));
  return numeric ? { anyOf: [out, nonFinite] } : out;
}

/**
 * A probe's result in report.json: exactly what `memaudit probe` validates before writing (the
 * run-info fields and the probe module's resultSchema), so the two can never disagree.
 */
function probeResult(name: ProbeName, schema: JsonSchema): JsonSchema {
  return { allOf: [widenNumbers(probeRunInfoSchema), widenNumbers(schema), { properties: { probe: { const: name } } }] } as JsonSchema;
}

const probeResults = Object.fromEntries(Object.entries(probeResultSchemas).map(([name, schema]) => [name, probeResult(name as ProbeName, schema)]));

const ledger = {
  anyOf: [
    { type: 'null' },
    { type: 'object', required: ['version', 'dp'], properties: { version: { const: 1 }, dp: { const: false } } },
    {
      type: 'object',
      required: ['version', 'dp', 'epsilon', 'accountant', 'delta', 'noiseSource', 'steps'],
      properties: {
        version: { const: 1 },
        dp: { const: true },
        epsilon: { type: 'object', required: ['rdp', 'pld'], properties: { rdp: numberish, pld: numberish } },
        accountant: { enum: ['rdp', 'pld'] },
        delta: { type: 'number' },
        noiseSource: { enum: ['csprng', 'seeded'] },
        steps: count,
        epsilonHistory: { type: 'array', items: { type: 'object', required: ['step', 'epsilon'], properties: { step: count, epsilon: numberish } } },
      },
    },
  ],
};

const selfAudit = {
  type: 'object',
  required: ['method', 'canaries', 'guesses', 'correct', 'epsilonLowerBound', 'confidence', 'ceiling', 'claimedEpsilon', 'refuted'],
  properties: { method: { const: 'one-run-whitebox' }, canaries: count, guesses: count, correct: count, epsilonLowerBound: numberish, ceiling: numberish, claimedEpsilon: numberish, refuted: { type: 'boolean' } },
};

// Optional: absent without a DP claim, and in reports written before claims were verified.
const dpClaim = {
  type: 'object',
  required: ['ledgerVerified', 'mismatches', 'recomputedEpsilon', 'provenance'],
  properties: {
    ledgerVerified: { type: 'boolean' },
    mismatches: {
      type: 'array',
      items: { type: 'object', required: ['field', 'ledger', 'expected'], properties: { field: { type: 'string' }, ledger: { type: 'string' }, expected: { type: 'string' } } },
    },
    recomputedEpsilon: { anyOf: [numberish, { type: 'null' }] },
    provenance: { enum: ['trusted', 'untrusted', 'unsigned', 'invalid'] },
    provenanceKeyId: digest,
    provenanceProblem: { type: 'string' },
    selfAudit,
  },
};

export const reportSchema: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  required: ['version', 'kind', 'toolVersion', 'backend', 'seed', 'startedAt', 'finishedAt', 'target', 'manifest', 'results', 'failures', 'ledger', 'policy', 'verdict'],
  properties: {
    version: { const: 1 },
    kind: { const: 'memaudit-report' },
    toolVersion: { type: 'string' },
    backend: { type: 'string' },
    seed: { type: 'string' },
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: 'string', format: 'date-time' },
    target: {
      type: 'object',
      required: ['target', 'kind', 'task', 'digest', 'capabilities'],
      properties: {
        target: { type: 'string' },
        digest,
        files: { type: 'array', items: { type: 'object', required: ['name', 'sha256'], properties: { name: { type: 'string' }, sha256: digest } } },
      },
    },
    manifest: {
      type: 'object',
      required: ['digest', 'mode', 'pack', 'kind', 'spaceSizeLog2', 'inserted', 'references', 'byRepetitions', 'input', 'output'],
      properties: {
        digest,
        mode: { enum: ['fixed', 'bernoulli'] },
        spaceSizeLog2: { type: 'number', minimum: 0 },
        inserted: count,
        references: count,
        byRepetitions: { type: 'array', items: { type: 'object', required: ['repetitions', 'count'], properties: { repetitions: count, count } } },
        input: { type: 'object', required: ['sha256', 'records'], properties: { sha256: digest, records: count } },
        output: { type: 'object', required: ['sha256', 'records'], properties: { sha256: digest, records: count } },
      },
    },
    // Optional: reports written before these checks existed.
    manifestIntegrity: {
      type: 'object',
      required: ['signature', 'roles'],
      properties: {
        signature: {
          type: 'object',
          required: ['status', 'keyid'],
          properties: { status: { enum: ['verified', 'unverified', 'unsigned'] }, keyid: { anyOf: [digest, { type: 'null' }] } },
        },
        roles: {
          type: 'object',
          required: ['status', 'data', 'dataSha256'],
          properties: { status: { enum: ['verified', 'not-checked'] }, data: { type: ['string', 'null'] }, dataSha256: { anyOf: [digest, { type: 'null' }] } },
        },
      },
    },
    // Optional: reports written before it existed are re-decided as "binding unverified".
    binding: {
      type: 'object',
      required: ['manifestOutputSha256', 'modelTrainingDataSha256'],
      properties: { manifestOutputSha256: digest, modelTrainingDataSha256: { anyOf: [digest, { type: 'null' }] } },
    },
    results: {
      type: 'object',
      additionalProperties: false,
      properties: probeResults,
    },
    failures: {
      type: 'array',
      items: {
        type: 'object',
        required: ['probe', 'kind', 'message'],
        properties: { probe: { enum: ['exposure', 'extraction', 'membership', 'dp-audit'] }, kind: { enum: ['capability', 'inconclusive'] }, message: { type: 'string' } },
      },
    },
    ledger,
    // Optional: the options each probe ran with (policy values and stricter user options; absent in older reports).
    probeOptions: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(Object.keys(probeResultSchemas).map((name) => [name, { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } }])),
    },
    dpClaim,
    policy: policyBody,
    verdict: {
      type: 'object',
      required: ['verdict', 'reasons', 'checks', 'policy'],
      properties: {
        verdict: { enum: ['PHI', 'NOT_PHI', 'INCONCLUSIVE'] },
        reasons: { type: 'array', items: reason },
        checks: { type: 'array', items: reason },
        policy: { type: 'object', required: ['name', 'digest', 'source'], properties: { digest } },
      },
    },
  },
};
