/**
 * Typed slot formats: how a slot spec ({format, params}) of a pack or a stored secret space
 * expands into the slots of a SecretSpace (each a list of alternatives; a secret is one
 * alternative per slot, concatenated). Compound formats (ssn, us-phone, date, ...) expand into
 * several slots so the space stays a product and long digit runs stay one small slot per digit.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { packageRoot } from '../core/version.js';
import type { SecretSlot, SecretSpaceSpec } from './types.js';

export type SlotSpec = SecretSpaceSpec['slots'][number];

/** The largest alternatives list one slot may materialize (long digit runs use one slot per digit). */
export const maxAlternatives = 100_000;

const digitChars = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function rangeStrings(from: number, to: number, width: number, skip: (n: number) => boolean = () => false): string[] {
  const out: string[] = [];
  for (let n = from; n <= to; n++) if (!skip(n)) out.push(pad(n, width));
  return out;
}

const literal = (value: string): SecretSlot => ({ format: 'literal', alternatives: [value] });
const digitSlots = (length: number, firstNonZero = false): SecretSlot[] =>
  Array.from({ length }, (_, i) =>
    i === 0 && firstNonZero ? { format: 'digit-nonzero', alternatives: digitChars.slice(1) } : { format: 'digit', alternatives: digitChars },
  );

/** Month and day without February 29, so a (year, month-day) product contains only real dates. */
function monthDays(separator: string, order: 'md' | 'dm' = 'md'): string[] {
  const lengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  const out: string[] = [];
  lengths.forEach((days, m) => {
    for (let d = 1; d <= days; d++) out.push(order === 'md' ? `${pad(m + 1, 2)}${separator}${pad(d, 2)}` : `${pad(d, 2)}${separator}${pad(m + 1, 2)}`);
  });
  return out;
}

// ---- parameter access with errors naming the slot ------------------------------------------------

class Params {
  constructor(
    private readonly params: Record<string, unknown>,
    readonly where: string,
  ) {}
  fail(message: string): never {
    throw new InputError(`${this.where}: ${message}`);
  }
  int(name: string, fallback?: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.params[name] ?? fallback;
    if (v === undefined) this.fail(`params.${name} is required`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(`params.${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    return v;
  }
  string(name: string, fallback?: string): string {
    const v = this.params[name] ?? fallback;
    if (typeof v !== 'string') this.fail(`params.${name} must be a string`);
    return v;
  }
  bool(name: string, fallback: boolean): boolean {
    const v = this.params[name] ?? fallback;
    if (typeof v !== 'boolean') this.fail(`params.${name} must be true or false`);
    return v;
  }
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.params[name] ?? fallback;
    if (!allowed.includes(v as T)) this.fail(`params.${name} must be one of ${allowed.join(', ')}`);
    return v as T;
  }
  strings(name: string): string[] {
    const v = this.params[name];
    if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === 'string' && s !== '')) this.fail(`params.${name} must be a non-empty list of non-empty strings`);
    if (new Set(v).size !== v.length) this.fail(`params.${name} has duplicate values`);
    if (v.length > maxAlternatives) this.fail(`params.${name} has ${v.length} values (at most ${maxAlternatives})`);
    return v as string[];
  }
}

// ---- built-in word lists (canaries/lists/*.json) ------------------------------------------------

const listsDir = join(packageRoot, 'canaries', 'lists');
const listCache = new Map<string, string[]>();

/** Names of the built-in word lists. */
export function builtinLists(): string[] {
  return readdirSync(listsDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

export function builtinList(name: string, where: string): string[] {
  const cached = listCache.get(name);
  if (cached) return cached;
  if (!/^[a-z0-9-]+$/.test(name) || !builtinLists().includes(name)) {
    throw new InputError(`${where}: unknown list "${name}" (built-in lists: ${builtinLists().join(', ')})`);
  }
  const values = JSON.parse(readFileSync(join(listsDir, `${name}.json`), 'utf8')) as string[];
  listCache.set(name, values);
  return values;
}

function applyCase(values: string[], kase: 'as-is' | 'lower' | 'upper'): string[] {
  if (kase === 'as-is') return values;
  const out = values.map((v) => (kase === 'lower' ? v.toLowerCase() : v.toUpperCase()));
  return [...new Set(out)];
}

// ---- the formats -------------------------------------------------------------------------------

type Expander = (p: Params) => SecretSlot[];

const formats: Record<string, { describe: string; expand: Expander }> = {
  literal: { describe: 'fixed text: params.value', expand: (p) => [literal(p.string('value'))] },
  digit: { describe: 'one decimal digit', expand: () => digitSlots(1) },
  digits: {
    describe: 'params.length digits, one slot each (params.firstNonZero: no leading zero)',
    expand: (p) => digitSlots(p.int('length', undefined, 1, 64), p.bool('firstNonZero', false)),
  },
  range: {
    describe: 'an integer in [params.min, params.max], zero-padded to params.pad characters',
    expand: (p) => {
      const min = p.int('min');
      const max = p.int('max', undefined, min);
      if (max - min + 1 > maxAlternatives) p.fail(`range has ${max - min + 1} values (at most ${maxAlternatives}; use digits for long runs)`);
      return [{ format: 'range', alternatives: rangeStrings(min, max, p.int('pad', 0, 0, 20)) }];
    },
  },
  choice: {
    describe: 'one of params.values (params.name names the slot, e.g. "first-name")',
    expand: (p) => [{ format: p.string('name', 'choice'), alternatives: p.strings('values') }],
  },
  list: {
    describe: 'one of a built-in word list: params.name (canaries/lists/NAME.json), params.case as-is|lower|upper',
    expand: (p) => {
      const name = p.string('name');
      return [{ format: name, alternatives: applyCase(builtinList(name, p.where), p.oneOf('case', ['as-is', 'lower', 'upper'] as const, 'as-is')) }];
    },
  },
  'ssn-area': { describe: 'SSN area number 001-899 except 666', expand: () => [{ format: 'ssn-area', alternatives: rangeStrings(1, 899, 3, (n) => n === 666) }] },
  'ssn-group': { describe: 'SSN group number 01-99', expand: () => [{ format: 'ssn-group', alternatives: rangeStrings(1, 99, 2) }] },
  'ssn-serial': { describe: 'SSN serial number 0001-9999', expand: () => [{ format: 'ssn-serial', alternatives: rangeStrings(1, 9999, 4) }] },
  ssn: {
    describe: 'US Social Security number AAA-GG-SSSS (valid area, group and serial ranges)',
    expand: (p) => [...expand({ format: 'ssn-area' }, p.where), literal('-'), ...expand({ format: 'ssn-group' }, p.where), literal('-'), ...expand({ format: 'ssn-serial' }, p.where)],
  },
  mrn: { describe: 'medical record number: params.length digits (default 8)', expand: (p) => digitSlots(p.int('length', 8, 1, 64)) },
  zip: { describe: 'US ZIP code, 5 digits', expand: () => digitSlots(5) },
  'us-area-code': {
    describe: 'NANP area code NXX: first digit 2-9, second 0-8, not N11',
    expand: () => [{ format: 'us-area-code', alternatives: rangeStrings(200, 989, 3, (n) => Math.floor(n / 10) % 10 === 9 || n % 100 === 11) }],
  },
  'us-exchange': {
    describe: 'NANP central office code NXX: first digit 2-9, not N11',
    expand: () => [{ format: 'us-exchange', alternatives: rangeStrings(200, 999, 3, (n) => n % 100 === 11) }],
  },
  'us-phone': {
    describe: 'US phone number NPA-NXX-XXXX',
    expand: (p) => [...expand({ format: 'us-area-code' }, p.where), literal('-'), ...expand({ format: 'us-exchange' }, p.where), literal('-'), ...digitSlots(4)],
  },
  year: {
    describe: 'a year in [params.from, params.to]',
    expand: (p) => {
      const from = p.int('from', undefined, 1, 9999);
      return [{ format: 'year', alternatives: rangeStrings(from, p.int('to', undefined, from, 9999), 4) }];
    },
  },
  'month-day': {
    describe: 'month and day (no February 29), params.style iso (MM-DD) or us (MM/DD)',
    expand: (p) => [{ format: 'month-day', alternatives: monthDays(p.oneOf('style', ['iso', 'us'] as const, 'iso') === 'iso' ? '-' : '/') }],
  },
  date: {
    describe: 'a calendar date between params.fromYear and params.toYear, params.style iso (YYYY-MM-DD) or us (MM/DD/YYYY); February 29 excluded so the space is a product',
    expand: (p) => {
      const style = p.oneOf('style', ['iso', 'us'] as const, 'iso');
      const year = expand({ format: 'year', params: { from: p.int('fromYear', 1930, 1, 9999), to: p.int('toYear', 2010, 1, 9999) } }, p.where);
      const md = expand({ format: 'month-day', params: { style } }, p.where);
      return style === 'iso' ? [...year, literal('-'), ...md] : [...md, literal('/'), ...year];
    },
  },
};

/** The slot formats a pack may use, with a one-line description each (for the README and errors). */
export function slotFormats(): { name: string; describe: string }[] {
  return Object.entries(formats).map(([name, f]) => ({ name, describe: f.describe }));
}

/** Expands one slot spec into SecretSpace slots; `where` names it in errors ("pack.json: /secret/2"). */
export function expand(spec: SlotSpec, where: string): SecretSlot[] {
  const format = formats[spec.format];
  if (!format) throw new InputError(`${where}: unknown slot format "${spec.format}" (known: ${Object.keys(formats).join(', ')})`);
  const params = spec.params ?? {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) throw new InputError(`${where}: params must be an object`);
  return format.expand(new Params(params, where));
}

/**
 * The spec with built-in lists replaced by their values, so a stored canary set or manifest
 * rebuilds exactly the same space even if a later version ships different lists.
 */
export function resolveSpec(spec: SecretSpaceSpec, where = 'secret space'): SecretSpaceSpec {
  return {
    slots: spec.slots.map((slot, i) => {
      if (slot.format !== 'list') return slot;
      const [expanded] = expand(slot, `${where}: /slots/${i}`);
      return { format: 'choice', params: { name: expanded!.format, values: [...expanded!.alternatives] } };
    }),
  };
}
