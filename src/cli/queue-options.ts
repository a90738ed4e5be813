/**
 * `--queue`, `--job-store`, `--queue-timeout`: run this command's jobs (LiRA's shadow models)
 * through a BullMQ queue that `memaudit worker` processes serve, instead of local worker threads.
 */
import type { Argv } from 'yargs';
import { numberFlag } from '../core/flags.js';

export const queueEnv = 'MEMAUDIT_QUEUE';

export interface QueueArgs {
  queue?: string;
  jobStore?: string;
  queueTimeout: number;
}

export function queueOptions<T>(y: Argv<T>) {
  return y
    .option('queue', {
      type: 'string',
      describe: `Run jobs (shadow models) on a Redis queue served by \`memaudit worker\`: redis://HOST:PORT or rediss://USER:PASSWORD@HOST:PORT [default: $${queueEnv}, else local worker threads]`,
    })
    .option('job-store', { type: 'string', describe: 'With a queue: the directory (shared by every worker, same path) where job results are kept [default: the shadow cache]' })
    .option('queue-timeout', {
      type: 'string',
      default: 60,
      coerce: numberFlag('queue-timeout', { min: 0, minExclusive: true }),
      describe: 'With a queue: seconds Redis may be unreachable before the command fails (exit 2)',
    });
}

/** Sets the job runner for this command: the queue named by --queue or $MEMAUDIT_QUEUE, else none (local pool). */
export async function applyQueueArgs(args: QueueArgs): Promise<void> {
  const url = args.queue ?? process.env[queueEnv];
  if (!url) return;
  const [{ useJobQueue }, { redisOptionsFor }] = await Promise.all([import('../jobs/runner.js'), import('../jobs/queue/connection.js')]);
  redisOptionsFor(url); // a malformed URL is a usage error now, not after the first probes ran
  useJobQueue({ url, ...(args.jobStore ? { store: args.jobStore } : {}), timeoutSeconds: args.queueTimeout });
}
