/**
 * Streaming line splitting over a file's bytes. Memory is bounded by the chunk size plus the
 * longest line, never by the file. Lines are split at the byte "\n" (never part of a multi-byte
 * UTF-8 sequence, so decoding each line separately is exact); a trailing "\r" and a leading UTF-8
 * byte-order mark are removed. Bytes that are not UTF-8 are an input error (decoding would
 * silently replace them, and a record would no longer be what the file holds).
 */
import { isUtf8 } from 'node:buffer';
import { InputError } from '../core/errors.js';
import { readChunks } from './open.js';

export interface Line {
  /** 1-based line number in the file. */
  line: number;
  text: string;
}

const newline = 0x0a;

function decode(path: string, bytes: Buffer, line: number): string {
  let start = 0;
  let end = bytes.length;
  if (line === 1 && end >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  if (end > start && bytes[end - 1] === 0x0d) end--;
  if (!isUtf8(bytes)) throw notUtf8(path, line);
  return bytes.toString('utf8', start, end);
}

export const notUtf8 = (path: string, line: number) => new InputError(`${path} line ${line}: not valid UTF-8 (save the file as UTF-8)`);

/** Every line of the file as bytes (without the "\n"), in order; each is valid only until the next is read. */
async function* readLineBytes(path: string): AsyncGenerator<{ line: number; bytes: Buffer }> {
  let carry: Buffer | undefined;
  let lineNo = 0;
  for await (const chunk of readChunks(path)) {
    let start = 0;
    for (let nl = chunk.indexOf(newline); nl !== -1; nl = chunk.indexOf(newline, start)) {
      let bytes = chunk.subarray(start, nl);
      if (carry) {
        bytes = Buffer.concat([carry, bytes]);
        carry = undefined;
      }
      yield { line: ++lineNo, bytes };
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      // Copy: the stream may reuse the chunk's memory after we move on.
      carry = carry ? Buffer.concat([carry, rest]) : Buffer.from(rest);
    }
  }
  if (carry && carry.length > 0) yield { line: ++lineNo, bytes: carry };
}

/** Every line of the file, in order (including blank ones; callers decide what a record is). */
export async function* readLines(path: string): AsyncGenerator<Line> {
  for await (const { line, bytes } of readLineBytes(path)) yield { line, text: decode(path, bytes, line) };
}

/** The first line of the file that is not UTF-8 (after a streaming check failed: for its message). */
export async function firstNonUtf8Line(path: string): Promise<number | undefined> {
  for await (const { line, bytes } of readLineBytes(path)) if (!isUtf8(bytes)) return line;
  return undefined;
}

/** The error for a file a streaming check found not UTF-8, naming its first such line. */
export async function notUtf8Error(path: string): Promise<InputError> {
  const line = await firstNonUtf8Line(path);
  return line !== undefined ? notUtf8(path, line) : new InputError(`${path}: not valid UTF-8 (it ends inside a character)`);
}

/** Bytes at the end of `bytes` that begin a UTF-8 sequence the next chunk completes. */
function incompleteTail(bytes: Uint8Array): number {
  for (let k = 1; k <= Math.min(3, bytes.length); k++) {
    const b = bytes[bytes.length - k]!;
    if ((b & 0xc0) === 0x80) continue;
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return length > k ? k : 0;
  }
  return 0;
}

/**
 * Whether a byte stream is UTF-8, chunk by chunk, with the native check (node:buffer isUtf8): a
 * sequence split between two chunks is checked whole, with no copy of the chunks.
 */
export class Utf8Check {
  private carry = Buffer.alloc(0);
  /** False once some bytes were not UTF-8. */
  ok = true;

  feed(chunk: Uint8Array): boolean {
    if (!this.ok) return false;
    let from = 0;
    if (this.carry.length > 0) {
      while (from < Math.min(3, chunk.length) && (chunk[from]! & 0xc0) === 0x80) from++;
      const joint = Buffer.concat([this.carry, chunk.subarray(0, from)]);
      if (from === chunk.length && incompleteTail(joint) === joint.length) {
        this.carry = joint;
        return true;
      }
      this.ok = isUtf8(joint);
    }
    const keep = incompleteTail(chunk.subarray(from));
    this.ok &&= isUtf8(chunk.subarray(from, chunk.length - keep));
    this.carry = Buffer.from(chunk.subarray(chunk.length - keep));
    return this.ok;
  }

  /** End of the stream: a sequence left unfinished is not UTF-8. */
  finish(): boolean {
    this.ok &&= this.carry.length === 0;
    return this.ok;
  }
}

/**
 * True for a line of nothing but spaces and tabs: not a record in JSONL or text files (the byte
 * splitter of `canary insert` uses the same rule, so both count the same records). CSV follows
 * csv-parse: only empty lines are skipped.
 */
export function isBlank(text: string): boolean {
  return /^[ \t\r]*$/.test(text);
}
