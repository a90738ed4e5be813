/**
 * Record boundaries over raw bytes, chunk by chunk, without decoding: how `canary insert` finds
 * where records end so it can splice canary lines between them while copying bytes verbatim.
 *
 * Lines mode (JSONL, text): a record is a line with something other than spaces and tabs (the
 * rule of `isBlank` in lines.ts, so the readers count the same records). CSV mode: RFC 4180
 * records: a newline inside a quoted field does not end the record (quote parity: an escaped
 * quote "" leaves it unchanged); only empty lines are skipped (as csv-parse does); the first record
 * is the header and is not counted.
 */
import { InputError } from '../core/errors.js';

export type SplitMode = 'lines' | 'csv';

/**
 * Lines mode: called once per completed record with its bytes, from its first non-blank byte to
 * its line ending (excluded), and its line number (JSONL validation in the splitting pass). The
 * bytes are valid only during the call.
 */
export type RecordCheck = (record: Buffer, line: number) => void;

const NL = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

export class RecordSplitter {
  /** Records completed so far (CSV: the header is record 0, so counting starts at -1). */
  completed: number;
  /** The line ending of the first line ("\n" when there is none). */
  eol: '\n' | '\r\n' | undefined;
  /** The last byte of the input seen so far (-1 before any). */
  lastByte = -1;
  private line = 1;
  private recordLine = 1;
  private inRecord = false;
  private inQuotes = false;
  /** Lines mode with a check: the copied pieces of a record that spans chunks, and the completed record. */
  private pending: Buffer[] = [];
  private record: Buffer | undefined;
  private nextQuote = -1;
  private quoteChunk: Buffer | undefined;
  private started = false;

  constructor(
    private readonly mode: SplitMode,
    private readonly source: string,
    private readonly check?: RecordCheck,
  ) {
    this.completed = mode === 'csv' ? -1 : 0;
  }

  /** Line endings seen so far. */
  get newlines(): number {
    return this.line - 1;
  }

  /** Data records (CSV: without the header). */
  get records(): number {
    return Math.max(0, this.completed);
  }

  private isSpace(b: number): boolean {
    return this.mode === 'csv' ? b === CR : b === 0x20 || b === 0x09 || b === CR;
  }

  private quoteAfter(chunk: Buffer, i: number): number {
    if (this.quoteChunk !== chunk || (this.nextQuote !== -1 && this.nextQuote < i)) {
      this.quoteChunk = chunk;
      this.nextQuote = chunk.indexOf(QUOTE, i);
    }
    return this.nextQuote;
  }

  /**
   * Scans `chunk` (whose first byte is at stream offset `base`) from `from`. Returns the offset in
   * the chunk just after the line ending that completes the first record ending beyond stream
   * offset `after` (the place to insert "after the record holding byte `after`"), or -1 once the
   * chunk is consumed.
   */
  scan(chunk: Buffer, base: number, from: number, after = Infinity): number {
    let i = from;
    const n = chunk.length;
    if (!this.started && n > 0) {
      this.started = true;
      if (n >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf && i === 0) i = 3;
    }
    while (i < n) {
      if (!this.inRecord) {
        const b = chunk[i]!;
        if (b === NL) {
          this.noteEol(chunk, i);
          this.line++;
          i++;
          continue;
        }
        if (this.isSpace(b)) {
          i++;
          continue;
        }
        this.inRecord = true;
        this.recordLine = this.line;
      }
      const nl = chunk.indexOf(NL, i);
      const end = nl === -1 ? n : nl;
      if (this.mode === 'csv') {
        for (let q = this.quoteAfter(chunk, i); q !== -1 && q < end; q = this.quoteAfter(chunk, q + 1)) this.inQuotes = !this.inQuotes;
      } else if (this.check) {
        this.collect(chunk, i, end, nl !== -1);
      }
      if (nl === -1) {
        i = n;
        break;
      }
      this.noteEol(chunk, nl);
      this.line++;
      i = nl + 1;
      if (this.inQuotes) continue;
      this.completeRecord();
      if (base + i > after) {
        this.consumed(chunk, i);
        return i;
      }
    }
    this.consumed(chunk, n);
    return -1;
  }

  /** Keeps the record's bytes in chunk[from, end) for the check; a piece the chunk does not finish is copied. */
  private collect(chunk: Buffer, from: number, end: number, complete: boolean): void {
    const piece = chunk.subarray(from, end);
    if (!complete) this.pending.push(Buffer.from(piece));
    else {
      this.record = this.pending.length > 0 ? Buffer.concat([...this.pending, piece]) : piece;
      this.pending = [];
    }
  }

  private consumed(chunk: Buffer, upTo: number): void {
    if (upTo > 0) this.lastByte = chunk[upTo - 1]!;
  }

  private noteEol(chunk: Buffer, nl: number): void {
    if (this.eol !== undefined) return;
    const before = nl > 0 ? chunk[nl - 1] : this.lastByte;
    this.eol = before === CR ? '\r\n' : '\n';
  }

  private completeRecord(): void {
    this.inRecord = false;
    if (this.check && this.mode === 'lines') {
      const record = this.record ?? Buffer.concat(this.pending);
      this.record = undefined;
      this.pending = [];
      this.check(record, this.recordLine);
    }
    this.completed++;
  }

  /** End of input: completes a last record without a line ending; an open quote is an error. */
  finish(): void {
    if (this.inQuotes) throw new InputError(`${this.source} line ${this.recordLine}: a quoted field is never closed`);
    if (this.inRecord) this.completeRecord();
    this.eol ??= '\n';
  }

  /** True when the input so far does not end with a line ending (a line must be ended before appending). */
  get needsEol(): boolean {
    return this.lastByte !== -1 && this.lastByte !== NL;
  }
}
