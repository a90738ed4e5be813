/**
 * Streaming dataset readers: JSONL (one JSON object per line, the text in `textField`), CSV (a
 * header row, then one record per row; quoted fields may span lines) and plain text (one record
 * per line). Blank lines are not records in any format. Memory does not grow with the file.
 *
 * A malformed record stops the read with an InputError "FILE line N: what is wrong".
 */
import { parse as parseCsv, type Parser } from 'csv-parse';
import { InputError } from '../core/errors.js';
import { resolveFormat, type DataFormat } from './format.js';
import { checkReadableFile, readChunks } from './open.js';
import { locateJsonError } from './json-syntax.js';
import { isBlank, notUtf8Error, readLines, Utf8Check } from './lines.js';

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

/** "a string", "a number", ...: what a JSON value is, never what it holds. */
export function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Reads the JSON object on one JSONL line, or throws an InputError naming the file, line and
 * column, never the record's content (JSON.parse's own messages quote it).
 */
export function parseJsonlLine(path: string, line: number, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const at = locateJsonError(text);
    throw new InputError(`${path} line ${line}: not valid JSON${at ? ` (column ${at.column}: ${at.problem})` : ''}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError(`${path} line ${line}: expected a JSON object, got ${jsonKind(value)}`);
  }
  return value as Record<string, unknown>;
}

/** The text field of a parsed JSONL record, or an InputError naming the field (not its value). */
export function jsonlText(path: string, line: number, value: Record<string, unknown>, textField: string): string {
  const field = value[textField];
  if (typeof field === 'string') return field;
  throw new InputError(
    `${path} line ${line}: field "${textField}" is ${field === undefined ? 'missing (choose the field with --text-field)' : `not a string (${jsonKind(field)})`}`,
  );
}

async function* readJsonl(path: string, textField: string): AsyncGenerator<DataRecord> {
  for await (const { line, text } of readLines(path)) {
    if (isBlank(text)) continue;
    yield { line, text: jsonlText(path, line, parseJsonlLine(path, line, text), textField), raw: text };
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

/** What each csv-parse error means, in words that never quote the data (its own messages do). */
const csvProblems: Record<string, string> = {
  INVALID_OPENING_QUOTE: 'a quote inside an unquoted field (quote the whole field and double the quotes inside it)',
  CSV_INVALID_OPENING_QUOTE: 'a quote inside an unquoted field (quote the whole field and double the quotes inside it)',
  CSV_INVALID_CLOSING_QUOTE: 'a closing quote followed by other characters (double the quotes inside a quoted field)',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'a closing quote followed by other characters (double the quotes inside a quoted field)',
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is never closed',
  CSV_MAX_RECORD_SIZE: 'a record is too large',
};

interface CsvErrorInfo {
  code?: string;
  lines?: number;
  column?: number | string;
  record?: unknown[];
  columns?: unknown[] | boolean;
}

/** "column 3" or column "note": where in the row a csv-parse error happened. */
function csvColumn(column: number | string | undefined): string {
  if (typeof column === 'number') return ` (column ${column + 1})`;
  return typeof column === 'string' ? ` (column "${column}")` : '';
}

/**
 * Turns a csv-parse error into "FILE line N: problem", naming the line and the column but never a
 * value (the parser's own messages quote the field or the character where it failed).
 */
export function csvInputError(path: string, e: unknown): Error {
  if (e instanceof InputError) return e;
  const err = e as CsvErrorInfo;
  if (typeof err?.code !== 'string' || !/^(CSV_|INVALID_)/.test(err.code)) return e as Error;
  const line = err.lines ?? '?';
  if (err.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH' || err.code === 'CSV_RECORD_INCONSISTENT_COLUMNS') {
    const got = Array.isArray(err.record) ? `${err.record.length} field${err.record.length === 1 ? '' : 's'}` : 'a different number of fields';
    const header = Array.isArray(err.columns) ? `the header has ${err.columns.length}` : 'than the header';
    return new InputError(`${path} line ${line}: ${got}, ${header}`);
  }
  const problem = csvProblems[err.code] ?? `not valid CSV (${err.code})`;
  return new InputError(`${path} line ${line}${csvColumn(err.column)}: ${problem}`);
}

/** Resolves when a stream can take more writes, or has closed (after an error: no 'drain' will come). */
export function drainedOrClosed(stream: NodeJS.EventEmitter): Promise<void> {
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

/**
 * Writes the file into a csv-parse stream with backpressure; a read error, or bytes that are not
 * UTF-8 (the parser would decode them silently), destroy the parser with an InputError.
 */
export function feedCsvParser(path: string, parser: Parser): Promise<void> {
  return (async () => {
    const utf8 = new Utf8Check();
    try {
      for await (const chunk of readChunks(path)) {
        if (parser.destroyed) return;
        if (!utf8.feed(chunk)) throw await notUtf8Error(path);
        if (!parser.write(chunk)) await drainedOrClosed(parser);
      }
      if (!utf8.finish()) throw await notUtf8Error(path);
      if (!parser.destroyed) parser.end();
    } catch (e) {
      parser.destroy(e as Error);
    }
  })();
}

async function* readCsv(path: string, textField: string | undefined): AsyncGenerator<DataRecord> {
  const parser = parseCsv({ ...csvParserOptions(path), raw: true, info: true });
  const feed = feedCsvParser(path, parser);
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
