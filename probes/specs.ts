/**
 * What `memaudit probe` needs to know about each probe before running it: name, description and
 * option specs (its flags). Kept apart from the probe modules, which load targets and
 * TensorFlow.js, so `memaudit --help` and `memaudit probe <name> --help` stay cheap; each probe
 * module spreads its spec, so the flags and the probe cannot disagree. Type imports only below.
 */
import type { ProbeName } from './types.js';
import type { ProbeOptionSpec } from './registry.js';
import type { AttackName } from './membership/attacks.js';
import defaultPolicy from '../src/policy/default-policy.json' with { type: 'json' };

export interface ProbeSpec {
  name: ProbeName;
  describe: string;
  options: readonly ProbeOptionSpec[];
}

/** The membership attacks, in the order they are reported. */
export const attackNames: readonly AttackName[] = [
  'loss',
  'zlib',
  'min-k',
  'min-k++',
  'reference',
  'lira-online',
  'lira-online-fixed-variance',
  'lira-offline',
  'lira-offline-fixed-variance',
];

/** Flags shared by `probe membership` and `probe dp-audit` (the audit scores canaries with the same attacks). */
export const attackOptionSpecs: readonly ProbeOptionSpec[] = [
  { name: 'minK', type: 'number', describe: 'Fraction k of lowest-probability tokens for Min-K% and Min-K%++', default: 0.2, rule: { min: 0, minExclusive: true, max: 1 } },
  { name: 'reference', type: 'string', describe: 'Reference model (a target) for the reference attack: target score minus reference score' },
  { name: 'shadows', type: 'number', describe: 'Shadow models for LiRA (even; 0 = no LiRA)', default: 0, rule: { integer: true, min: 0 }, policy: { stricter: 'higher' } },
  { name: 'workers', type: 'number', describe: 'Worker threads training shadow models', default: 1, rule: { integer: true, min: 1 } },
  { name: 'shadowCache', type: 'string', describe: 'Folder caching trained shadow models (a rerun reuses them)', default: '.memaudit/shadows' },
  { name: 'shadowConfig', type: 'string', describe: "JSON file with the shadow models' training configuration (default: the target model's own, from its memaudit.json)" },
  { name: 'shadowData', type: 'string', describe: "Data every shadow model trains on besides the candidates (default with a manifest: the manifest's input dataset)" },
  { name: 'shadowRepetitions', type: 'number', describe: 'Copies of a candidate in the training data of a shadow model it is IN (default: the most common repetition count of inserted canaries, else 1)', rule: { integer: true, min: 1 } },
];

/** Where membership candidates come from (files of members and non-members, real records of a manifest with a holdout, else its canaries). */
export const populationOptionSpecs: readonly ProbeOptionSpec[] = [
  {
    name: 'population',
    type: 'string',
    choices: ['auto', 'records', 'manifest'],
    default: 'auto',
    describe: 'records: a sample of the real training records vs the holdout (canary insert --holdout); manifest: inserted vs reference canaries; auto: records when the manifest has a holdout',
  },
  {
    name: 'members',
    type: 'string',
    describe: 'File of member records (with --non-members); alone, a number N: members to sample from the real training records (default: as many as the holdout has)',
  },
  { name: 'nonMembers', type: 'string', describe: 'File of non-member records (with --members)' },
  { name: 'textField', type: 'string', describe: 'JSONL field (or CSV column) holding the text of --members/--non-members records', default: 'text' },
  { name: 'labelColumn', type: 'string', describe: 'CSV label column of --members/--non-members rows (classifier targets)' },
  { name: 'data', type: 'string', describe: "Training data of the real-record population, if moved since canary insert (default: the manifest's output; its sha256 must match)" },
  { name: 'holdout', type: 'string', describe: "Holdout file of the real-record population, if moved (default: the manifest's holdout; its sha256 must match)" },
];

export const exposureSpec: ProbeSpec = {
  name: 'exposure',
  describe: 'Exposure (bits) of every canary: exact over small secret spaces, a confidence interval from adaptive sampling over large ones',
  options: [
    { name: 'mode', type: 'string', choices: ['auto', 'exact', 'estimated'], default: 'auto', describe: 'exact enumerates the secret space; estimated samples candidates; auto picks exact up to --max-exact (10000 without prefix sharing)' },
    { name: 'maxExact', type: 'number', rule: { integer: true, min: 1 }, default: 1_000_000, describe: 'Largest secret space enumerated exactly' },
    {
      name: 'samples',
      type: 'number',
      rule: { integer: true, min: 10 },
      default: defaultPolicy.exposure.samples,
      describe: 'Uniform candidates sampled per canary at first in estimated mode (and the importance sample size)',
      policy: { field: 'exposure.samples', stricter: 'higher' },
    },
    {
      name: 'maxSamples',
      type: 'number',
      rule: { integer: true, min: 10 },
      default: defaultPolicy.exposure.maxSamples,
      describe: 'Budget per canary: candidates are doubled while its exposure interval straddles --max-bits',
      policy: { field: 'exposure.maxSamples', stricter: 'higher' },
    },
    {
      name: 'intervalConfidence',
      type: 'number',
      rule: { min: 0, minExclusive: true, max: 1, maxExclusive: true },
      default: defaultPolicy.exposure.intervalConfidence,
      describe: 'Confidence of each canary\'s exposure interval (estimated mode)',
      policy: { field: 'exposure.intervalConfidence', stricter: 'higher' },
    },
    {
      name: 'maxBits',
      type: 'number',
      rule: { min: 0 },
      default: defaultPolicy.exposure.maxBits,
      describe: 'Exposure threshold the intervals must resolve against (the policy\'s exposure.maxBits)',
      policy: { field: 'exposure.maxBits', stricter: 'fixed', why: 'the verdict judges exposure against it' },
    },
    {
      name: 'estimator',
      type: 'string',
      choices: ['auto', 'importance', 'skew-normal'],
      default: 'auto',
      describe: 'Estimated mode: importance sampling guided by the model (char LMs; auto) or a skew-normal fit to uniform samples (any scoring target)',
    },
    { name: 'scoring', type: 'string', choices: ['auto', 'prefix-shared', 'per-text'], default: 'auto', describe: 'How candidates are scored: shared prefixes (char LMs with full distributions) or one text each' },
  ],
};

export const extractionSpec: ProbeSpec = {
  name: 'extraction',
  describe: 'Targeted extraction (greedy and beam from each canary prefix) and untargeted sampling scanned for PHI identifiers',
  options: [
    {
      name: 'beamWidth',
      type: 'number',
      rule: { integer: true, min: 1, max: 256 },
      default: 5,
      describe: 'Beam width of targeted extraction (the guesses an attacker gets)',
      policy: { stricter: 'higher' },
    },
    { name: 'samples', type: 'number', rule: { integer: true, min: 0 }, default: 100, describe: 'Untargeted generations to sample (0: skip untargeted extraction)' },
    { name: 'sampleLength', type: 'number', rule: { integer: true, min: 1 }, default: 200, describe: 'Maximum tokens per untargeted generation' },
    { name: 'temperature', type: 'number', rule: { min: 0, minExclusive: true }, default: 1, describe: 'Sampling temperature of untargeted generations' },
    { name: 'topK', type: 'number', rule: { integer: true, min: 1 }, describe: 'Sample only from the k most likely tokens' },
    { name: 'prompt', type: 'string', default: '', describe: 'Prompt of untargeted generations' },
    { name: 'trainingData', type: 'string', describe: 'Training file (JSONL/CSV/text): count generations reproducing a long span of a record' },
    { name: 'textField', type: 'string', describe: 'JSONL field or CSV column of the training text [default: the manifest\'s, else "text"]' },
    { name: 'verbatimChars', type: 'number', rule: { integer: true, min: 8 }, default: 50, describe: 'Shared span length (characters) that counts as verbatim reproduction' },
    { name: 'rareMaxRecords', type: 'number', rule: { integer: true, min: 1 }, default: 20, describe: 'A verbatim span found in at most this many records is a record\'s own content, not boilerplate' },
    { name: 'top', type: 'number', rule: { integer: true, min: 0 }, default: 10, describe: 'Top-ranked generations listed in the result (digests and scores only)' },
    { name: 'includeSamples', type: 'string', describe: 'Write the generated texts (possible PHI) to this separate JSONL file, mode 0600' },
  ],
};

export const membershipSpec: ProbeSpec = {
  name: 'membership',
  describe: 'Membership inference (loss, zlib, Min-K%, Min-K%++, reference, LiRA): AUC and TPR at 0.1%/1%/10% FPR',
  options: [
    ...populationOptionSpecs,
    {
      name: 'attacks',
      type: 'string',
      describe: 'Comma-separated attacks to run (default: every one the target and flags allow)',
      policy: { field: 'membership.attacks', stricter: 'superset' },
    },
    ...attackOptionSpecs,
    { name: 'bootstrap', type: 'number', describe: 'Bootstrap resamples for the confidence intervals (0 = none)', default: 200, rule: { integer: true, min: 0 } },
  ],
};

export const dpAuditSpec: ProbeSpec = {
  name: 'dp-audit',
  describe: 'Empirical epsilon lower bound from canary membership (Clopper-Pearson or one-run), tested against the DP claim',
  options: [
    { name: 'method', type: 'string', describe: 'Bound: one-run (bernoulli manifests) or clopper-pearson; auto picks by the manifest mode', default: 'auto', choices: ['auto', 'one-run', 'clopper-pearson'] },
    { name: 'thresholdStrategy', type: 'string', describe: 'Clopper-Pearson threshold choice: Bonferroni over all thresholds, or a split sample', default: 'bonferroni', choices: ['bonferroni', 'split'] },
    {
      name: 'attack',
      type: 'string',
      describe: "Signal audited: secret (log-probability of a text canary's secret given its prefix), or a membership attack's score; auto: secret for language models, loss for classifiers",
      default: 'auto',
      choices: ['auto', 'secret', ...attackNames],
    },
    {
      name: 'confidence',
      type: 'number',
      describe: 'Confidence of the lower bound',
      default: 0.95,
      rule: { min: 0, minExclusive: true, max: 1, maxExclusive: true },
      policy: { field: 'alpha', complement: true, stricter: 'higher' },
    },
    {
      name: 'delta',
      type: 'number',
      describe: "DP delta of the claim (default: privacy.json's, else 1e-5)",
      rule: { min: 0, max: 1, maxExclusive: true },
      policy: { stricter: 'fixed', why: "an audit tests the model's own DP claim, from its privacy.json" },
    },
    {
      name: 'claimedEpsilon',
      type: 'number',
      describe: "Epsilon to test (default: the model directory's privacy.json)",
      rule: { min: 0 },
      policy: { stricter: 'fixed', why: "an audit tests the model's own DP claim, from its privacy.json" },
    },
    { name: 'repetitions', type: 'number', describe: 'Audit the canaries inserted this many times (default: the smallest count); the bound is per record by group privacy', rule: { integer: true, min: 1 } },
    ...attackOptionSpecs,
  ],
};

/** Every probe, in registry order (probes/registry.ts). */
export const probeSpecs: readonly ProbeSpec[] = [exposureSpec, extractionSpec, membershipSpec, dpAuditSpec];
