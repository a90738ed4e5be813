/**
 * Verbatim reproduction of training data: which generations share a span of at least `minChars`
 * characters with some training record, and in how many records that span occurs (a span found
 * in hundreds of records is boilerplate; one found in a handful is a record's own content).
 *
 * The generations are small and the training file may be huge, so the generations' k-grams are
 * indexed (Rabin-Karp rolling hash, verified by string comparison) and the training records are
 * streamed past the index once: memory does not grow with the training file.
 */

const P = 2147483647; // 2^31 - 1
const B = 257;

function mulmod(a: number, b: number): number {
  // a, b < 2^31: split b so every product stays below 2^53.
  return ((a * (b >>> 16)) % P * 65536 + a * (b & 0xffff)) % P;
}

interface Gram {
  gen: number;
  at: number;
  /** Distinct records containing this k-gram, and the last record counted (to count each once). */
  records: number;
  lastRecord: number;
}

export interface VerbatimMatch {
  /** Index of the generation. */
  generation: number;
  /** Fewest training records containing one of its shared spans. */
  records: number;
}

export class VerbatimIndex {
  readonly minChars: number;
  private readonly texts: readonly string[];
  private readonly grams = new Map<number, Gram[]>();
  private readonly highPow: number;
  private recordNo = 0;

  constructor(generations: readonly string[], minChars: number) {
    if (!Number.isInteger(minChars) || minChars < 1) throw new RangeError('VerbatimIndex: minChars must be a positive integer');
    this.minChars = minChars;
    this.texts = generations;
    let pow = 1;
    for (let i = 1; i < minChars; i++) pow = mulmod(pow, B);
    this.highPow = pow;
    generations.forEach((text, gen) => {
      const seen = new Set<string>();
      this.roll(text, (h, at) => {
        const gram = text.substr(at, minChars);
        if (seen.has(gram)) return;
        seen.add(gram);
        const list = this.grams.get(h) ?? [];
        list.push({ gen, at, records: 0, lastRecord: -1 });
        this.grams.set(h, list);
      });
    });
  }

  /** Calls `visit(hash, start)` for every window of minChars code units. */
  private roll(text: string, visit: (h: number, at: number) => void): void {
    const k = this.minChars;
    if (text.length < k) return;
    let h = 0;
    for (let i = 0; i < k; i++) h = (mulmod(h, B) + text.charCodeAt(i)) % P;
    visit(h, 0);
    for (let i = k; i < text.length; i++) {
      h = (h - mulmod(text.charCodeAt(i - k), this.highPow) + P) % P;
      h = (mulmod(h, B) + text.charCodeAt(i)) % P;
      visit(h, i - k + 1);
    }
  }

  /** Streams one training record past the index. */
  scan(record: string): void {
    const no = this.recordNo++;
    if (this.grams.size === 0) return;
    this.roll(record, (h, at) => {
      const list = this.grams.get(h);
      if (!list) return;
      for (const g of list) {
        if (g.lastRecord === no) continue;
        if (record.substr(at, this.minChars) !== this.texts[g.gen]!.substr(g.at, this.minChars)) continue;
        g.lastRecord = no;
        g.records++;
      }
    });
  }

  get recordsScanned(): number {
    return this.recordNo;
  }

  /** Generations sharing at least one span with the records scanned, with the rarest span's record count. */
  matches(): VerbatimMatch[] {
    const best = new Map<number, number>();
    for (const list of this.grams.values()) {
      for (const g of list) {
        if (g.records === 0) continue;
        best.set(g.gen, Math.min(best.get(g.gen) ?? Infinity, g.records));
      }
    }
    return [...best.entries()].sort((a, b) => a[0] - b[0]).map(([generation, records]) => ({ generation, records }));
  }
}
