/**
 * Streaming line splitting over a file's bytes. Memory is bounded by the chunk size plus the
 * longest line, never by the file. Lines are split at the byte "\n" (never part of a multi-byte
 * UTF-8 sequence, so decoding each line separately is exact); a trailing "\r" and a leading UTF-8
 * byte-order mark are removed.
 */
import { readChunks } from './open.js';

export interface Line {
  /** 1-based line number in the file. */
  line: number;
  text: string;
}

const newline = 0x0a;

function decode(bytes: Buffer, isFirst: boolean): string {
  let start = 0;
  let end = bytes.length;
  if (isFirst && end >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  if (end > start && bytes[end - 1] === 0x0d) end--;
  return bytes.toString('utf8', start, end);
}

/** Every line of the file, in order (including blank ones; callers decide what a record is). */
export async function* readLines(path: string): AsyncGenerator<Line> {
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
      lineNo++;
      yield { line: lineNo, text: decode(bytes, lineNo === 1) };
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      // Copy: the stream may reuse the chunk's memory after we move on.
      carry = carry ? Buffer.concat([carry, rest]) : Buffer.from(rest);
    }
  }
  if (carry && carry.length > 0) {
    lineNo++;
    yield { line: lineNo, text: decode(carry, lineNo === 1) };
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
