/**
 * Opening a target from its string (DESIGN.md "Command surface"). Everything a probe needs from a
 * model goes through the returned Target, local or remote.
 */
import { UsageError } from '../core/errors.js';
import { defaultMaxResponseBytes, HttpClient } from './http/client.js';
import { cacheSecretFrom, ResponseCache } from './http/cache.js';
import { OpenAiTarget } from './api/openai.js';
import { TgiTarget } from './api/tgi.js';
import { KServeTarget } from './api/kserve.js';
import { TfServingTarget } from './api/tfserving.js';
import { openLocalTarget } from './local/open.js';
import { parseTargetSpec } from './spec.js';
import { redactTarget } from './redact.js';
import type { OpenTargetOptions } from './options.js';
import type { Target } from './target.js';

export * from './target.js';
export { parseTargetSpec, type TargetSpec } from './spec.js';
export { targetOptions, openTargetOptionsFromArgs, type OpenTargetOptions, type TargetArgs } from './options.js';
export { HttpClient, HttpStatusError, RequestBudgetError, displayUrl, type HttpClientOptions, type HttpStats } from './http/client.js';
export { ResponseCache, cacheKeyEnv } from './http/cache.js';
export { redactTarget } from './redact.js';
export { BaseTarget, distributionStats } from './base.js';
export { LocalLmTarget } from './local/lm.js';
export { LocalClassifierTarget } from './local/classifier.js';

/** Reads the API key from the environment variable the user named; never from anywhere else. */
function apiKeyHeaders(options: OpenTargetOptions): Record<string, string> | undefined {
  if (options.apiKeyEnv === undefined) return undefined;
  const env = options.env ?? process.env;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.apiKeyEnv)) {
    throw new UsageError(`--api-key-env ${options.apiKeyEnv}: give the name of an environment variable, not the key`);
  }
  const key = env[options.apiKeyEnv];
  if (key === undefined || key.trim() === '') throw new UsageError(`--api-key-env ${options.apiKeyEnv}: that environment variable is not set`);
  // Checked here so that fetch, which quotes a bad header value in its error, never sees one.
  if (!/^[\x21-\x7e]+$/.test(key.trim())) {
    throw new UsageError(`--api-key-env ${options.apiKeyEnv}: the key holds spaces, control or non-ASCII characters (a copy-paste slip?)`);
  }
  return { authorization: `Bearer ${key.trim()}` };
}

/**
 * Opens a target: loads a local model, or connects to an API and detects what it supports.
 * A bad target string is a UsageError naming it (exit 2); an unreachable API is an InputError
 * naming the URL (exit 2).
 */
export async function openTarget(spec: string, options: OpenTargetOptions = {}): Promise<Target> {
  const parsed = parseTargetSpec(spec);
  if (parsed.kind === 'local') {
    return openLocalTarget(parsed.dir, {
      task: options.task,
      vocabFile: options.vocabFile,
      contextLength: options.contextLength,
      features: options.features,
      labels: options.labels,
    });
  }
  const maxResponseBytes = options.maxResponseBytes ?? defaultMaxResponseBytes;
  const cache = options.cacheDir ? new ResponseCache(options.cacheDir, cacheSecretFrom(options.env ?? process.env, options.cacheDir), maxResponseBytes) : undefined;
  const client = new HttpClient({
    concurrency: options.concurrency,
    timeoutMs: options.timeoutMs,
    maxRequests: options.maxRequests,
    maxRetries: options.retries,
    retryBaseMs: options.retryBaseMs,
    retryMaxMs: options.retryMaxMs,
    secretHeaders: apiKeyHeaders(options),
    cache,
    maxResponseBytes,
    allowRedirects: options.allowRedirects,
  });
  // The label lands in error lines, reports and attestations: never with user:password or a query key.
  const label = redactTarget(spec.trim());
  switch (parsed.kind) {
    case 'openai':
      return OpenAiTarget.open({ spec: label, baseUrl: parsed.baseUrl, model: parsed.model, client, promptsPerRequest: options.promptsPerRequest });
    case 'tgi':
      return TgiTarget.open(label, parsed.url, client);
    case 'kserve':
      return KServeTarget.open(label, parsed.url, client, { features: options.features, labels: options.labels });
    case 'tfserving':
      return TfServingTarget.open(label, parsed.url, parsed.model, client, { features: options.features, labels: options.labels });
  }
}
