/**
 * SHA-256 of an input stream and of its copy with lines spliced in, fed chunk by chunk as
 * `canary insert` copies. (A worker thread for the two digests was measured slower on this
 * project's 2-core machines: copying chunks to it costs more than it frees.)
 */
import { createHash, type Hash } from 'node:crypto';

export interface Digests {
  input: string;
  output: string;
}

export class SplicedDigests {
  private readonly input: Hash = createHash('sha256');
  private readonly output: Hash = createHash('sha256');

  /** An input chunk (it goes to the input digest whole) and the bytes inserted into the output before chunk offsets (ascending). */
  push(chunk: Uint8Array, inserts: [number, Uint8Array][] = []): void {
    this.input.update(chunk);
    let pos = 0;
    for (const [at, line] of inserts) {
      if (at > pos) this.output.update(chunk.subarray(pos, at));
      this.output.update(line);
      pos = at;
    }
    if (pos < chunk.length) this.output.update(chunk.subarray(pos));
  }

  finish(): Digests {
    return { input: this.input.digest('hex'), output: this.output.digest('hex') };
  }
}
