/**
 * What travels through the queue: one job spec (the same plain JSON the local pool runs), its
 * content key (also the BullMQ job id, so the same job is queued once), and the job store — the
 * directory, shared by the submitter and every worker, where results are published under the key
 * (the local pool's cache layout, cache.ts). A failure carries its exit-code class in its reason.
 */
import { isAbsolute } from 'node:path';
import { ExitCode } from '../../core/errors.js';
import { jobKey } from '../cache.js';
import type { JobSpec, Json } from '../types.js';

export interface QueuedJob {
  spec: JobSpec;
  key: string;
  /** Absolute path of the job store on the worker's filesystem (a shared mount). */
  store: string;
}

/** What a worker returns for a finished job (the outputs are in the store). */
export interface QueuedResult {
  result: Json;
  ms: number;
  /** The store already held the result (another worker or an earlier run made it). */
  cached: boolean;
}

/** A job whose data is not a QueuedJob: it fails with this reason and the worker goes on. */
export class MalformedJobError extends Error {}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Checks a job's data before anything runs: shape, an absolute store, and a key that matches the spec and the job id. */
export function parseQueuedJob(data: unknown, jobId: string | undefined): QueuedJob {
  if (!isObject(data)) throw new MalformedJobError('malformed job: its data is not a JSON object');
  const { spec, key, store } = data;
  if (!isObject(spec) || spec.version !== 1 || typeof spec.kind !== 'string' || typeof spec.seed !== 'string' || !('payload' in spec)) {
    throw new MalformedJobError('malformed job: "spec" must be a job spec (version 1, kind, seed, payload)');
  }
  if (typeof store !== 'string' || !isAbsolute(store)) throw new MalformedJobError('malformed job: "store" must be an absolute directory path');
  const expected = jobKey(spec as unknown as JobSpec);
  if (key !== expected || (jobId !== undefined && jobId !== expected)) {
    throw new MalformedJobError('malformed job: its key (and job id) must be the content key of its spec');
  }
  return { spec: spec as unknown as JobSpec, key: expected, store };
}

/** A failure reason as BullMQ stores it: `[exit N] line`. */
export function encodeFailure(exitCode: number, line: string): string {
  return `[exit ${exitCode}] ${line}`;
}

export function decodeFailure(reason: string | undefined): { exitCode: number; line: string } {
  const m = /^\[exit (\d+)\] (.*)$/s.exec(reason ?? '');
  if (m) return { exitCode: Number(m[1]), line: m[2]! };
  return { exitCode: ExitCode.internal, line: reason || 'failed without a reason' };
}
