/**
 * The queue worker service behind `memaudit worker`: a BullMQ worker whose jobs run in sandboxed
 * worker threads (processor.ts; each thread keeps its TensorFlow.js backend across jobs, and the
 * main thread keeps renewing job locks while a thread trains), plus `GET /health`.
 *
 * A worker that dies mid-job stops renewing its lock; after the lock expires another worker's
 * stalled-job check puts the job back in the queue (BullMQ stalled jobs), and since jobs are
 * deterministic and published by key, the retried job's result is the one the dead worker would
 * have written. `stop()` waits for the running jobs to finish (SIGTERM); `stop(true)` does not,
 * leaving them to that same stalled-job retry.
 */
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Worker } from 'bullmq';
import type { BackendPreference } from '../../core/backend-names.js';
import { connectQueue, QUEUE_NAME, redactQueueUrl } from './connection.js';
import { WORKER_BACKEND_ENV } from './processor.js';
import type { QueuedJob, QueuedResult } from './protocol.js';

export interface QueueWorkerOptions {
  url: string;
  /** Jobs run at once, each in its own thread. */
  concurrency: number;
  backend: BackendPreference;
  /** Port of the health endpoint (0 = any free port); undefined = no endpoint. */
  healthPort?: number;
  healthHost?: string;
  /** Lock duration and stalled-job check interval (ms): how soon a dead worker's job is retried. */
  stalledIntervalMs: number;
  /** One line per event (job started/finished/failed, connection trouble); never job contents. */
  log: (line: string) => void;
}

export interface QueueWorker {
  /** Where /health answers (when enabled). */
  healthUrl?: string;
  stop(force?: boolean): Promise<void>;
}

function healthServer(worker: Worker, redisStatus: () => string, counts: { running: number; completed: number; failed: number }): Server {
  return createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/health') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}\n');
      return;
    }
    const redis = redisStatus();
    const ok = redis === 'ready' && worker.isRunning();
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : 'unavailable', redis, ...counts }) + '\n');
  });
}

export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const where = redactQueueUrl(options.url);
  const { redis, lastError } = connectQueue(options.url);
  process.env[WORKER_BACKEND_ENV] = options.backend;
  const processor = fileURLToPath(new URL('./processor.js', import.meta.url));
  const worker = new Worker<QueuedJob, QueuedResult>(QUEUE_NAME, processor, {
    connection: redis,
    concurrency: options.concurrency,
    useWorkerThreads: true,
    lockDuration: options.stalledIntervalMs,
    stalledInterval: options.stalledIntervalMs,
    maxStalledCount: 3,
  });
  const counts = { running: 0, completed: 0, failed: 0 };
  const label = (job: { id?: string; name: string }) => `job ${job.name} ${(job.id ?? '').slice(0, 12)}`;
  let reportedError: string | undefined;
  worker.on('error', () => {
    const error = lastError();
    if (error && error !== reportedError) options.log(`queue ${where}: ${error} (retrying)`);
    reportedError = error;
  });
  worker.on('active', (job) => {
    counts.running++;
    options.log(`${label(job)}: started`);
  });
  worker.on('completed', (job, value) => {
    counts.running--;
    counts.completed++;
    options.log(`${label(job)}: ${value.cached ? 'already in the job store' : `done in ${(value.ms / 1000).toFixed(1)} s`}`);
  });
  worker.on('failed', (job, error) => {
    if (!job) return;
    if (counts.running > 0) counts.running--;
    counts.failed++;
    options.log(`${label(job)}: failed: ${error.message}`);
  });
  let server: Server | undefined;
  let healthUrl: string | undefined;
  if (options.healthPort !== undefined) {
    server = healthServer(worker, () => redis.status, counts);
    const host = options.healthHost ?? '0.0.0.0';
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(options.healthPort, host, () => resolve());
    });
    const address = server.address();
    healthUrl = `http://${host}:${typeof address === 'object' && address ? address.port : options.healthPort}/health`;
  }
  return {
    healthUrl,
    async stop(force = false) {
      if (redis.status !== 'ready') {
        // No Redis: nothing can be handed back or marked done, and close() would wait for a reconnect.
        redis.disconnect();
        await Promise.race([worker.close(true), new Promise((r) => setTimeout(r, 2000).unref())]);
      } else {
        await worker.close(force);
        redis.disconnect();
      }
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
  };
}
