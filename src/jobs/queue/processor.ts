/**
 * The BullMQ sandboxed processor (one per worker thread of `memaudit worker`): checks a job's
 * data, runs it with the same function as the local pool (execute.ts) into a temporary directory
 * of the job store, and publishes it under its key (cache.ts), so a result is complete or absent
 * and the same job gives the same bytes wherever it ran. A store that already holds the key is
 * not rerun: a job retried after its worker died, or queued again after Redis lost it, costs nothing.
 */
import type { SandboxedJob } from 'bullmq';
import { initBackend, type BackendPreference } from '../../core/backend.js';
import { describeError, ExitCode } from '../../core/errors.js';
import { JobCache } from '../cache.js';
import { runJobInDirectory } from '../execute.js';
import { encodeFailure, MalformedJobError, parseQueuedJob, type QueuedResult } from './protocol.js';

/** Set by `memaudit worker` (from --backend) before its threads start; threads inherit the environment. */
export const WORKER_BACKEND_ENV = 'MEMAUDIT_WORKER_BACKEND';

let ready: ReturnType<typeof initBackend> | undefined;

function backend() {
  ready ??= initBackend((process.env[WORKER_BACKEND_ENV] as BackendPreference | undefined) ?? 'auto');
  return ready;
}

export default async function processQueuedJob(job: SandboxedJob): Promise<QueuedResult> {
  let parsed;
  try {
    parsed = parseQueuedJob(job.data, job.id);
  } catch (e) {
    if (e instanceof MalformedJobError) throw new Error(encodeFailure(ExitCode.usage, e.message));
    throw e;
  }
  const { spec, key, store } = parsed;
  const cache = new JobCache(store);
  const hit = cache.lookup(key);
  if (hit) return { result: hit.result, ms: 0, cached: true };
  let temp: string | undefined;
  try {
    await backend();
    await job.updateProgress({ stage: 'running', kind: spec.kind });
    temp = cache.createTemp(key);
    const started = performance.now();
    const result = await runJobInDirectory(spec, temp);
    const ms = performance.now() - started;
    cache.publish(temp, spec, key, result, ms);
    temp = undefined;
    await job.updateProgress({ stage: 'done', kind: spec.kind });
    return { result, ms, cached: false };
  } catch (e) {
    if (temp) cache.discard(temp);
    const { line, exitCode } = describeError(e);
    throw new Error(encodeFailure(exitCode, line));
  }
}
