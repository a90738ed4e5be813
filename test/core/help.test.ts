/** `--help` of every command as a user reads it: words never split across lines, the command's own options before the global ones, numeric flags typed as numbers. */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

/** `memaudit ... --help` in this process (a child process per page would take most of a minute). */
async function help(command: string[], columns: number): Promise<string> {
  vi.stubEnv('COLUMNS', String(columns));
  let out = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  try {
    await main([...command, '--help']);
  } finally {
    write.mockRestore();
  }
  expect(process.exitCode ?? 0, `${command.join(' ')} --help`).toBe(0);
  return out;
}

afterEach(() => vi.unstubAllEnvs());

/** The subcommands a help text lists under "Commands:". */
function subcommands(text: string, parent: string[]): string[][] {
  const section = text.split('\n\n').find((s) => s.startsWith('Commands:'));
  if (!section) return [];
  const usages = [...section.matchAll(/^ {2}memaudit (.+?) {2,}/gm)].map((m) => m[1]!.split(' ').filter((w) => !/^[<[]/.test(w)));
  return usages.filter((c) => c.length === parent.length + 1);
}

/** Lines broken inside a word: the end of one line and the start of the next form a word the unwrapped help contains. */
function splitWords(narrow: string, wide: string): string[] {
  const words = new Set(wide.split(/\s+/));
  const lines = narrow.split('\n');
  const splits: string[] = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    const tail = /(\S+)$/.exec(lines[i]!)?.[1];
    const head = /^\s*(\S+)/.exec(lines[i + 1]!)?.[1];
    if (tail && head && /\w$/.test(tail) && /^\w/.test(head) && words.has(tail + head)) splits.push(`${tail}|${head}`);
  }
  return splits;
}

const pages = new Map<string, { narrow: string; wide: string }>();

beforeAll(async () => {
  const queue: string[][] = [[]];
  for (let command = queue.shift(); command; command = queue.shift()) {
    const narrow = await help(command, 80);
    pages.set(command.join(' '), { narrow, wide: await help(command, 120) });
    queue.push(...subcommands(narrow, command));
  }
}, 60_000);

describe('memaudit --help', () => {
  it('covers every command and subcommand', () => {
    for (const name of ['', 'audit', 'gate', 'train', 'probe membership', 'canary insert', 'attest show', 'attest verify', 'audit-log verify', 'accountant epsilon']) {
      expect(pages.has(name), name).toBe(true);
    }
  });

  it('never splits a word across lines', () => {
    for (const [name, { narrow, wide }] of pages) expect(splitWords(narrow, wide), `memaudit ${name} --help`).toEqual([]);
    expect(splitWords('must the weights be treated as P\nHI?', 'must the weights be treated as PHI?')).toEqual(['P|HI?']);
  });

  it("lists the command's own options before the global ones", () => {
    for (const [name, { narrow }] of pages) {
      const globals = narrow.indexOf('\nGlobal options:\n');
      expect(globals, name).toBeGreaterThan(0);
      const own = narrow.indexOf('\nOptions:\n');
      if (own !== -1) expect(own, name).toBeLessThan(globals);
      expect(narrow.slice(globals), name).toContain('--json');
    }
  });

  it('shows numeric flags as numbers and a space before every type', () => {
    const typeOf = (name: string, flag: string) => {
      const page = pages.get(name)!.wide;
      return new RegExp(`--${flag} [\\s\\S]*?\\[(\\w+)\\]`).exec(page)?.[1];
    };
    expect(typeOf('train', 'epochs')).toBe('number');
    expect(typeOf('accountant epsilon', 'steps')).toBe('number');
    expect(typeOf('probe membership', 'max-requests')).toBe('number');
    expect(typeOf('canary insert', 'repetitions')).toBe('numbers');
    for (const [name, { narrow }] of pages) expect(narrow, name).not.toMatch(/\S\[(string|number|boolean|array|default:|choices:|required)/);
    expect(pages.get('train')!.wide).toMatch(/--epochs .*\[number\] \[default: 3\]/);
    for (const [name, { narrow }] of pages) expect(narrow, name).not.toMatch(/\[numbers?\] \[default: "/);
  });

  it('describes --audit-log of audit-log verify as the log it checks', () => {
    expect(pages.get('audit-log verify')!.wide).toMatch(/--audit-log +Hash-chained JSONL audit log to check/);
  });
});
