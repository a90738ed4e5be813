/** Opening dataset files for streaming, with missing or unreadable files reported as input errors. */
import { createReadStream, statSync, type ReadStream } from 'node:fs';
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
