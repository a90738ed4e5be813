/**
 * Which runner runs jobs: the local worker-thread pool (default), or a BullMQ queue on Redis when
 * the command was given one (`--queue`, `$MEMAUDIT_QUEUE`). The command sets the queue once; the
 * code submitting jobs (LiRA's shadow models, ...) asks for a runner and does not know which it got.
 */
import { LocalPoolRunner, type LocalPoolOptions } from './pool.js';
import type { JobRunner } from './types.js';

export interface QueueSettings {
  /** redis:// or rediss:// URL. */
  url: string;
  /** Shared job store; default the local cache directory the caller names. */
  store?: string;
  /** Seconds Redis may be unreachable before the run fails (exit 2). */
  timeoutSeconds: number;
}

let queueSettings: QueueSettings | undefined;

/** Routes every later job batch of this process through the queue (undefined: the local pool). */
export function useJobQueue(settings: QueueSettings | undefined): void {
  queueSettings = settings;
}

/** The runner for a batch: the queue if one is set (its module, and BullMQ, loaded only then), else the local pool. */
export async function createJobRunner(local: LocalPoolOptions): Promise<JobRunner> {
  if (!queueSettings) return new LocalPoolRunner(local);
  const { QueueRunner } = await import('./queue/runner.js');
  return new QueueRunner({ url: queueSettings.url, store: queueSettings.store ?? local.cacheDir, timeoutSeconds: queueSettings.timeoutSeconds, onProgress: local.onProgress });
}
