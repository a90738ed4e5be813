/**
 * What a command prints. With `--json` only the machine-readable result goes to stdout (nothing
 * else ever does); otherwise a human summary, suppressed by `--quiet`. Errors and progress go to
 * stderr.
 */
import { table, getBorderCharacters } from 'table';
import type { GlobalArgs } from './context.js';

/** Prints the command's result: JSON when `--json`, else the human text (unless `--quiet`). */
export function emit(args: GlobalArgs, result: unknown, human: () => string): void {
  if (args.json) {
    process.stdout.write(JSON.stringify(result, jsonReplacer, 2) + '\n');
  } else if (!args.quiet) {
    const text = human();
    if (text) process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  }
}

/** Infinity/NaN are not JSON: they become the strings "Infinity"/"NaN" rather than a silent null. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value;
}

/** A compact terminal table: first row is the header. */
export function renderTable(rows: (string | number | null | undefined)[][]): string {
  const cells = rows.map((row) => row.map((c) => (c === null || c === undefined ? '' : String(c))));
  return table(cells, {
    border: getBorderCharacters('norc'),
    drawHorizontalLine: (index, size) => index === 0 || index === 1 || index === size,
  });
}

/** Formats a number for humans: fixed significant digits, no exponent for ordinary magnitudes. */
export function fmt(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined) return '-';
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e6)) return value.toExponential(digits - 1);
  return Number(value.toPrecision(digits)).toString();
}
