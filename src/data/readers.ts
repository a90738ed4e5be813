/**
 * Streaming dataset readers: JSONL (one JSON object per line, the text in `textField`), CSV (a
 * header row, then one record per row; quoted fields may span lines) and plain text (one record
 * per line). Blank lines are not records in any format. Memory does not grow with the file.
 *
 * A malformed record stops the read with an InputError "FILE line N: what is wrong".
 */
import { parse as parseCsv, type CsvError } from 'csv-parse';
import { InputError } from '../core/errors.js';
import { resolveFormat, type DataFormat } from './format.js';
import { checkReadableFile, readChunks } from './open.js';
import { isBlank, readLines } from './lines.js';

export interface DataRecord {
  /** 1-based line number where the record starts. */
  line: number;
  /** The record's text: the JSONL `textField`, the CSV column `textField` (when given), or the line. */
  text?: string;
  /** CSV: the row, column name to value. */
  row?: Record<string, string>;
  /** The record as it appears in the file (without its line ending). */
  raw: string;
}

export interface ReadOptions {
  /** Detected from the file extension when not given. */
  format?: DataFormat;
  /** JSONL: the field holding the text (default "text"). CSV: a column to expose as `text`. */
  textField?: string;
}

export const defaultTextField = 'text';

/** Streams the records of a dataset file. */
export function readRecords(path: string, options: ReadOptions = {}): AsyncIterable<DataRecord> {
  const format = resolveFormat(path, options.format);
  checkReadableFile(path);
  switch (format) {
    case 'jsonl':
      return readJsonl(path, options.textField ?? defaultTextField);
    case 'csv':
      return readCsv(path, options.textField);
    case 'text':
      return readText(path);
  }
}

/** Reads the JSON object on one JSONL line, or throws an InputError naming the file and line. */
export function parseJsonlLine(path: string, line: number, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const detail = (e as Error).message.split('\n')[0];
    throw new InputError(`${path} line ${line}: not valid JSON (${detail})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError(`${path} line ${line}: expected a JSON object, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)?.slice(0, 20)}`);
  }
  return value as Record<string, unknown>;
}

async function* readJsonl(path: string, textField: string): AsyncGenerator<DataRecord> {
  for await (const { line, text } of readLines(path)) {
    if (isBlank(text)) continue;
    const value = parseJsonlLine(path, line, text);
    const field = value[textField];
    if (typeof field !== 'string') {
      throw new InputError(
        `${path} line ${line}: field "${textField}" is ${field === undefined ? 'missing' : `not a string (${typeof field})`}` +
          (field === undefined ? ' (choose the field with --text-field)' : ''),
      );
    }
    yield { line, text: field, raw: text };
  }
}

async function* readText(path: string): AsyncGenerator<DataRecord> {
  for await (const { line, text } of readLines(path)) {
    if (isBlank(text)) continue;
    yield { line, text, raw: text };
  }
}

interface CsvItem {
  record: Record<string, string>;
  raw: string;
  info: { lines: number };
}

/** The CSV parser settings every CSV read uses (header row, RFC 4180 quoting, CRLF or LF). */
export function csvParserOptions(path: string) {
  return {
    columns: (header: string[]) => checkHeader(path, header),
    skip_empty_lines: true,
    bom: true,
    record_delimiter: ['\r\n', '\n'],
  };
}

/** Column names must be non-empty and distinct. */
export function checkHeader(path: string, header: string[]): string[] {
  const seen = new Set<string>();
  for (const [i, name] of header.entries()) {
    if (name.trim() === '') throw new InputError(`${path} line 1: column ${i + 1} has an empty name`);
    if (seen.has(name)) throw new InputError(`${path} line 1: duplicate column "${name}"`);
    seen.add(name);
  }
  return header;
}

/** Turns a csv-parse error into "FILE line N: problem" (its own messages end with "on line N"). */
export function csvInputError(path: string, e: unknown): Error {
  if (e instanceof InputError) return e;
  const err = e as CsvError & { lines?: number };
  if (typeof err?.code === 'string' && err.code.startsWith('CSV_')) {
    const message = err.message.replace(/\s*(at|on) line \d+\.?$/, '').replace(/:?\s*$/, '');
    return new InputError(`${path} line ${err.lines ?? '?'}: ${message}`);
  }
  return e as Error;
}

function drainedOrClosed(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

function countNewlines(values: Iterable<string>): number {
  let n = 0;
  for (const v of values) for (let i = v.indexOf('\n'); i !== -1; i = v.indexOf('\n', i + 1)) n++;
  return n;
}

async function* readCsv(path: string, textField: string | undefined): AsyncGenerator<DataRecord> {
  const parser = parseCsv({ ...csvParserOptions(path), raw: true, info: true });
  // Feed the parser from the file stream (backpressure through the async iteration below).
  const feed = (async () => {
    try {
      for await (const chunk of readChunks(path)) {
        if (parser.destroyed) return;
        if (!parser.write(chunk)) await drainedOrClosed(parser);
      }
      if (!parser.destroyed) parser.end();
    } catch (e) {
      parser.destroy(e as Error);
    }
  })();
  let checkedTextField = textField === undefined;
  try {
    for await (const item of parser as AsyncIterable<CsvItem>) {
      const row = item.record;
      if (!checkedTextField) {
        if (!(textField! in row)) {
          throw new InputError(`${path}: no column "${textField}" (columns: ${Object.keys(row).join(', ')})`);
        }
        checkedTextField = true;
      }
      const line = item.info.lines - countNewlines(Object.values(row));
      const raw = item.raw.replace(/^(\r?\n)+/, '').replace(/\r?\n?$/, '');
      yield { line, row, raw, ...(textField !== undefined ? { text: row[textField] } : {}) };
    }
  } catch (e) {
    throw csvInputError(path, e);
  } finally {
    parser.destroy();
    await feed;
  }
}
