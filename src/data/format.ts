/** Dataset formats memaudit reads and writes, and how a file's format is told from its name. */
import { extname } from 'node:path';
import { UsageError } from '../core/errors.js';

export type DataFormat = 'jsonl' | 'csv' | 'text';
export const dataFormats: readonly DataFormat[] = ['jsonl', 'csv', 'text'];

const byExtension: Record<string, DataFormat> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.csv': 'csv',
  '.txt': 'text',
  '.text': 'text',
};

/** The format of a dataset file from its extension; an unknown extension is a usage error. */
export function detectFormat(path: string): DataFormat {
  const format = byExtension[extname(path).toLowerCase()];
  if (!format) {
    throw new UsageError(
      `${path}: cannot tell the dataset format from the extension "${extname(path)}" ` +
        `(use .jsonl, .ndjson, .csv or .txt, or pass --format jsonl|csv|text)`,
    );
  }
  return format;
}

/** The given format, else the one detected from the file name. */
export function resolveFormat(path: string, format?: DataFormat): DataFormat {
  return format ?? detectFormat(path);
}
