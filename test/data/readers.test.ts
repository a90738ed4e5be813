import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectFormat, readRecords, type DataRecord } from '../../src/data/index.js';
import { RecordSplitter } from '../../src/data/splitter.js';
import { tempDir } from '../helpers/cli.js';

async function collect(path: string, options = {}): Promise<DataRecord[]> {
  const out: DataRecord[] = [];
  for await (const r of readRecords(path, options)) out.push(r);
  return out;
}

function file(dir: string, name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('dataset readers', () => {
  const dir = tempDir();

  it('JSONL: text field, blank lines skipped, CRLF and BOM handled, line numbers kept', async () => {
    const path = file(dir, 'a.jsonl', '\ufeff{"text":"one","id":1}\r\n\r\n  \n{"note":"two","text":"2"}\n{"text":"last"}');
    const records = await collect(path);
    expect(records.map((r) => [r.line, r.text])).toEqual([
      [1, 'one'],
      [4, '2'],
      [5, 'last'],
    ]);
    expect(records[0]!.raw).toBe('{"text":"one","id":1}');
    expect((await collect(path, { textField: 'note' }).catch((e: Error) => e.message)) as string).toMatch(/a.jsonl line 1: field "note" is missing/);
  });

  it('JSONL: a malformed line is an error naming the file and line', async () => {
    const path = file(dir, 'bad.jsonl', '{"text":"a"}\n{"text":"b"}\n{"text": oops}\n');
    await expect(collect(path)).rejects.toThrow(/bad.jsonl line 3: not valid JSON/);
    const notObject = file(dir, 'arr.jsonl', '{"text":"a"}\n[1,2]\n');
    await expect(collect(notObject)).rejects.toThrow(/arr.jsonl line 2: expected a JSON object/);
    const notString = file(dir, 'num.jsonl', '{"text":5}\n');
    await expect(collect(notString)).rejects.toThrow(/num.jsonl line 1: field "text" is not a string/);
  });

  it('CSV: rows by header, quoted newlines, start line numbers, column errors', async () => {
    const path = file(dir, 'a.csv', 'name,note\r\nann,"two\nlines"\n\nbob,plain\n');
    const records = await collect(path, { textField: 'note' });
    expect(records.map((r) => [r.line, r.row, r.text])).toEqual([
      [2, { name: 'ann', note: 'two\nlines' }, 'two\nlines'],
      [5, { name: 'bob', note: 'plain' }, 'plain'],
    ]);
    const bad = file(dir, 'bad.csv', 'a,b\n1,2\n3\n');
    await expect(collect(bad)).rejects.toThrow(/bad.csv line 3: Invalid Record Length/);
    const dup = file(dir, 'dup.csv', 'a,a\n1,2\n');
    await expect(collect(dup)).rejects.toThrow(/dup.csv line 1: duplicate column "a"/);
    await expect(collect(path, { textField: 'missing' })).rejects.toThrow(/no column "missing"/);
  });

  it('text: one record per non-blank line', async () => {
    const path = file(dir, 'a.txt', 'first\n\n\t \nsecond\r\nthird');
    expect((await collect(path)).map((r) => [r.line, r.text])).toEqual([
      [1, 'first'],
      [4, 'second'],
      [5, 'third'],
    ]);
  });

  it('formats come from extensions; unknown ones and missing files are clear errors', async () => {
    expect(detectFormat('x/data.JSONL')).toBe('jsonl');
    expect(detectFormat('d.ndjson')).toBe('jsonl');
    expect(detectFormat('d.csv')).toBe('csv');
    expect(detectFormat('d.txt')).toBe('text');
    expect(() => detectFormat('d.parquet')).toThrow(/pass --format/);
    expect(() => readRecords(join(dir, 'none.jsonl'))).toThrow(/none.jsonl: file not found/);
  });

  it('the byte splitter counts the same records as the readers, whatever the chunking', async () => {
    const cases: [string, string, 'lines' | 'csv'][] = [
      ['s.jsonl', '{"text":"a"}\n\n {"text":"b"}\r\n  \n{"text":"c"}', 'lines'],
      ['s.txt', '\ufeffx\n\n\ty\n \n', 'lines'],
      ['s.csv', 'h1,h2\n"a\n\nb",1\n\n"q""x",2\r\n3,"\n"\n', 'csv'],
    ];
    for (const [name, content, mode] of cases) {
      const path = file(dir, name, content);
      const expected = (await collect(path)).length;
      const bytes = Buffer.from(content);
      for (const size of [1, 2, 3, 5, 64]) {
        const splitter = new RecordSplitter(mode, name);
        for (let base = 0; base < bytes.length; base += size) splitter.scan(bytes.subarray(base, base + size), base, 0);
        splitter.finish();
        expect(splitter.records, `${name} chunk ${size}`).toBe(expected);
      }
    }
  });
});
