/**
 * Atomic output: a file appears whole at its final path or not at all. Content is written to a
 * temporary sibling and renamed into place; if the process is interrupted (SIGINT/SIGTERM) or a
 * command fails, pending temporaries are removed, so no partial output is ever left behind.
 *
 * A process killed outright (SIGKILL, power loss) cannot clean up, and its temporaries may hold
 * training data or canaries. They are named `.memaudit-tmp.<pid>.<random>.<name>`, so the next
 * run writing into the same folder removes those whose owning process is gone.
 * A failed write (full disk, quota, read-only or forbidden folder) is an InputError naming the
 * file the user asked for, never the temporary.
 */
import { createWriteStream, mkdirSync, openSync, readdirSync, renameSync, rmdirSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { rethrowWriteFailure } from './errors.js';

const pending = new Set<string>();
let handlersInstalled = false;

function installCleanupHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const cleanup = () => {
    for (const path of pending) removeTemp(path);
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

const tempPrefix = '.memaudit-tmp.';
const tempNamePattern = /^\.memaudit-tmp\.(\d+)\.[0-9a-f]{8}\./;
const sweptFolders = new Set<string>();

/** True while a process with this pid exists (EPERM: it exists but belongs to someone else). */
function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporaries (files or folders) in `dir` left by memaudit processes that no longer
 * run. Returns the removed names. Temporaries of live processes, and anything not named by
 * `tempPathFor`, are left alone.
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = tempNamePattern.exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    try {
      rmSync(join(dir, name), { recursive: true, force: true });
      removed.push(name);
    } catch {
      // not ours to remove (permissions): leave it
    }
  }
  return removed;
}

/**
 * A fresh temporary sibling of `path` (file or folder), named for stale-temporary removal; the
 * first call per folder also sweeps that folder's stale temporaries.
 */
export function tempPathFor(path: string): string {
  const dir = dirname(path);
  const key = resolve(dir);
  if (!sweptFolders.has(key)) {
    sweptFolders.add(key);
    removeStaleTemps(dir);
  }
  return join(dir, `${tempPrefix}${process.pid}.${randomBytes(4).toString('hex')}.${basename(path)}`);
}

/** Removes a temporary file or folder if it exists; a path that cannot even be looked at (ENOTDIR, EACCES) holds none. */
export function removeTemp(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // nothing was created there
  }
}

/** Creates `dir` with its parents; returns an undo that removes the folders it created while they are empty. */
function createFolder(dir: string): () => void {
  const first = mkdirSync(dir, { recursive: true });
  return () => {
    if (first === undefined) return;
    const top = resolve(first);
    for (let d = resolve(dir); ; d = dirname(d)) {
      try {
        rmdirSync(d);
      } catch {
        return; // not empty (another output is in it) or already gone
      }
      if (d === top) return;
    }
  };
}

export interface WriteOptions {
  /** File mode, e.g. 0o600 for private keys. */
  mode?: number;
}

export function writeFileAtomic(path: string, data: string | Uint8Array, options: WriteOptions = {}): void {
  installCleanupHandlers();
  const temp = tempPathFor(path);
  pending.add(temp);
  let removeCreatedFolders = () => {};
  try {
    removeCreatedFolders = createFolder(dirname(path));
    writeFileSync(temp, data, { mode: options.mode });
    renameSync(temp, path);
  } catch (e) {
    removeTemp(temp);
    removeCreatedFolders();
    rethrowWriteFailure(e, path);
  } finally {
    pending.delete(temp);
    removeTemp(temp);
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
  /** The stream's first error (a full disk surfaces here, asynchronously). */
  private failure: unknown = null;
  private removeCreatedFolders: () => void = () => {};

  constructor(path: string, options: WriteOptions = {}) {
    installCleanupHandlers();
    this.path = path;
    this.tempPath = tempPathFor(path);
    pending.add(this.tempPath);
    try {
      this.removeCreatedFolders = createFolder(dirname(path));
      this.fd = openSync(this.tempPath, 'w', options.mode);
    } catch (e) {
      pending.delete(this.tempPath);
      this.removeCreatedFolders();
      rethrowWriteFailure(e, path);
    }
    this.stream = createWriteStream(this.tempPath, { fd: this.fd });
    this.stream.on('error', (e) => (this.failure ??= e));
  }

  private throwIfFailed(): void {
    if (this.failure !== null) rethrowWriteFailure(this.failure, this.path);
  }

  /** Writes a chunk, waiting for the stream to drain when its buffer is full (bounded memory). */
  async write(chunk: string | Uint8Array): Promise<void> {
    this.throwIfFailed();
    try {
      if (!this.stream.write(chunk)) await once(this.stream, 'drain');
    } catch (e) {
      rethrowWriteFailure(e, this.path);
    }
    this.throwIfFailed();
  }

  /** Flushes and closes the temporary file without publishing it. */
  async close(): Promise<void> {
    try {
      if (!this.stream.closed) {
        this.stream.end();
        await once(this.stream, 'close');
      }
    } catch (e) {
      rethrowWriteFailure(e, this.path);
    }
    this.throwIfFailed();
  }

  async commit(): Promise<void> {
    await this.close();
    try {
      renameSync(this.tempPath, this.path);
    } catch (e) {
      rethrowWriteFailure(e, this.path);
    }
    pending.delete(this.tempPath);
    this.done = true;
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.stream.destroy();
    removeTemp(this.tempPath);
    pending.delete(this.tempPath);
    this.removeCreatedFolders();
    this.done = true;
  }
}

/**
 * Discards writers, last created first: a folder the first writer created is then empty when
 * that writer removes it.
 */
export async function abortAll(writers: AtomicFileWriter[]): Promise<void> {
  for (const w of [...writers].reverse()) await w.abort();
}

/** Closes every writer first, then renames them all: either all outputs appear or none does. */
export async function commitAll(writers: AtomicFileWriter[]): Promise<void> {
  try {
    for (const w of writers) await w.close();
  } catch (e) {
    await abortAll(writers);
    throw e;
  }
  for (const w of writers) await w.commit();
}
