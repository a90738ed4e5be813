import { describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';

describe('train on malformed data', () => {
  it('exits 2 naming file, line and column, never quoting the record (no PHI in error lines), and writes no model', async () => {
    const dir = tempDir();
    const cases: [string, string, string[], RegExp][] = [
      ['notes.csv', 'id,note\n1,ok\n2,Jane "Roe" SSN 123-45-6789\n', ['--text-field', 'note'], /notes.csv line 3 \(column "note"\): a quote inside an unquoted field/],
      ['notes.jsonl', '{"text":"ok"}\n{"text":MRN8436676}\n', [], /notes.jsonl line 2: not valid JSON \(column 9: an unexpected character where a value should start\)$/],
    ];
    for (const [name, content, extra, message] of cases) {
      writeFileSync(join(dir, name), content);
      const out = join(dir, `model-${name}`);
      const r = await runCli(['train', '--data', join(dir, name), '--model', 'charlm', '--epochs', '1', '--out', out, '--backend', 'wasm', ...extra]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n'), name).toEqual([expect.stringMatching(message)]);
      expect(r.stderr).not.toMatch(/Jane|Roe|123-45-6789|MRN8436676/);
      expect(existsSync(out)).toBe(false);
    }
  });
});
