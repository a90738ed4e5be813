/**
 * JSON Schema of report.json. It pins what the verdict reads (manifest summary, the probe fields
 * the rules use, the ledger, the verdict) and lets probes add fields. Numbers that may be
 * infinite are written as "Infinity" (JSON has no infinity), so those fields accept that string.
 */
import type { JsonSchema } from '../core/schema.js';
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

const runInfo = {
  required: ['probe', 'version', 'toolVersion', 'backend', 'manifestDigest', 'startedAt', 'finishedAt'],
};

const exposure = {
  type: 'object',
  ...runInfo,
  required: [...runInfo.required, 'spaceSizeLog2', 'canaries', 'byRepetitions', 'reference'],
  properties: {
    probe: { const: 'exposure' },
    spaceSizeLog2: { type: 'number' },
    canaries: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'role', 'repetitions', 'exposureBits'],
        properties: { id: { type: 'string' }, role: { enum: ['inserted', 'reference'] }, repetitions: count, exposureBits: numberish },
      },
    },
    byRepetitions: {
      type: 'array',
      items: { type: 'object', required: ['repetitions', 'count', 'meanExposureBits', 'maxExposureBits'], properties: { repetitions: count, count, meanExposureBits: numberish, maxExposureBits: numberish } },
    },
    reference: { type: 'object', required: ['count', 'meanExposureBits', 'maxExposureBits'], properties: { count, meanExposureBits: numberish, maxExposureBits: numberish } },
  },
};

const extraction = {
  type: 'object',
  ...runInfo,
  required: [...runInfo.required, 'targeted', 'untargeted'],
  properties: {
    probe: { const: 'extraction' },
    targeted: {
      type: 'object',
      required: ['attempted', 'extracted', 'byRepetitions'],
      properties: {
        attempted: count,
        extracted: count,
        byRepetitions: { type: 'array', items: { type: 'object', required: ['repetitions', 'count', 'extracted'], properties: { repetitions: count, count, extracted: count } } },
      },
    },
    untargeted: {
      type: 'object',
      required: ['samples', 'identifiers', 'verbatimTrainingMatches'],
      properties: {
        samples: count,
        identifiers: { type: 'object', additionalProperties: count },
        verbatimTrainingMatches: { anyOf: [count, { type: 'null' }] },
      },
    },
  },
};

const membership = {
  type: 'object',
  ...runInfo,
  required: [...runInfo.required, 'attacks'],
  properties: {
    probe: { const: 'membership' },
    attacks: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'members', 'nonMembers', 'auc', 'tprAtFpr'],
        properties: {
          name: { type: 'string' },
          members: count,
          nonMembers: count,
          auc: numberish,
          tprAtFpr: { type: 'object', required: ['0.001', '0.01', '0.1'], properties: { '0.001': numberish, '0.01': numberish, '0.1': numberish } },
          roc: { type: 'object', required: ['fpr', 'tpr'], properties: { fpr: { type: 'array', items: { type: 'number' } }, tpr: { type: 'array', items: { type: 'number' } } } },
        },
      },
    },
  },
};

const dpAudit = {
  type: 'object',
  ...runInfo,
  required: [...runInfo.required, 'method', 'epsilonLowerBound', 'confidence', 'ceiling', 'claimedEpsilon', 'refuted'],
  properties: {
    probe: { const: 'dp-audit' },
    epsilonLowerBound: numberish,
    ceiling: numberish,
    claimedEpsilon: { anyOf: [{ type: 'number' }, { type: 'null' }] },
    refuted: { type: 'boolean' },
  },
};

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
    // Optional: reports written before it existed are re-decided as "binding unverified".
    binding: {
      type: 'object',
      required: ['manifestOutputSha256', 'modelTrainingDataSha256'],
      properties: { manifestOutputSha256: digest, modelTrainingDataSha256: { anyOf: [digest, { type: 'null' }] } },
    },
    results: {
      type: 'object',
      additionalProperties: false,
      properties: { exposure, extraction, membership, 'dp-audit': dpAudit },
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
