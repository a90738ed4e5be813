/** CSV helpers: the header row of a file, and rendering one row with a given line ending. */
import { parse as parseCsv } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import { InputError } from '../core/errors.js';
import { checkHeader, csvInputError, feedCsvParser } from './readers.js';

/** The column names of a CSV file (its first non-empty row), read without reading the rest. */
export async function readCsvHeader(path: string): Promise<string[]> {
  const parser = parseCsv({ skip_empty_lines: true, bom: true, record_delimiter: ['\r\n', '\n'] });
  const feed = feedCsvParser(path, parser);
  let header: string[] | undefined;
  try {
    for await (const row of parser) {
      header = row as string[];
      break;
    }
  } catch (e) {
    throw csvInputError(path, e);
  } finally {
    parser.destroy();
    await feed;
  }
  if (!header) throw new InputError(`${path}: empty CSV file (no header row)`);
  return checkHeader(path, header);
}

/** One CSV row with RFC 4180 quoting, ended by `eol`. */
export function csvLine(values: (string | number)[], eol: '\n' | '\r\n'): string {
  return stringify([values.map(String)], { record_delimiter: eol === '\r\n' ? 'windows' : 'unix' });
}
