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
});
