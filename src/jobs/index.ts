/** Independent jobs (shadow models, ...) run in a local worker pool over an on-disk cache. */
export type { Json, JobSpec, JobOutcome, JobHandler, JobRunner } from './types.js';
export { jobKey, JobCache } from './cache.js';
export { runJobs, LocalPoolRunner, type LocalPoolOptions } from './pool.js';
export { runJobInDirectory } from './execute.js';
export { createJobRunner, useJobQueue, type QueueSettings } from './runner.js';
