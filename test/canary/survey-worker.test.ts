/**
 * The threaded input survey runs from the compiled package exactly as the CLI runs it. Its worker
 * is evaluated from a string, and Node evaluates that string as an ES module in a
 * "type": "module" package, where require() does not exist: vitest's own loader hid this once,
 * so the check runs the built module in a plain node process.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot, tempDir } from '../helpers/cli.js';

describe('threaded input survey (built package)', () => {
  it('hashes the input and finds a planted secret on a worker thread', () => {
    const dir = tempDir();
    const input = join(dir, 'in.txt');
    writeFileSync(input, 'note: seen today, SSN 123-45-6789 on file\n'.repeat(200));
    const survey = pathToFileURL(join(repoRoot, 'dist', 'src', 'canary', 'survey.js')).href;
    const script = `
      const { surveyInput } = await import(${JSON.stringify(survey)});
      const hit = await surveyInput(${JSON.stringify(input)}, ['123-45-6789'], true).result();
      const miss = await surveyInput(${JSON.stringify(input)}, ['999-99-9999'], true).result();
      process.stdout.write(JSON.stringify({ hit, miss }));
    `;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as {
      hit: { match?: { offset: number } };
      miss: { sha256: string };
    };
    expect(out.hit.match?.offset).toBe('note: seen today, SSN '.length);
    expect(out.miss.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
