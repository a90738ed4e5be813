import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectFormat, readRecords, type DataRecord } from '../../src/data/index.js';
import { RecordSplitter } from '../../src/data/splitter.js';
import { Utf8Check } from '../../src/data/lines.js';
import { InputError } from '../../src/core/errors.js';
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

  it('error lines name the file, line, column and field, never the record (no PHI in errors)', async () => {
    const secret = /Jane|Roe|123-45-6789|MRN8436676|Ro/;
    const cases: [string, string, RegExp][] = [
      ['q1.csv', 'id,note\n1,Jane "Roe" SSN 123-45-6789\n', /q1.csv line 2 \(column "note"\): a quote inside an unquoted field/],
      ['q2.csv', 'id,note\n1,"Jane Roe" SSN 123-45-6789\n', /q2.csv line 2 \(column "note"\): a closing quote followed by other characters/],
      ['q3.csv', 'id,note\n1,Jane Roe SSN 123-45-6789,extra\n', /q3.csv line 2: 3 fields, the header has 2$/],
      ['q4.csv', 'id,"Jane\n1,Roe\n', /q4.csv line 2 \(column 2\): a quoted field is never closed$/],
      ['j1.jsonl', '{"text":"ok"}\nMRN8436676\n', /j1.jsonl line 2: not valid JSON \(column 1: an unexpected character where a value should start\)$/],
      ['j2.jsonl', '{"text":"ok"}\n{"text":MRN8436676}\n', /j2.jsonl line 2: not valid JSON \(column 9: /],
      ['j3.jsonl', '{"text":"Jane Roe" "MRN8436676"}\n', /j3.jsonl line 1: not valid JSON \(column 20: expected "," or "}"\)$/],
      ['j4.jsonl', '{"text":"MRN8436676\n', /j4.jsonl line 1: not valid JSON \(column 20: the line ends inside the JSON value\)$/],
      ['j5.jsonl', '"MRN8436676"\n', /j5.jsonl line 1: expected a JSON object, got a string$/],
      ['j6.jsonl', '{"text":["MRN8436676"]}\n', /j6.jsonl line 1: field "text" is not a string \(an array\)$/],
    ];
    for (const [name, content, message] of cases) {
      const error = await collect(file(dir, name, content), { textField: name.endsWith('.csv') ? 'note' : undefined }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error, name).toBeInstanceOf(InputError);
      expect(error!.message, name).toMatch(message);
      expect(error!.message.replace(dir, ''), name).not.toMatch(secret);
    }
  });

  it('bytes that are not UTF-8 are an error naming the line, in every format (never silently replaced)', async () => {
    const bad = Buffer.from([0xff, 0xfe]);
    const cases: [string, Buffer, string][] = [
      ['u.jsonl', Buffer.concat([Buffer.from('{"text":"a"}\n{"text":"b'), bad, Buffer.from('"}\n')]), 'u.jsonl line 2'],
      ['u.txt', Buffer.concat([Buffer.from('a\nb\nc'), bad, Buffer.from('\n')]), 'u.txt line 3'],
      ['u.csv', Buffer.concat([Buffer.from('id,note\n1,a'), bad, Buffer.from('\n')]), 'u.csv line 2'],
      ['cut.txt', Buffer.from('ok\n\u00e9'.normalize()).subarray(0, -1), 'cut.txt line 2'],
    ];
    for (const [name, content, where] of cases) {
      await expect(collect(file(dir, name, content), name.endsWith('.csv') ? { textField: 'note' } : {}), name).rejects.toThrow(`${where}: not valid UTF-8`);
    }
    // A character split across chunks is still UTF-8.
    const check = new Utf8Check();
    const text = Buffer.from('a\u00e9\u4e2d\u{1f600}b', 'utf8');
    for (let cut = 0; cut <= text.length; cut++) {
      for (let cut2 = cut; cut2 <= text.length; cut2++) {
        const c = new Utf8Check();
        expect(c.feed(text.subarray(0, cut)) && c.feed(text.subarray(cut, cut2)) && c.feed(text.subarray(cut2)) && c.finish(), `${cut}/${cut2}`).toBe(true);
      }
    }
    expect(check.feed(text.subarray(0, 2)) && check.finish()).toBe(false);
  });

  it('CSV: rows by header, quoted newlines, start line numbers, column errors', async () => {
    const path = file(dir, 'a.csv', 'name,note\r\nann,"two\nlines"\n\nbob,plain\n');
    const records = await collect(path, { textField: 'note' });
    expect(records.map((r) => [r.line, r.row, r.text])).toEqual([
      [2, { name: 'ann', note: 'two\nlines' }, 'two\nlines'],
      [5, { name: 'bob', note: 'plain' }, 'plain'],
    ]);
    const bad = file(dir, 'bad.csv', 'a,b\n1,2\n3\n');
    await expect(collect(bad)).rejects.toThrow(/bad.csv line 3: 1 field, the header has 2$/);
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

  it('the splitter hands each line record, whole, to the check, with its line number, whatever the chunking', () => {
    const content = '{"text":"a"}\n\n {"text":"b\u00e9"}\r\n  \n{"text":"long ' + 'x'.repeat(50) + '"}\n{"text":"last"}';
    const bytes = Buffer.from(content);
    for (const size of [1, 2, 3, 7, 64, bytes.length]) {
      const seen: [number, unknown][] = [];
      const splitter = new RecordSplitter('lines', 's.jsonl', (record, line) => seen.push([line, JSON.parse(record.toString('utf8')).text]));
      for (let base = 0; base < bytes.length; base += size) splitter.scan(bytes.subarray(base, base + size), base, 0);
      splitter.finish();
      expect(seen, `chunk ${size}`).toEqual([
        [1, 'a'],
        [3, 'b\u00e9'],
        [5, `long ${'x'.repeat(50)}`],
        [6, 'last'],
      ]);
    }
  });
});
