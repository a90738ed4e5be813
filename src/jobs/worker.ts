/**
 * Worker-thread entry of the local job pool. Each worker initializes its own TensorFlow.js
 * backend once, then runs the jobs the pool sends it one at a time and reports back plain JSON.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend, type BackendPreference } from '../core/backend.js';
import { describeError } from '../core/errors.js';
import { loadHandler, runJobInDirectory } from './execute.js';
import type { JobSpec } from './types.js';

export interface WorkerData {
  backend: BackendPreference;
  handlersModule?: string;
  /** Job kinds the pool will send: their handlers are imported while the backend initializes. */
  kinds?: string[];
}

export type ToWorker = { type: 'run'; id: number; spec: JobSpec; outDir: string };
export type FromWorker =
  | { type: 'done'; id: number; result: unknown }
  | { type: 'failed'; id: number; message: string; exitCode: number; stack?: string };

const data = workerData as WorkerData;
const port = parentPort!;
const ready = initBackend(data.backend);
// Start-up is paid once per worker before its first job, so it is the serial part of a pool run.
// Importing the handlers (trainer, data readers, schema compilation) while the backend's wasm
// compiles in the background overlaps the two; an unknown kind fails later, in its job.
for (const kind of data.kinds ?? []) loadHandler(kind, data.handlersModule).catch(() => undefined);

port.on('message', (message: ToWorker) => {
  void (async () => {
    try {
      await ready;
      const result = await runJobInDirectory(message.spec, message.outDir, data.handlersModule);
      port.postMessage({ type: 'done', id: message.id, result } satisfies FromWorker);
    } catch (e) {
      const { line, exitCode } = describeError(e);
      port.postMessage({ type: 'failed', id: message.id, message: line, exitCode, stack: e instanceof Error ? e.stack : undefined } satisfies FromWorker);
    }
  })();
});
