/**
 * The target flags every probe/audit command shares (`targetOptions(yargs)`), and their mapping
 * to OpenTargetOptions. API keys are read from the environment variable `--api-key-env` names,
 * never from a flag (a flag would land in shell history and process lists).
 */
import type { Argv } from 'yargs';
import { numberFlag, rules } from '../core/flags.js';
import { UsageError } from '../core/errors.js';
import type { TargetTask } from './target.js';

export interface OpenTargetOptions {
  /** Name of the environment variable holding the API key (sent as a Bearer token). */
  apiKeyEnv?: string;
  /** Network requests allowed (attempts including retries; cache hits are free). */
  maxRequests?: number;
  /** API requests in flight at once (default 4). */
  concurrency?: number;
  /** Per-request timeout in ms (default 60000). */
  timeoutMs?: number;
  /** Retries of a failed request on 429/5xx/timeouts (default 5). */
  retries?: number;
  /** Folder of the encrypted response cache; off when absent (needs MEMAUDIT_CACHE_KEY). */
  cacheDir?: string;
  /** Largest API response body read, bytes (default 32 MiB). */
  maxResponseBytes?: number;
  /** Follow redirects to another origin (refused by default). */
  allowRedirects?: boolean;
  /** Texts per scoring request for OpenAI-compatible servers that take prompt arrays (default 8; 1 = off). */
  promptsPerRequest?: number;
  /** For a user's model without memaudit.json. */
  task?: TargetTask;
  vocabFile?: string;
  contextLength?: number;
  /** Input columns in order (a user's classifier, KServe, TF Serving). */
  features?: string[];
  labels?: string[];
  /** Environment to read the API key from (tests); process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Backoff tuning (tests). */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/** The parsed target flags, as yargs gives them. */
export interface TargetArgs {
  target: string;
  apiKeyEnv?: string;
  maxRequests?: number;
  concurrency?: number;
  timeout?: number;
  retries?: number;
  cacheDir?: string;
  maxResponseMb?: number;
  allowRedirects?: boolean;
  promptsPerRequest?: number;
  task?: TargetTask;
  vocabFile?: string;
  contextLength?: number;
  features?: string[];
  labels?: string[];
}

function listFlag(flag: string) {
  return (raw: unknown): string[] => {
    const text = String(Array.isArray(raw) ? raw[raw.length - 1] : raw);
    const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (items.length === 0) throw new UsageError(`--${flag} must be a comma-separated list of names, got "${text}"`);
    if (new Set(items).size !== items.length) throw new UsageError(`--${flag} names a column twice`);
    return items;
  };
}

/** Adds --target and the flags that shape how it is reached. */
export function targetOptions<T>(y: Argv<T>) {
  return y
    .option('target', {
      type: 'string',
      demandOption: true,
      describe: 'Model directory, or openai:BASE_URL#MODEL, tgi:URL, kserve:URL#MODEL, tfserving:URL/v1/models/NAME',
    })
    .option('api-key-env', { type: 'string', describe: 'Environment variable holding the API key (never pass the key itself)' })
    .option('max-requests', { type: 'string', coerce: numberFlag('max-requests', rules.positiveInt), describe: 'Stop after this many API requests (cache hits are free); exit 3 when reached' })
    .option('concurrency', { type: 'string', coerce: numberFlag('concurrency', { integer: true, min: 1, max: 256 }), describe: 'API requests in flight at once [default: 4]' })
    .option('timeout', { type: 'string', coerce: numberFlag('timeout', rules.positive), describe: 'Seconds to wait for one API response before retrying [default: 60]' })
    .option('retries', { type: 'string', coerce: numberFlag('retries', rules.nonNegativeInt), describe: 'Retries of a failed API request (429, 5xx, timeouts) [default: 5]' })
    .option('cache-dir', { type: 'string', describe: 'Encrypted response cache (needs MEMAUDIT_CACHE_KEY): a rerun resumes without repeating paid requests' })
    .option('max-response-mb', { type: 'string', coerce: numberFlag('max-response-mb', { min: 0.001, max: 4096 }), describe: 'Largest API response body read, MB; a larger one stops the run (exit 2) [default: 32]' })
    .option('allow-redirects', { type: 'boolean', describe: 'Follow an API redirect to another origin (refused by default: the audit would measure another endpoint)' })
    .option('prompts-per-request', { type: 'string', coerce: numberFlag('prompts-per-request', { integer: true, min: 1, max: 256 }), describe: 'Texts per scoring request to an OpenAI-compatible server that takes prompt arrays [default: 8]' })
    .option('task', { choices: ['lm', 'classifier'] as const, describe: 'Task of a model directory without memaudit.json' })
    .option('vocab-file', { type: 'string', describe: 'Vocabulary (JSON array or one token per line) of an LM without memaudit.json' })
    .option('context-length', { type: 'string', coerce: numberFlag('context-length', rules.positiveInt), describe: 'Context window of an LM without memaudit.json' })
    .option('features', { type: 'string', coerce: listFlag('features'), describe: 'Input columns in order (classifier without memaudit.json, KServe, TF Serving)' })
    .option('labels', { type: 'string', coerce: listFlag('labels'), describe: 'Class labels in output order (classifier without memaudit.json, KServe, TF Serving)' });
}

export function openTargetOptionsFromArgs(args: Omit<TargetArgs, 'target'>): OpenTargetOptions {
  return {
    apiKeyEnv: args.apiKeyEnv,
    maxRequests: args.maxRequests,
    concurrency: args.concurrency,
    timeoutMs: args.timeout === undefined ? undefined : Math.round(args.timeout * 1000),
    retries: args.retries,
    cacheDir: args.cacheDir,
    maxResponseBytes: args.maxResponseMb === undefined ? undefined : Math.round(args.maxResponseMb * 2 ** 20),
    allowRedirects: args.allowRedirects,
    promptsPerRequest: args.promptsPerRequest,
    task: args.task,
    vocabFile: args.vocabFile,
    contextLength: args.contextLength,
    features: args.features,
    labels: args.labels,
  };
}
