/**
 * The help text yargs renders, made readable: the command's own options before the global ones, a
 * space between a description that fills its column and the type tag after it, numeric flags typed
 * as numbers. Words are never split: yargs' CommonJS build wraps at word boundaries (src/cli/main.ts).
 */
import { numericFlags } from '../core/flags.js';

/** Help width: the terminal's (stdout, else $COLUMNS), capped for readability; 100 when unknown. */
export function helpWidth(columns = process.stdout.columns ?? (Number(process.env.COLUMNS) || undefined)): number {
  return Math.max(40, Math.min(120, columns ?? 100));
}

export const globalGroup = 'Global options:';

/** yargs lists groups inherited from the parent (the global flags) before the ones a command declares. */
export function globalOptionsLast(help: string): string {
  const sections = help.split('\n\n');
  const globals = sections.findIndex((s) => s.startsWith(globalGroup));
  if (globals === -1) return help;
  const [section] = sections.splice(globals, 1);
  return [...sections, section].join('\n\n');
}

const typeTag = /(\S)(\[(?:boolean|string|number|array|count|choices:|default:|required)[\]:\s])/g;
const optionLine = /^ {2}(?:-\w, |    )--([\w-]+)/;

/** cliui joins a description that exactly fills its column to the right-aligned tags ("requests[string]"). */
function spaceBeforeTags(line: string): string {
  return line.replace(typeTag, '$1 $2');
}

/** `[string]` becomes `[number]` / `[numbers]` on the lines of a numeric flag (its first line and its wrapped ones), its default unquoted. */
function numericTypes(lines: string[]): string[] {
  let kind: 'number' | 'numbers' | undefined;
  return lines.map((line) => {
    const option = optionLine.exec(line);
    if (option) kind = numericFlags.get(option[1]!);
    else if (!line.startsWith('    ')) kind = undefined;
    if (!kind) return line;
    const typed = kind === 'number' ? line.replace('[string]', '[number]') : line.replace(/ ?\[string\]/, '[numbers]');
    // A number's default is declared as the string the flag parses: shown unquoted, the right edge kept.
    return typed.replace(/(\[numbers?\] )\[default: "([-+\d.eE]+)"\]/, '  $1[default: $2]');
  });
}

export function tidyHelp(help: string): string {
  return numericTypes(globalOptionsLast(help).split('\n').map(spaceBeforeTags)).join('\n');
}
