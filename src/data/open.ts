/** Opening dataset files for streaming, with missing or unreadable files reported as input errors. */
import { closeSync, createReadStream, openSync, readSync, statSync, type ReadStream } from 'node:fs';
import { InputError } from '../core/errors.js';

/** Chunk size for streaming reads: large enough for throughput, small enough to bound memory. */
export const readChunkBytes = 1 << 20;

/** Throws an InputError unless `path` is a readable regular file; returns its size in bytes. */
export function checkReadableFile(path: string): number {
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new InputError(`${path}: not a regular file`);
    return stat.size;
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? `${path}: file not found` : `${path}: cannot read (${code ?? (e as Error).message})`);
  }
}

/** A byte stream over a dataset file; read errors surface as InputErrors naming the file. */
export async function* readChunks(path: string, stream?: ReadStream): AsyncGenerator<Buffer> {
  const source = stream ?? createReadStream(path, { highWaterMark: readChunkBytes });
  try {
    for await (const chunk of source) yield chunk as Buffer;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: cannot read (${code ?? (e as Error).message})`);
  } finally {
    source.destroy();
  }
}

/**
 * Fills `buf` from file offset `position` (fewer bytes only at the end of the file), so chunk k is
 * always bytes [k * buf.length, (k + 1) * buf.length) whichever thread reads it. Self-contained
 * (`read` is fs.readSync): its source also runs on the `canary insert` survey worker.
 */
export function fillChunk(read: typeof readSync, fd: number, buf: Uint8Array, position: number): number {
  let n = 0;
  while (n < buf.length) {
    const got = read(fd, buf, n, buf.length - n, position + n);
    if (got === 0) break;
    n += got;
  }
  return n;
}

/**
 * The file in chunks of `size` bytes (see fillChunk), read synchronously into one reused buffer:
 * each chunk is valid only until the next is read. For page-cached files this is faster than a
 * stream (no thread-pool hand-off, no buffer per chunk; measured in `canary insert`); read errors
 * surface as InputErrors naming the file.
 */
export function* readChunksSync(path: string, size = readChunkBytes): Generator<Buffer> {
  const fail = (e: unknown) => new InputError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw fail(e);
  }
  const buf = Buffer.allocUnsafe(size);
  try {
    for (let position = 0; ; ) {
      let n: number;
      try {
        n = fillChunk(readSync, fd, buf, position);
      } catch (e) {
        throw fail(e);
      }
      if (n > 0) yield buf.subarray(0, n);
      if (n < size) return;
      position += n;
    }
  } finally {
    closeSync(fd);
  }
}
