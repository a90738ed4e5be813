/**
 * Finds whether any canary secret already occurs in a dataset's bytes, streaming, before the
 * output is published. Two strategies, chosen from the byte frequencies of the first chunk:
 *
 * - anchored: when every secret contains a byte that is rare in the data (the "-" of an SSN or a
 *   phone number, the "@" of an e-mail address), jump between its occurrences with the native
 *   `indexOf` (memchr) and compare only there: a few hundred thousand checks for 200 MB of notes;
 * - Wu-Manber (Wu & Manber 1994, "A fast algorithm for multi-pattern searching"): a 2-byte block
 *   table says how far the window may jump; only windows ending in a block that ends some
 *   secret's first m bytes are compared. Used for secrets without a rare byte (digits only).
 *
 * The class is self-contained (no imports): its source also runs on the survey worker thread. Feed
 * it Buffers: their indexOf is the native memchr (a plain Uint8Array's is a slow loop).
 */

export interface SecretMatch {
  /** Index of the pattern that matched. */
  pattern: number;
  /** Byte offset of the match in the whole stream. */
  offset: number;
}

interface AnchorGroup {
  /** Offset of the anchor byte in these patterns, and their length. */
  at: number;
  length: number;
  /** Pattern bytes as latin1 strings (one char per byte) -> pattern index. */
  byKey: Map<string, number>;
  /**
   * allowed[i * 256 + b] is 1 when some pattern of the group has byte b at offset i: most anchor
   * hits (dates and phone numbers around an SSN's "-") fail here for a few array reads, before
   * the key string is built.
   */
  allowed: Uint8Array;
  /**
   * Offsets to check, fewest allowed bytes first (an SSN's other "-" before its digits): a
   * phone number's "234-2982" fails on the first check instead of the seventh.
   */
  order: Int32Array;
}

export class MultiPatternScanner {
  private readonly patterns: Uint8Array[];
  private readonly m: number;
  private readonly keep: number;
  private shift: Uint16Array | undefined;
  /** Patterns whose first m bytes end with block h: candidateList[candidateStart[h] .. candidateStart[h+1]). */
  private candidateStart: Int32Array | undefined;
  private candidateList: Int32Array | undefined;
  private anchor = -1;
  private groups: AnchorGroup[] = [];
  private chosen = false;
  private tail: Uint8Array = new Uint8Array(0);
  /** Stream offset of the first byte of the next chunk. */
  private offset = 0;

  constructor(patterns: string[]) {
    if (patterns.length === 0) throw new RangeError('MultiPatternScanner: no patterns');
    const encoder = new TextEncoder();
    this.patterns = patterns.map((p) => encoder.encode(p));
    if (this.patterns.some((p) => p.length === 0)) throw new RangeError('MultiPatternScanner: empty pattern');
    this.m = Math.min(...this.patterns.map((p) => p.length));
    this.keep = Math.max(...this.patterns.map((p) => p.length)) - 1;
  }

  /** Which strategy (and the anchor) for data that looks like `sample`. */
  strategy(): 'anchored' | 'wu-manber' | 'undecided' {
    return !this.chosen ? 'undecided' : this.anchor >= 0 ? 'anchored' : 'wu-manber';
  }

  private choose(sample: Uint8Array): void {
    this.chosen = true;
    const counts = new Float64Array(256);
    const step = sample.length > 1 << 16 ? 7 : 1;
    let n = 0;
    for (let i = 0; i < sample.length; i += step, n++) counts[sample[i]!]!++;
    // Bytes every pattern contains; the rarest one in the data is the anchor candidate.
    let common: Set<number> | undefined;
    for (const p of this.patterns) {
      const here = new Set(p);
      common = common ? new Set([...common].filter((b) => here.has(b))) : here;
    }
    let best = -1;
    for (const b of common ?? []) if (best === -1 || counts[b]! < counts[best]!) best = b;
    // An anchor hit costs a native call and a few compares, about three Wu-Manber steps, and
    // Wu-Manber advances about m bytes per step on text that does not look like the secrets.
    if (best !== -1 && (n === 0 || (3 * counts[best]!) / n < 1 / this.m)) this.buildAnchored(best);
    else this.buildWuManber();
  }

  private buildAnchored(anchor: number): void {
    this.anchor = anchor;
    const groups = new Map<string, AnchorGroup>();
    this.patterns.forEach((p, index) => {
      const at = p.indexOf(anchor);
      const id = `${at}/${p.length}`;
      let g = groups.get(id);
      if (!g) {
        g = { at, length: p.length, byKey: new Map(), allowed: new Uint8Array(p.length * 256), order: new Int32Array(0) };
        groups.set(id, g);
      }
      for (let i = 0; i < p.length; i++) g.allowed[i * 256 + p[i]!] = 1;
      let key = '';
      for (const b of p) key += String.fromCharCode(b);
      g.byKey.set(key, index);
    });
    for (const g of groups.values()) {
      const width = (i: number) => g.allowed.subarray(i * 256, i * 256 + 256).reduce((n, b) => n + b, 0);
      g.order = Int32Array.from([...Array(g.length).keys()].filter((i) => i !== g.at).sort((a, b) => width(a) - width(b) || a - b));
    }
    this.groups = [...groups.values()];
  }

  private buildWuManber(): void {
    const m = this.m;
    const B = m >= 2 ? 2 : 1;
    const hash = (p: Uint8Array, q: number) => (B === 2 ? (p[q - 1]! << 8) | p[q]! : p[q]!);
    const shift = new Uint16Array(B === 2 ? 1 << 16 : 1 << 8).fill(Math.min(m - B + 1, 0xffff));
    const ends: number[] = [];
    for (const p of this.patterns) {
      // Blocks of the first m bytes: a block ending at q allows a shift of m-1-q.
      for (let q = B - 1; q < m; q++) {
        const h = hash(p, q);
        if (m - 1 - q < shift[h]!) shift[h] = m - 1 - q;
      }
      ends.push(hash(p, m - 1));
    }
    const start = new Int32Array(shift.length + 1);
    for (const h of ends) start[h + 1]!++;
    for (let h = 0; h < shift.length; h++) start[h + 1]! += start[h]!;
    const list = new Int32Array(ends.length);
    const fill = start.slice(0, -1);
    ends.forEach((h, index) => (list[fill[h]!++] = index));
    this.shift = shift;
    this.candidateStart = start;
    this.candidateList = list;
  }

  /** A match in `buf` starting before `startLimit` (Wu-Manber: at `from` or later), or undefined. */
  private search(buf: Uint8Array, startLimit: number, from = 0): { pattern: number; at: number } | undefined {
    return this.anchor >= 0 ? this.searchAnchored(buf, startLimit) : this.searchWuManber(buf, startLimit, from);
  }

  private searchAnchored(buf: Uint8Array, startLimit: number): { pattern: number; at: number } | undefined {
    const n = buf.length;
    const groups = this.groups;
    for (let p = buf.indexOf(this.anchor); p !== -1; p = buf.indexOf(this.anchor, p + 1)) {
      for (const g of groups) {
        const start = p - g.at;
        if (start < 0 || start >= startLimit || start + g.length > n) continue;
        const allowed = g.allowed;
        const order = g.order;
        let k = 0;
        while (k < order.length && allowed[(order[k]! << 8) | buf[start + order[k]!]!] === 1) k++;
        if (k < order.length) continue;
        let key = '';
        for (let i = start; i < start + g.length; i++) key += String.fromCharCode(buf[i]!);
        const index = g.byKey.get(key);
        if (index !== undefined) return { pattern: index, at: start };
      }
    }
    return undefined;
  }

  private searchWuManber(buf: Uint8Array, startLimit: number, from: number): { pattern: number; at: number } | undefined {
    const m = this.m;
    const shift = this.shift!;
    const candidateStart = this.candidateStart!;
    const candidateList = this.candidateList!;
    const patterns = this.patterns;
    const n = buf.length;
    const two = m >= 2;
    let pos = from + m - 1;
    while (pos < n) {
      const h = two ? (buf[pos - 1]! << 8) | buf[pos]! : buf[pos]!;
      const s = shift[h]!;
      if (s !== 0) {
        pos += s;
        continue;
      }
      const start = pos - m + 1;
      if (start >= startLimit) return undefined;
      for (let c = candidateStart[h]!, end = candidateStart[h + 1]!; c < end; c++) {
        const index = candidateList[c]!;
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
   * Every occurrence (overlapping ones too) of every pattern in the next chunk of the stream, as
   * `found(pattern, offset)`, each once: an occurrence that straddles two chunks is reported with
   * the later one (the kept tail), one wholly inside a chunk with that chunk.
   */
  feedAll(chunk: Uint8Array, found: (pattern: number, offset: number) => void): void {
    if (!this.chosen) this.choose(chunk);
    if (this.tail.length > 0) {
      const joint = Buffer.allocUnsafe(this.tail.length + Math.min(this.keep, chunk.length));
      joint.set(this.tail);
      joint.set(chunk.subarray(0, this.keep), this.tail.length);
      this.reportAll(joint, this.tail.length, this.tail.length, this.offset - this.tail.length, found);
    }
    this.reportAll(chunk, chunk.length, 0, this.offset, found);
    this.feed(chunk, false);
  }

  /** Each pattern occurring in `buf` at a start before `startLimit` and ending after `minEnd`. */
  private reportAll(buf: Uint8Array, startLimit: number, minEnd: number, base: number, found: (pattern: number, offset: number) => void): void {
    if (this.anchor >= 0) {
      // Every (pattern, start) has one anchor position (the pattern's first anchor byte): visit them all.
      for (let p = buf.indexOf(this.anchor); p !== -1; p = buf.indexOf(this.anchor, p + 1)) {
        for (const g of this.groups) {
          const start = p - g.at;
          if (start < 0 || start >= startLimit || start + g.length > buf.length || start + g.length <= minEnd) continue;
          let key = '';
          for (let i = start; i < start + g.length; i++) key += String.fromCharCode(buf[i]!);
          const index = g.byKey.get(key);
          if (index !== undefined) found(index, base + start);
        }
      }
      return;
    }
    // Wu-Manber visits starts in order; it names one pattern at a start, others (a prefix of it) may occur there too.
    for (let hit = this.search(buf, startLimit); hit; hit = this.search(buf, startLimit, hit.at + 1)) {
      this.patterns.forEach((p, index) => {
        const end = hit!.at + p.length;
        if (end <= minEnd || end > buf.length) return;
        for (let k = 0; k < p.length; k++) if (p[k] !== buf[hit!.at + k]) return;
        found(index, base + hit!.at);
      });
    }
  }

  /**
   * Scans the next chunk of the stream; returns a match if one is found (any one: the caller
   * refuses the input). Matches that straddle chunks are found through the kept tail, as part of
   * the later chunk. `search: false` only steps over the chunk (another scanner, reading the same
   * stream, searches it): the scanners that search a chunk between them find what one would.
   */
  feed(chunk: Uint8Array, search = true): SecretMatch | undefined {
    if (!this.chosen) this.choose(chunk);
    let found: SecretMatch | undefined;
    if (search && this.tail.length > 0) {
      // A Buffer, like the chunks: with one kind of array the search stays monomorphic in V8
      // (a Uint8Array here made the whole scan ~30% slower on 200 MB of notes; measured).
      const joint = Buffer.allocUnsafe(this.tail.length + Math.min(this.keep, chunk.length));
      joint.set(this.tail);
      joint.set(chunk.subarray(0, this.keep), this.tail.length);
      const hit = this.search(joint, this.tail.length);
      if (hit) found = { pattern: hit.pattern, offset: this.offset - this.tail.length + hit.at };
    }
    if (search && !found) {
      const hit = this.search(chunk, chunk.length);
      if (hit) found = { pattern: hit.pattern, offset: this.offset + hit.at };
    }
    this.offset += chunk.length;
    if (this.keep > 0) {
      // A copy: the caller may read the next chunk into the same buffer (and a Buffer's slice() is a view).
      if (chunk.length >= this.keep) this.tail = new Uint8Array(chunk.subarray(chunk.length - this.keep));
      else {
        const joined = new Uint8Array(this.tail.length + chunk.length);
        joined.set(this.tail);
        joined.set(chunk, this.tail.length);
        this.tail = joined.slice(Math.max(0, joined.length - this.keep));
      }
    }
    return found;
  }
}
