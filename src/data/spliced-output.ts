/**
 * The output of `canary insert`: the input's chunks with lines spliced in, written and hashed from
 * the same pieces, so the manifest's digest is that of the bytes written. The two helper functions
 * are self-contained (no imports; the fs calls are passed in): their source also runs on the
 * survey worker thread (survey.ts), which writes and hashes the output there.
 */
import { createHash, type Hash } from 'node:crypto';
import { writevSync } from 'node:fs';

/**
 * One edit of a chunk: at offset `at`, write `line`, then leave out the next `skip` bytes of the
 * chunk (a record moved to the holdout file; `canary insert --holdout`). Without `skip` a pure insert.
 */
export type Splice = [at: number, line: Uint8Array, skip?: number];

/**
 * A chunk cut at the splice offsets (ascending, each in 0..chunk.length, a skip ending by the next
 * offset and within the chunk) with each line before its offset and each skipped range left out:
 * the output's pieces, in order, none empty. No bytes are copied.
 */
export function splicePieces(chunk: Uint8Array, inserts: Splice[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let pos = 0;
  for (const [at, line, skip] of inserts) {
    if (at > pos) pieces.push(chunk.subarray(pos, at));
    if (line.length > 0) pieces.push(line);
    pos = at + (skip ?? 0);
  }
  if (pos < chunk.length) pieces.push(chunk.subarray(pos));
  return pieces;
}

/** Writes all of `pieces` at the file position with `writev` (fs.writevSync), which may write less than asked. */
export function writeAll(writev: typeof writevSync, fd: number, pieces: Uint8Array[]): void {
  let left = pieces;
  while (left.length > 0) {
    // At most 1024 buffers a call (IOV_MAX); a chunk has a few.
    let written = writev(fd, left.slice(0, 1024));
    if (written === 0) throw new Error('write made no progress');
    let i = 0;
    while (i < left.length && written >= left[i]!.length) written -= left[i++]!.length;
    left = left.slice(i);
    if (written > 0) left[0] = left[0]!.subarray(written);
  }
}

/** Hashes, and writes to `fd` if given, the spliced output chunk by chunk. */
export class SplicedOutput {
  private readonly hash: Hash = createHash('sha256');

  constructor(private readonly fd?: number) {}

  /** An input chunk and its splices (ascending). */
  push(chunk: Uint8Array, inserts: Splice[] = []): void {
    const pieces = splicePieces(chunk, inserts);
    for (const piece of pieces) this.hash.update(piece);
    if (this.fd !== undefined) writeAll(writevSync, this.fd, pieces);
  }

  hex(): string {
    return this.hash.digest('hex');
  }
}
