/** Writing synthetic datasets atomically (nothing partial is left if interrupted). */
import { stringify } from 'csv-stringify/sync';
import { AtomicFileWriter } from '../../core/atomic.js';
import type { Rng } from '../../core/rng.js';
import { UsageError } from '../../core/errors.js';
import { detectFormat, type DataFormat } from '../format.js';
import { syntheticNotes } from './notes.js';
import { recordColumns, syntheticRecords } from './records.js';

const batch = 1000;

function expectFormat(path: string, format: DataFormat, what: string): void {
  let actual: DataFormat | undefined;
  try {
    actual = detectFormat(path);
  } catch {
    actual = undefined;
  }
  if (actual !== format) throw new UsageError(`--out ${path}: ${what} are written as ${format.toUpperCase()}; name the file *.${format === 'jsonl' ? 'jsonl' : format}`);
}

async function writeBatches(path: string, chunks: Iterable<string>): Promise<void> {
  const writer = new AtomicFileWriter(path);
  try {
    for (const chunk of chunks) await writer.write(chunk);
    await writer.commit();
  } catch (e) {
    await writer.abort();
    throw e;
  }
}

/** Writes `count` synthetic notes as JSONL ({"id","text"}). */
export async function writeSyntheticNotes(path: string, count: number, rng: Rng): Promise<void> {
  expectFormat(path, 'jsonl', 'synthetic notes');
  function* chunks() {
    let lines: string[] = [];
    for (const n of syntheticNotes(count, rng)) {
      lines.push(JSON.stringify(n));
      if (lines.length === batch) {
        yield lines.join('\n') + '\n';
        lines = [];
      }
    }
    if (lines.length) yield lines.join('\n') + '\n';
  }
  await writeBatches(path, chunks());
}

/** Writes `count` synthetic patient records as CSV with a header row. */
export async function writeSyntheticRecords(path: string, count: number, rng: Rng): Promise<void> {
  expectFormat(path, 'csv', 'synthetic records');
  function* chunks() {
    yield stringify([[...recordColumns]]);
    let rows: string[][] = [];
    for (const r of syntheticRecords(count, rng)) {
      rows.push(recordColumns.map((c) => r[c]));
      if (rows.length === batch) {
        yield stringify(rows);
        rows = [];
      }
    }
    if (rows.length) yield stringify(rows);
  }
  await writeBatches(path, chunks());
}
