/**
 * Runs one job in the current thread: looks up its handler by kind and lets it fill `outDir`.
 * The worker-thread pool calls this inside each worker; a queue worker process would call the
 * same function, so a job behaves the same wherever it runs.
 */
import { pathToFileURL } from 'node:url';
import { UsageError } from '../core/errors.js';
import type { JobHandler, JobSpec, Json } from './types.js';

export type HandlerTable = Record<string, () => Promise<JobHandler>>;

const tables = new Map<string, Promise<HandlerTable>>();

/** The handler table exported as `jobHandlers` by a module (built-in: ./handlers.js). */
function loadTable(moduleRef: string | undefined): Promise<HandlerTable> {
  const ref = moduleRef ?? new URL('./handlers.js', import.meta.url).href;
  let table = tables.get(ref);
  if (!table) {
    const url = /^[a-z]+:/i.test(ref) ? ref : pathToFileURL(ref).href;
    table = import(url).then((m: { jobHandlers?: HandlerTable }) => {
      if (!m.jobHandlers) throw new Error(`job handler module ${ref} does not export jobHandlers`);
      return m.jobHandlers;
    });
    tables.set(ref, table);
  }
  return table;
}

const handlers = new Map<string, Promise<JobHandler>>();

/** The handler of one job kind, imported once per thread (the import is most of a cold start). */
export function loadHandler(kind: string, handlersModule?: string): Promise<JobHandler> {
  const cacheKey = `${handlersModule ?? ''}\0${kind}`;
  let handler = handlers.get(cacheKey);
  if (!handler) {
    handler = loadTable(handlersModule).then((table) => {
      const load = table[kind];
      if (!load) throw new UsageError(`unknown job kind "${kind}" (known: ${Object.keys(table).join(', ')})`);
      return load();
    });
    handlers.set(cacheKey, handler);
  }
  return handler;
}

export async function runJobInDirectory(spec: JobSpec, outDir: string, handlersModule?: string): Promise<Json> {
  const handler = await loadHandler(spec.kind, handlersModule);
  return handler.run(spec, outDir);
}
