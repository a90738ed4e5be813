/**
 * The local job runner: a pool of worker threads (`--workers N`) over the on-disk job cache.
 *
 * Jobs already in the cache are not rerun. The rest are handed out one at a time to N workers,
 * each with its own TensorFlow.js backend; a finished job's directory is published to the cache
 * atomically. The first failure stops the pool (workers terminated, temporaries removed) and is
 * raised as one line naming the job, keeping its exit-code class (bad input stays exit 2).
 * Outcomes come back in the order of the specs, so results do not depend on scheduling.
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { BackendPreference } from '../core/backend.js';
import { ExitCode, InconclusiveError, InputError, MemauditError, UsageError } from '../core/errors.js';
import { packageRoot } from '../core/version.js';
import { JobCache, jobKey } from './cache.js';
import type { FromWorker, ToWorker, WorkerData } from './worker.js';
import type { JobOutcome, JobRunner, JobSpec, Json } from './types.js';

export interface LocalPoolOptions {
  /** Worker threads (default 1). */
  workers?: number;
  cacheDir: string;
  /** Backend each worker initializes (default auto). */
  backend?: BackendPreference;
  /** Module exporting `jobHandlers` (default the built-in ./handlers.js); for tests and plug-ins. */
  handlersModule?: string;
  /** Called after every job, cached or run. */
  onProgress?: (progress: { done: number; total: number; outcome: JobOutcome }) => void;
}

/** The compiled worker entry: next to this file in dist/, or dist/ when running from TypeScript sources (tests). */
function workerEntry(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(dirname(here), 'worker.js');
  const built = join(packageRoot, 'dist', 'src', 'jobs', 'worker.js');
  if (!existsSync(built)) throw new Error(`the job worker ${built} is not built (run npm run build)`);
  return built;
}

function rebuildError(label: string, message: string, exitCode: number): Error {
  const line = `${label}: ${message}`;
  if (exitCode === ExitCode.usage) return new InputError(line);
  if (exitCode === ExitCode.inconclusive) return new InconclusiveError(line);
  return new Error(line);
}

export class LocalPoolRunner implements JobRunner {
  private readonly options: LocalPoolOptions;
  private readonly cache: JobCache;

  constructor(options: LocalPoolOptions) {
    const workers = options.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1) throw new UsageError(`--workers must be a positive integer, got ${workers}`);
    this.options = { ...options, workers };
    this.cache = new JobCache(options.cacheDir);
  }

  async run(specs: readonly JobSpec[]): Promise<JobOutcome[]> {
    const keys = specs.map(jobKey);
    const outcomes = new Map<string, JobOutcome>();
    const total = specs.length;
    let done = 0;
    const report = (outcome: JobOutcome) => {
      this.options.onProgress?.({ done: ++done, total, outcome });
    };
    // Cached jobs first; identical specs run once.
    const queue: { spec: JobSpec; key: string }[] = [];
    const queued = new Set<string>();
    specs.forEach((spec, i) => {
      const key = keys[i]!;
      const hit = this.cache.lookup(key);
      if (hit) {
        if (!outcomes.has(key)) outcomes.set(key, { key, dir: this.cache.dirFor(key), cached: true, ms: 0, result: hit.result });
      } else if (!queued.has(key)) {
        queued.add(key);
        queue.push({ spec, key });
      }
    });
    for (const key of outcomes.keys()) report(outcomes.get(key)!);
    if (queue.length > 0) await this.runQueue(queue, outcomes, report);
    return keys.map((key) => outcomes.get(key)!);
  }

  private runQueue(
    queue: { spec: JobSpec; key: string }[],
    outcomes: Map<string, JobOutcome>,
    report: (outcome: JobOutcome) => void,
  ): Promise<void> {
    const count = Math.min(this.options.workers!, queue.length);
    const entry = workerEntry();
    const kinds = [...new Set(queue.map((q) => q.spec.kind))];
    const data: WorkerData = { backend: this.options.backend ?? 'auto', handlersModule: this.options.handlersModule, kinds };
    const workers: Worker[] = [];
    const stopped = new Set<Worker>();
    const temps = new Set<string>();
    let next = 0;
    let running = 0;
    let failed = false;

    return new Promise<void>((resolvePool, rejectPool) => {
      const fail = (error: Error) => {
        if (failed) return;
        failed = true;
        for (const temp of temps) this.cache.discard(temp);
        temps.clear();
        void Promise.all(workers.map((w) => w.terminate())).finally(() => rejectPool(error));
      };
      const dispatch = (worker: Worker) => {
        if (failed) return;
        if (next >= queue.length) {
          stopped.add(worker);
          void worker.terminate();
          if (running === 0) resolvePool();
          return;
        }
        const id = next++;
        const { spec, key } = queue[id]!;
        const outDir = this.cache.createTemp(key);
        temps.add(outDir);
        running++;
        const started = performance.now();
        const onMessage = (message: FromWorker) => {
          if (message.id !== id) return;
          worker.off('message', onMessage);
          running--;
          if (message.type === 'failed') {
            if (process.env.MEMAUDIT_DEBUG && message.stack) process.stderr.write(message.stack + '\n');
            fail(rebuildError(`job ${spec.kind} ${key.slice(0, 12)}`, message.message, message.exitCode));
            return;
          }
          const ms = performance.now() - started;
          try {
            const dir = this.cache.publish(outDir, spec, key, message.result as Json, ms);
            temps.delete(outDir);
            const outcome: JobOutcome = { key, dir, cached: false, ms, result: message.result as Json };
            outcomes.set(key, outcome);
            report(outcome);
          } catch (e) {
            fail(e instanceof Error ? e : new Error(String(e)));
            return;
          }
          dispatch(worker);
        };
        worker.on('message', onMessage);
        worker.postMessage({ type: 'run', id, spec, outDir } satisfies ToWorker);
      };
      for (let i = 0; i < count; i++) {
        const worker = new Worker(entry, { workerData: data });
        workers.push(worker);
        worker.on('error', (e) => fail(e instanceof MemauditError ? e : new Error(`job worker crashed: ${e.message}`)));
        worker.on('exit', (code) => {
          if (code !== 0 && !failed && !stopped.has(worker)) fail(new Error(`job worker exited with code ${code}`));
        });
        dispatch(worker);
      }
    });
  }
}

/** Runs jobs in a local worker pool over the cache; outcomes in the order of `specs`. */
export async function runJobs(specs: readonly JobSpec[], options: LocalPoolOptions): Promise<JobOutcome[]> {
  return new LocalPoolRunner(options).run(specs);
}
