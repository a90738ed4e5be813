/**
 * Number and table formatting shared by the CLI, the probes' summaries and the benchmarks. It
 * lives in core (not src/cli) so library code never depends on the command-line layer.
 */
import { table, getBorderCharacters } from 'table';

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
