/**
 * Finds whether any canary secret already occurs in a dataset's bytes, streaming, before
 * anything is inserted. Many patterns at once with the Wu-Manber shift table (Wu & Manber 1994,
 * "A fast algorithm for multi-pattern searching"): a 2-byte block hash gives how far the window
 * can jump; only windows ending in a block that ends some pattern's first m bytes are compared.
 * On text that rarely looks like a secret the scan moves about m bytes per step, which keeps
 * `canary insert` near the speed of a plain copy.
 */

export interface SecretMatch {
  /** Index of the pattern that matched. */
  pattern: number;
  /** Byte offset of the match in the whole stream. */
  offset: number;
}

export class MultiPatternScanner {
  private readonly patterns: Buffer[];
  private readonly m: number;
  private readonly block: 1 | 2;
  private readonly shift: Uint16Array;
  /** Patterns whose first m bytes end with block h: candidateList[candidateStart[h] .. candidateStart[h+1]). */
  private readonly candidateStart: Int32Array;
  private readonly candidateList: Int32Array;
  private readonly keep: number;
  private tail: Buffer = Buffer.alloc(0);
  /** Stream offset of the first byte of the next chunk. */
  private offset = 0;

  constructor(patterns: string[]) {
    if (patterns.length === 0) throw new RangeError('MultiPatternScanner: no patterns');
    this.patterns = patterns.map((p) => Buffer.from(p, 'utf8'));
    if (this.patterns.some((p) => p.length === 0)) throw new RangeError('MultiPatternScanner: empty pattern');
    this.m = Math.min(...this.patterns.map((p) => p.length));
    this.keep = Math.max(...this.patterns.map((p) => p.length)) - 1;
    this.block = this.m >= 2 ? 2 : 1;
    const B = this.block;
    const maxShift = Math.min(this.m - B + 1, 0xffff);
    this.shift = new Uint16Array(B === 2 ? 1 << 16 : 1 << 8).fill(maxShift);
    const ends: number[] = [];
    this.patterns.forEach((p) => {
      // Blocks of the first m bytes: a block ending at q allows a shift of m-1-q.
      for (let q = B - 1; q < this.m; q++) {
        const h = B === 2 ? (p[q - 1]! << 8) | p[q]! : p[q]!;
        const s = this.m - 1 - q;
        if (s < this.shift[h]!) this.shift[h] = s;
      }
      ends.push(B === 2 ? (p[this.m - 2]! << 8) | p[this.m - 1]! : p[this.m - 1]!);
    });
    this.candidateStart = new Int32Array(this.shift.length + 1);
    for (const h of ends) this.candidateStart[h + 1]!++;
    for (let h = 0; h < this.shift.length; h++) this.candidateStart[h + 1]! += this.candidateStart[h]!;
    this.candidateList = new Int32Array(ends.length);
    const fill = this.candidateStart.slice(0, -1);
    ends.forEach((h, index) => (this.candidateList[fill[h]!++] = index));
  }

  /** The first match in `buf` starting before `startLimit`, or undefined. */
  private search(buf: Buffer, startLimit: number): { pattern: number; at: number } | undefined {
    const { m, shift, patterns } = this;
    const n = buf.length;
    const two = this.block === 2;
    let pos = m - 1;
    while (pos < n) {
      const h = two ? (buf[pos - 1]! << 8) | buf[pos]! : buf[pos]!;
      const s = shift[h]!;
      if (s !== 0) {
        pos += s;
        continue;
      }
      const start = pos - m + 1;
      if (start >= startLimit) return undefined;
      for (let c = this.candidateStart[h]!, end = this.candidateStart[h + 1]!; c < end; c++) {
        const index = this.candidateList[c]!;
        const p = patterns[index]!;
        const len = p.length;
        if (start + len > n) continue;
        let k = 0;
        while (k < len && p[k] === buf[start + k]) k++;
        if (k === len) return { pattern: index, at: start };
      }
      pos++;
    }
    return undefined;
  }

  /**
   * Scans the next chunk of the stream; returns the first match found, if any. Matches that
   * straddle chunks are found through the kept tail of the previous chunk.
   */
  feed(chunk: Buffer): SecretMatch | undefined {
    let found: SecretMatch | undefined;
    if (this.tail.length > 0) {
      const joint = Buffer.concat([this.tail, chunk.subarray(0, this.keep)]);
      const hit = this.search(joint, this.tail.length);
      if (hit) found = { pattern: hit.pattern, offset: this.offset - this.tail.length + hit.at };
    }
    if (!found) {
      const hit = this.search(chunk, chunk.length);
      if (hit) found = { pattern: hit.pattern, offset: this.offset + hit.at };
    }
    this.offset += chunk.length;
    if (this.keep > 0) {
      this.tail =
        chunk.length >= this.keep
          ? Buffer.from(chunk.subarray(chunk.length - this.keep))
          : Buffer.concat([this.tail, chunk]).subarray(-this.keep);
    }
    return found;
  }
}
