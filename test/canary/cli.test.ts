import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';

describe('canary and synth commands', () => {
  const dir = tempDir();

  it('synth -> canary generate -> canary insert, with --json results matching the files', async () => {
    const notes = join(dir, 'notes.jsonl');
    const s = await runCli(['synth', 'notes', '--count', '200', '--out', notes, '--seed', '1', '--json']);
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout)).toMatchObject({ out: notes, count: 200, seed: '1' });
    const g = await runCli(['canary', 'generate', '--pack', 'mrn', '--count', '10', '--out', join(dir, 'c.json'), '--seed', '2', '--json']);
    expect(g.code, g.stderr).toBe(0);
    expect(JSON.parse(g.stdout)).toMatchObject({ count: 10, spaceSize: '100000000', pack: 'mrn' });
    const args = ['canary', 'insert', '--data', notes, '--canaries', join(dir, 'c.json'), '--repetitions', '1,4', '--references', '4', '--out', join(dir, 'out.jsonl'), '--manifest', join(dir, 'm.json'), '--seed', '3', '--json'];
    const i = await runCli(args);
    expect(i.code, i.stderr).toBe(0);
    const result = JSON.parse(i.stdout);
    const manifest = JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8'));
    expect(result).toMatchObject({ inputRecords: 200, outputRecords: 200 + 3 * 1 + 3 * 4, inserted: 6, references: 4, copies: 15 });
    expect(manifest.output.records).toBe(result.outputRecords);
    expect(readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n')).toHaveLength(result.outputRecords);
  });

  it('bad flags and bad inputs exit 2 with one line and write nothing', async () => {
    const notes = join(dir, 'n.jsonl');
    writeFileSync(notes, '{"text":"a"}\n{"text":"b"}\n');
    const base = ['canary', 'insert', '--data', notes, '--canaries', join(dir, 'c.json'), '--out', join(dir, 'x.jsonl'), '--manifest', join(dir, 'x.json')];
    const cases: [string[], RegExp][] = [
      [[...base, '--repetitions', '1,abc'], /--repetitions must be an integer >= 1 <= 1000000, got "abc"/],
      [[...base, '--repetitions', '1', '--canaries', join(dir, 'none.json')], /none.json: file not found/],
      [['canary', 'generate', '--pack', 'nope', '--count', '3', '--out', join(dir, 'y.json')], /no built-in pack of that name/],
      [['synth', 'records', '--count', '5', '--out', join(dir, 'r.jsonl')], /written as CSV/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    expect(existsSync(join(dir, 'x.jsonl')) || existsSync(join(dir, 'x.json')) || existsSync(join(dir, 'y.json'))).toBe(false);
  });

  it('refuses what train refuses (quote errors, empty input, malformed JSONL, a missing text field, non-UTF-8): exit 2 naming the line, nothing written', async () => {
    const canaries = join(dir, 'v.json');
    expect((await runCli(['canary', 'generate', '--pack', 'ssn', '--count', '4', '--out', canaries, '--seed', '5'])).code).toBe(0);
    const cases: [string, string | Buffer, RegExp][] = [
      ['quote.csv', 'id,note\n1,ok\n2,Jane "Roe" SSN 123-45-6789\n3,ok\n', /quote.csv line 3 \(column \d\): a quote inside an unquoted field/],
      ['header.csv', 'id,no"te\n1,x\n', /header.csv line 1 \(column 2\): a quote inside an unquoted field/],
      ['closing.csv', 'id,note\n1,"Jane Roe" 123-45-6789\n', /closing.csv line 2 \(column \d\): a closing quote followed by other characters/],
      ['empty.jsonl', '', /empty.jsonl: no records$/],
      ['blank.jsonl', '\n  \n', /blank.jsonl: no records$/],
      ['headeronly.csv', 'id,note\n', /headeronly.csv: no records after the header row$/],
      ['json.jsonl', '{"text":"a"}\n{"text":"b" "MRN8436676"}\n', /json.jsonl line 2: not valid JSON \(column 13: expected "," or "}"\)$/],
      ['field.jsonl', '{"text":"a"}\n{"note":"b"}\n', /field.jsonl line 2: field "text" is missing/],
      ['type.jsonl', '{"text":"a"}\n{"text":7}\n', /type.jsonl line 2: field "text" is not a string \(a number\)$/],
      ['bytes.jsonl', Buffer.concat([Buffer.from('{"text":"a"}\n{"text":"b\xff'), Buffer.from([0xff]), Buffer.from('"}\n')]), /bytes.jsonl line 2: not valid UTF-8/],
    ];
    for (const [name, content, message] of cases) {
      const data = join(dir, name);
      writeFileSync(data, content);
      const out = join(dir, `out-${name}`);
      const manifest = join(dir, `m-${name}.json`);
      const r = await runCli(['canary', 'insert', '--data', data, '--canaries', canaries, '--repetitions', '1', '--text-field', name.endsWith('.csv') ? 'note' : 'text', '--out', out, '--manifest', manifest]);
      expect(r.code, name).toBe(2);
      expect(r.stdout, name).toBe('');
      expect(r.stderr.trim().split('\n'), name).toEqual([expect.stringMatching(message)]);
      expect(r.stderr, name).not.toMatch(/Jane|Roe|123-45-6789|MRN8436676/);
      expect(existsSync(out) || existsSync(manifest), name).toBe(false);
    }
  });
});
