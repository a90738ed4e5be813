/**
 * The queue job runner: submits jobs to a BullMQ queue on Redis that `memaudit worker` processes
 * on any number of machines serve, and waits for their results in the shared job store.
 *
 * Results are not carried through Redis: jobs already read their inputs by path from storage the
 * workers share, so the outputs go to a directory on that same storage (the local pool's cache
 * layout, keyed by content), where a rerun or another audit finds them without any queue at all.
 *
 * Waiting is a poll of each job's state, which also survives Redis losing the queue: a job that is
 * neither in Redis nor in the store is queued again (its key makes that safe). Redis unreachable for
 * longer than `timeoutSeconds` is one line, exit 2; a job that failed fails the run with its reason.
 */
import { resolve } from 'node:path';
import { Queue } from 'bullmq';
import { ExitCode, InconclusiveError, InputError, UsageError } from '../../core/errors.js';
import { JobCache, jobKey } from '../cache.js';
import type { JobOutcome, JobRunner, JobSpec, Json } from '../types.js';
import { connectQueue, QUEUE_NAME, redactQueueUrl } from './connection.js';
import { decodeFailure, type QueuedJob, type QueuedResult } from './protocol.js';

export interface QueueRunnerOptions {
  /** redis:// or rediss:// URL (may hold a password: never printed). */
  url: string;
  /** The job store: a directory every worker reaches at the same path. */
  store: string;
  /** How long Redis may be unreachable before the run gives up (seconds). */
  timeoutSeconds: number;
  /** How often job states are polled (ms). */
  pollMs?: number;
  onProgress?: (progress: { done: number; total: number; outcome: JobOutcome }) => void;
}

/** Finished-job records kept in Redis for a day (the results themselves live in the store). */
const KEEP = { age: 24 * 3600 };

/**
 * The spec with every `path` made absolute: workers do not share the submitter's working
 * directory. Paths are not part of the job key (cache.ts), so the key is unchanged.
 */
function withAbsolutePaths(value: Json): Json {
  if (Array.isArray(value)) return value.map(withAbsolutePaths);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'path' && typeof v === 'string' ? resolve(v) : withAbsolutePaths(v)]));
  }
  return value;
}

function failureError(label: string, reason: string | undefined): Error {
  const { exitCode, line } = decodeFailure(reason);
  const message = `${label}: ${line}`;
  if (exitCode === ExitCode.usage) return new InputError(message);
  if (exitCode === ExitCode.inconclusive) return new InconclusiveError(message);
  return new Error(message);
}

export class QueueRunner implements JobRunner {
  private readonly options: QueueRunnerOptions;
  private readonly cache: JobCache;

  constructor(options: QueueRunnerOptions) {
    if (!(options.timeoutSeconds > 0)) throw new UsageError(`--queue-timeout must be a positive number of seconds, got ${options.timeoutSeconds}`);
    this.options = options;
    this.cache = new JobCache(resolve(options.store));
  }

  async run(specs: readonly JobSpec[]): Promise<JobOutcome[]> {
    const keys = specs.map(jobKey);
    const outcomes = new Map<string, JobOutcome>();
    const pending = new Map<string, JobSpec>();
    let done = 0;
    const finish = (outcome: JobOutcome) => {
      outcomes.set(outcome.key, outcome);
      pending.delete(outcome.key);
      this.options.onProgress?.({ done: ++done, total: new Set(keys).size, outcome });
    };
    specs.forEach((spec, i) => {
      const key = keys[i]!;
      if (outcomes.has(key) || pending.has(key)) return;
      const hit = this.cache.lookup(key);
      if (hit) finish({ key, dir: this.cache.dirFor(key), cached: true, ms: 0, result: hit.result });
      else pending.set(key, withAbsolutePaths(spec as unknown as Json) as unknown as JobSpec);
    });
    if (pending.size > 0) await this.await(pending, finish);
    return keys.map((key) => outcomes.get(key)!);
  }

  private async await(pending: Map<string, JobSpec>, finish: (outcome: JobOutcome) => void): Promise<void> {
    const { redis, lastError } = connectQueue(this.options.url);
    const queue = new Queue<QueuedJob, QueuedResult>(QUEUE_NAME, { connection: redis });
    queue.on('error', () => undefined); // kept by connectQueue's handler; reported on timeout
    const where = redactQueueUrl(this.options.url);
    const timeoutMs = this.options.timeoutSeconds * 1000;
    let lastContact = Date.now();
    // Every Redis call is bounded, so an unreachable Redis is noticed instead of waited on forever.
    const call: RedisCall = async (op) => {
      const left = lastContact + timeoutMs - Date.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        const value = await Promise.race([op(), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), Math.max(left, 1))))]);
        lastContact = Date.now();
        return { value };
      } catch (e) {
        if (Date.now() - lastContact >= timeoutMs) {
          const why = lastError() ?? (e as Error).message;
          throw new InputError(`queue ${where}: Redis unreachable for ${this.options.timeoutSeconds} s (--queue-timeout): ${why}`);
        }
        return undefined;
      } finally {
        clearTimeout(timer);
      }
    };
    const queuedHere = new Set<string>();
    try {
      for (;;) {
        for (const [key, spec] of [...pending]) await this.check(queue, call, key, spec, queuedHere, finish);
        if (pending.size === 0) return;
        await new Promise((r) => setTimeout(r, this.options.pollMs ?? 100));
      }
    } finally {
      // A dead Redis would make close() wait for the reconnect: drop the connection instead.
      redis.disconnect();
      await queue.close().catch(() => undefined);
    }
  }

  /**
   * One look at one job: finished in the store, failed, still on its way, or not queued by this run
   * (never queued, a record left by an earlier run, or lost by a restarted Redis): then queued now.
   */
  private async check(
    queue: Queue<QueuedJob, QueuedResult>,
    call: RedisCall,
    key: string,
    spec: JobSpec,
    queuedHere: Set<string>,
    finish: (outcome: JobOutcome) => void,
  ): Promise<void> {
    const label = `job ${spec.kind} ${key.slice(0, 12)}`;
    const hit = this.cache.lookup(key);
    const found = await call(() => queue.getJob(key));
    if (hit) {
      const returned = found?.value?.returnvalue;
      finish({ key, dir: this.cache.dirFor(key), cached: returned?.cached ?? false, ms: returned?.ms ?? 0, result: hit.result });
      return;
    }
    if (!found) return; // Redis unreachable: look again later
    const job = found.value;
    const state = job ? (await call(() => job.getState()))?.value : 'absent';
    if (state === undefined) return;
    const finished = state === 'failed' || state === 'completed';
    if (job && finished && queuedHere.has(key)) {
      // Removed, so that a rerun (after fixing the input) queues the job afresh.
      const reason = job.failedReason;
      await call(() => job.remove());
      if (state === 'failed') throw failureError(label, reason);
      throw new InputError(`${label}: a worker finished it but its result is not in the job store ${this.cache.dir} (is --job-store a directory every worker shares, at the same path?)`);
    }
    if (job && !finished && state !== 'unknown') return;
    if (job && (await call(() => job.remove())) === undefined) return;
    const added = await call(() => queue.add(spec.kind, { spec, key, store: this.cache.dir }, { jobId: key, attempts: 1, removeOnComplete: KEEP, removeOnFail: KEEP }));
    if (added) queuedHere.add(key);
  }
}

type RedisCall = <T>(op: () => Promise<T>) => Promise<{ value: T } | undefined>;
