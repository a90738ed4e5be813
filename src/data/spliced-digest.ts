/** SHA-256 of a copy of a stream with lines spliced in, fed chunk by chunk as `canary insert` copies. */
import { createHash, type Hash } from 'node:crypto';

export class SplicedDigest {
  private readonly hash: Hash = createHash('sha256');

  /** An input chunk and the bytes inserted before chunk offsets (ascending). */
  push(chunk: Uint8Array, inserts: [number, Uint8Array][] = []): void {
    let pos = 0;
    for (const [at, line] of inserts) {
      if (at > pos) this.hash.update(chunk.subarray(pos, at));
      this.hash.update(line);
      pos = at;
    }
    if (pos < chunk.length) this.hash.update(chunk.subarray(pos));
  }

  hex(): string {
    return this.hash.digest('hex');
  }
}
