/**
 * Atomic output: a file appears whole at its final path or not at all. Content is written to a
 * temporary sibling and renamed into place; if the process is interrupted (SIGINT/SIGTERM) or a
 * command fails, pending temporaries are removed, so no partial output is ever left behind.
 */
import { createWriteStream, mkdirSync, openSync, renameSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';

const pending = new Set<string>();
let handlersInstalled = false;

function installCleanupHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const cleanup = () => {
    for (const path of pending) rmSync(path, { force: true });
    pending.clear();
  };
  process.on('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      cleanup();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

export interface WriteOptions {
  /** File mode, e.g. 0o600 for private keys. */
  mode?: number;
}

export function writeFileAtomic(path: string, data: string | Uint8Array, options: WriteOptions = {}): void {
  installCleanupHandlers();
  mkdirSync(dirname(path), { recursive: true });
  const temp = tempPathFor(path);
  pending.add(temp);
  try {
    writeFileSync(temp, data, { mode: options.mode });
    renameSync(temp, path);
  } finally {
    pending.delete(temp);
    rmSync(temp, { force: true });
  }
}

export function writeJsonAtomic(path: string, value: unknown, options: WriteOptions = {}): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n', options);
}

/**
 * A streaming writer for large outputs. Write through `stream` (or synchronously to `fd`, never
 * both), then `commit()` to rename into place, or `abort()` to discard. Several writers can be
 * committed together with `commitAll`, so e.g. a dataset and its manifest appear together.
 */
export class AtomicFileWriter {
  readonly path: string;
  readonly tempPath: string;
  readonly stream: WriteStream;
  /** The temporary file's descriptor, owned by `stream` (closed by `close()`/`abort()`). */
  readonly fd: number;
  private done = false;

  constructor(path: string, options: WriteOptions = {}) {
    installCleanupHandlers();
    mkdirSync(dirname(path), { recursive: true });
    this.path = path;
    this.tempPath = tempPathFor(path);
    pending.add(this.tempPath);
    try {
      this.fd = openSync(this.tempPath, 'w', options.mode);
    } catch (e) {
      pending.delete(this.tempPath);
      throw e;
    }
    this.stream = createWriteStream(this.tempPath, { fd: this.fd });
  }

  /** Writes a chunk, waiting for the stream to drain when its buffer is full (bounded memory). */
  async write(chunk: string | Uint8Array): Promise<void> {
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  /** Flushes and closes the temporary file without publishing it. */
  async close(): Promise<void> {
    if (this.stream.closed) return;
    this.stream.end();
    await once(this.stream, 'close');
  }

  async commit(): Promise<void> {
    await this.close();
    renameSync(this.tempPath, this.path);
    pending.delete(this.tempPath);
    this.done = true;
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.stream.destroy();
    rmSync(this.tempPath, { force: true });
    pending.delete(this.tempPath);
    this.done = true;
  }
}

/** Closes every writer first, then renames them all: either all outputs appear or none does. */
export async function commitAll(writers: AtomicFileWriter[]): Promise<void> {
  for (const w of writers) await w.close();
  for (const w of writers) await w.commit();
}
