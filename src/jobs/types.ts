/**
 * The job boundary (DESIGN.md "Scale"): a job is plain JSON in — its kind, a kind-specific
 * payload that names its inputs by path AND content digest, and a seed — and a directory out.
 * Nothing else crosses the boundary: no tensors, no closures, no shared memory. The local
 * worker-thread pool runs jobs today; a Redis-backed queue (e.g. BullMQ) can run the very same
 * specs by shipping the JSON to a worker process that calls `runJobInDirectory` and uploading the
 * resulting directory to the shared cache under the job's key.
 */

/** A JSON value (what may cross thread, process and queue boundaries). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface JobSpec<P extends Json = Json> {
  version: 1;
  /** The handler that runs it, e.g. "train-shadow" (see handlers.ts). */
  kind: string;
  /** Seed of every random draw the job makes. */
  seed: string;
  /**
   * Kind-specific input. Files are referenced as `{ path, sha256, ... }`: the digest pins the
   * content (and goes into the job key), the path only says where to read it (and does not).
   */
  payload: P;
}

/** What a finished job left behind. */
export interface JobOutcome {
  /** The job's content key (jobKey). */
  key: string;
  /** The job's output directory (in the cache). */
  dir: string;
  /** True when a previous run had already produced it. */
  cached: boolean;
  /** Wall time of the run in ms (0 when cached). */
  ms: number;
  /** The small JSON summary the handler returned (e.g. final loss). */
  result: Json;
}

/** What a handler module exports for one kind. */
export interface JobHandler {
  /** Runs the job, writing its outputs into `outDir` (an empty directory it owns); returns a JSON summary. */
  run(spec: JobSpec, outDir: string): Promise<Json>;
}

/** Runs a batch of jobs somewhere (local threads now; a distributed queue later). */
export interface JobRunner {
  run(specs: readonly JobSpec[]): Promise<JobOutcome[]>;
}
