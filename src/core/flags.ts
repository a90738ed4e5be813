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

/**
 * The allowed range of every numeric flag that has one, by flag name: a name means the same
 * quantity in every command that takes it, so its range is declared once, here, and applies
 * wherever the flag is parsed (`numberFlag`, `numberListFlag`, `checkFlagValue`). The upper
 * bounds keep the arithmetic finite and every run bounded: a learning rate, clip norm or noise
 * multiplier near 1e308 turns the weights into NaN, 1e308 epochs never end, a timeout past
 * 2^31 ms overflows the timer, and sizes past these would not fit in memory.
 */
export const flagRanges: Readonly<Record<string, NumberRule>> = {
  lr: { min: 0, minExclusive: true, max: 10 },
  'clip-norm': { min: 0, minExclusive: true, max: 1e4 },
  'noise-multiplier': { min: 0, minExclusive: true, max: 1e4 },
  'target-epsilon': { min: 0, minExclusive: true, max: 1e3 },
  epochs: { min: 0, minExclusive: true, max: 1e4 },
  // The PLD accountant's composition takes about a minute at 1e7 steps on 2 cores.
  steps: { integer: true, min: 1, max: 1e7 },
  'batch-size': { integer: true, min: 1, max: 1e7 },
  'dataset-size': { integer: true, min: 1, max: 1e12 },
  hidden: { integer: true, min: 1, max: 8192 },
  'embedding-dim': { integer: true, min: 1, max: 1024 },
  'context-length': { integer: true, min: 1, max: 32768 },
  timeout: { min: 0, minExclusive: true, max: 86_400 },
  retries: { integer: true, min: 0, max: 100 },
  count: { integer: true, min: 1, max: 1e8 },
  repetitions: { integer: true, min: 1, max: 1e6 },
  references: { integer: true, min: 0, max: 1e6 },
};

/** The rule for `flag` (without dashes): its declared range, else the caller's rule. */
export function flagRule(flag: string, fallback: NumberRule = {}): NumberRule {
  return flagRanges[flag] ?? fallback;
}

/** Checks a number given through the library rather than the command line against its flag's range. */
export function checkFlagValue(flag: string, value: number): number {
  return parseNumber(`--${flag}`, value, flagRule(flag));
}

/**
 * The flags declared through `numberFlag` / `numberListFlag`, by name: yargs parses them as strings
 * (so a bad value is named as typed), and --help shows them as `[number]` / `[numbers]` from here.
 */
export const numericFlags = new Map<string, 'number' | 'numbers'>();

/** A yargs `coerce` function for a numeric flag. Repeated flags keep the last value. */
export function numberFlag(flag: string, rule: NumberRule = {}) {
  numericFlags.set(flag, 'number');
  const effective = flagRule(flag, rule);
  return (raw: unknown): number => parseNumber(`--${flag}`, Array.isArray(raw) ? raw[raw.length - 1] : raw, effective);
}

/** A yargs `coerce` function for a comma-separated list of numbers, e.g. `--repetitions 1,4,16`. */
export function numberListFlag(flag: string, rule: NumberRule = {}) {
  numericFlags.set(flag, 'numbers');
  const effective = flagRule(flag, rule);
  return (raw: unknown): number[] => {
    const text = String(Array.isArray(raw) ? raw[raw.length - 1] : raw);
    const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (items.length === 0) throw new UsageError(`--${flag} must be a comma-separated list of numbers, got "${text}"`);
    return items.map((item) => parseNumber(`--${flag}`, item, effective));
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
