/**
 * `memaudit worker --queue redis://... [--concurrency N] [--health-port P]`: serves the job queue
 * until SIGTERM/SIGINT (then finishes its running jobs; a second signal stops without waiting, and
 * the jobs go back to the queue through BullMQ's stalled-job check).
 */
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../core/errors.js';
import { numberFlag } from '../core/flags.js';
import { runCommand, type GlobalArgs } from './context.js';
import { queueEnv } from './queue-options.js';

interface WorkerArgs extends GlobalArgs {
  queue?: string;
  concurrency: number;
  healthPort?: number;
  healthHost: string;
  stalledInterval: number;
}

export const workerCommand: CommandModule<GlobalArgs, WorkerArgs> = {
  command: 'worker',
  describe: 'Serve a Redis job queue (shadow models for `--queue` runs) until SIGTERM',
  builder: (y) =>
    y
      .option('queue', { type: 'string', describe: `redis://HOST:PORT or rediss://USER:PASSWORD@HOST:PORT [default: $${queueEnv}]` })
      .option('concurrency', { type: 'string', default: 1, coerce: numberFlag('concurrency', { integer: true, min: 1 }), describe: 'Jobs run at once (one thread each)' })
      .option('health-port', { type: 'string', coerce: numberFlag('health-port', { integer: true, min: 0, max: 65535 }), describe: 'Answer GET /health on this port (0 = any free port)' })
      .option('health-host', { type: 'string', default: '0.0.0.0', describe: 'Address the health endpoint listens on' })
      .option('stalled-interval', {
        type: 'string',
        default: 30000,
        coerce: numberFlag('stalled-interval', { integer: true, min: 100 }),
        describe: "Job lock duration and stalled-job check interval in ms: how soon a dead worker's job runs elsewhere",
      }) as unknown as Argv<WorkerArgs>,
  handler: (args) =>
    runCommand('worker', async () => {
      const url = args.queue ?? process.env[queueEnv];
      if (!url) throw new UsageError(`name the queue: --queue redis://HOST:PORT or $${queueEnv}`);
      const [{ startQueueWorker }, { redactQueueUrl, redisOptionsFor }] = await Promise.all([import('../jobs/queue/worker.js'), import('../jobs/queue/connection.js')]);
      redisOptionsFor(url);
      const log = (line: string) => {
        if (!args.quiet) process.stderr.write(`memaudit worker: ${line}\n`);
      };
      const worker = await startQueueWorker({
        url,
        concurrency: args.concurrency,
        backend: args.backend,
        healthPort: args.healthPort,
        healthHost: args.healthHost,
        stalledIntervalMs: args.stalledInterval,
        log,
      }).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'EADDRINUSE' || e.code === 'EACCES') throw new UsageError(`--health-port ${args.healthPort}: cannot listen (${e.code})`);
        throw e;
      });
      log(`serving ${redactQueueUrl(url)} with concurrency ${args.concurrency}${worker.healthUrl ? `, health on ${worker.healthUrl}` : ''}`);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) {
            log(`${signal} again: stopping without waiting (running jobs go back to the queue)`);
            void worker.stop(true).then(resolve);
            return;
          }
          stopping = true;
          log(`${signal}: finishing running jobs, then stopping`);
          void worker.stop().then(resolve);
        };
        process.on('SIGTERM', () => stop('SIGTERM'));
        process.on('SIGINT', () => stop('SIGINT'));
      });
      log('stopped');
    }),
};
