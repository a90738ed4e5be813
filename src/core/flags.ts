/**
 * Flag parsers shared by every command, the target flags and the probes' options. Each throws a
 * UsageError naming the flag and the bad value, which the CLI prints as one line and exits 2
 * (yargs' own `number` type would silently turn "abc" into NaN). In core, not src/cli, so library
 * code that validates options never depends on the command-line layer.
 */
import { UsageError } from './errors.js';

export interface NumberRule {
  integer?: boolean;
  /** Inclusive lower bound unless `minExclusive`. */
  min?: number;
  minExclusive?: boolean;
  max?: number;
  maxExclusive?: boolean;
}

function describeRule(rule: NumberRule): string {
  const parts: string[] = [rule.integer ? 'an integer' : 'a number'];
  if (rule.min !== undefined) parts.push(`${rule.minExclusive ? '>' : '>='} ${rule.min}`);
  if (rule.max !== undefined) parts.push(`${rule.maxExclusive ? '<' : '<='} ${rule.max}`);
  return parts.join(' ');
}

/** Parses one number against a rule; `flag` is the name shown in the error (e.g. "--steps"). */
export function parseNumber(flag: string, raw: unknown, rule: NumberRule = {}): number {
  const text = String(raw).trim();
  // Number('') is 0 and Number('1e3') is 1000; accept decimal and exponent forms only.
  const value = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) ? Number(text) : NaN;
  const ok =
    Number.isFinite(value) &&
    (!rule.integer || Number.isInteger(value)) &&
    (rule.min === undefined || (rule.minExclusive ? value > rule.min : value >= rule.min)) &&
    (rule.max === undefined || (rule.maxExclusive ? value < rule.max : value <= rule.max));
  if (!ok) throw new UsageError(`${flag} must be ${describeRule(rule)}, got "${text}"`);
  return value;
}

/** A yargs `coerce` function for a numeric flag. Repeated flags keep the last value. */
export function numberFlag(flag: string, rule: NumberRule = {}) {
  return (raw: unknown): number => parseNumber(`--${flag}`, Array.isArray(raw) ? raw[raw.length - 1] : raw, rule);
}

/** A yargs `coerce` function for a comma-separated list of numbers, e.g. `--repetitions 1,4,16`. */
export function numberListFlag(flag: string, rule: NumberRule = {}) {
  return (raw: unknown): number[] => {
    const text = String(Array.isArray(raw) ? raw[raw.length - 1] : raw);
    const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (items.length === 0) throw new UsageError(`--${flag} must be a comma-separated list of numbers, got "${text}"`);
    return items.map((item) => parseNumber(`--${flag}`, item, rule));
  };
}

/** Common rules. */
export const rules = {
  positiveInt: { integer: true, min: 1 } satisfies NumberRule,
  nonNegativeInt: { integer: true, min: 0 } satisfies NumberRule,
  positive: { min: 0, minExclusive: true } satisfies NumberRule,
  /** A probability in (0, 1), e.g. delta. */
  openUnit: { min: 0, minExclusive: true, max: 1, maxExclusive: true } satisfies NumberRule,
  /** A sampling rate in (0, 1]. */
  rate: { min: 0, minExclusive: true, max: 1 } satisfies NumberRule,
} as const;
