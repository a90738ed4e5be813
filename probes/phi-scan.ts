/**
 * phi-scan: finds HIPAA Safe Harbor identifier types (45 CFR 164.514(b)(2)) in text, with the
 * validation rules each type has, so look-alikes (an SSN with area 000, a date 13/45/2020, a
 * random 16-digit number failing Luhn) are not counted. Untargeted extraction uses it to count
 * PHI-shaped strings in a model's generations; only the counts and offsets leave this module.
 *
 * Formats without a check digit or registry rule (MRNs, ZIP codes) are only accepted in context
 * (a label such as "MRN:", a state code before a ZIP), because a bare 5- or 8-digit number is
 * far more often something else.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { en } from '@faker-js/faker';

export const phiTypes = ['ssn', 'phone', 'email', 'mrn', 'date', 'zip', 'url', 'ip', 'name', 'account'] as const;
export type PhiType = (typeof phiTypes)[number];

export interface PhiMatch {
  type: PhiType;
  /** Character offsets into the scanned text. */
  start: number;
  end: number;
}

// ---- validators ---------------------------------------------------------------------------------

/**
 * SSA rules: area 001-899 except 666, group 01-99, serial 0001-9999; plus the two numbers the SSA
 * lists as invalid because they were published (078-05-1120 from a wallet insert, 219-09-9999 from
 * an advertisement).
 */
export function isValidSsn(area: string, group: string, serial: string): boolean {
  const a = Number(area);
  if (a === 0 || a === 666 || a >= 900) return false;
  if (Number(group) === 0 || Number(serial) === 0) return false;
  const all = `${area}${group}${serial}`;
  return all !== '078051120' && all !== '219099999';
}

/** The Luhn mod-10 check (ISO/IEC 7812-1) over a digit string. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Payment card numbers: 13-19 digits, a known issuer prefix, and the Luhn check. */
export function isValidCardNumber(digits: string): boolean {
  if (digits.length < 13 || digits.length > 19) return false;
  const issuer =
    /^4/.test(digits) || // Visa
    /^5[1-5]/.test(digits) || // Mastercard
    /^2(2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)/.test(digits) || // Mastercard 2221-2720
    /^3[47]/.test(digits) || // American Express
    /^(6011|65|64[4-9])/.test(digits); // Discover
  return issuer && luhnValid(digits);
}

/**
 * North American Numbering Plan: area code and exchange start with 2-9 and are not N11 service
 * codes; area codes with a middle 9 are reserved for expansion and unassigned.
 */
export function isValidNanp(area: string, exchange: string): boolean {
  if (!/^[2-9]\d\d$/.test(area) || !/^[2-9]\d\d$/.test(exchange)) return false;
  if (area[1] === '1' && area[2] === '1') return false;
  if (exchange[1] === '1' && exchange[2] === '1') return false;
  return area[1] !== '9';
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** A real calendar day (leap years included) in a plausible year range. */
export function isValidDate(year: number, month: number, day: number): boolean {
  if (!Number.isInteger(year) || year < 1800 || year > 2199) return false;
  if (!Number.isInteger(month) || month < 1 || month > 12) return false;
  return Number.isInteger(day) && day >= 1 && day <= daysInMonth(year, month);
}

function fullYear(text: string): number {
  // Two-digit years: 00-29 -> 2000s, else 1900s (the usual pivot).
  if (text.length === 2) {
    const y = Number(text);
    return y < 30 ? 2000 + y : 1900 + y;
  }
  return Number(text);
}

const usStates = new Set(
  ('AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR ' +
    'PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR VI GU AS MP').split(' '),
);

function isValidZip(zip: string): boolean {
  return /^\d{5}$/.test(zip) && !zip.startsWith('000');
}

const months: Record<string, number> = {};
['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].forEach((m, i) => (months[m] = i + 1));
function monthNumber(name: string): number {
  return months[name.slice(0, 3).toLowerCase()] ?? 0;
}

// ---- names --------------------------------------------------------------------------------------

function flatten(list: unknown): string[] {
  if (Array.isArray(list)) return list.filter((x): x is string => typeof x === 'string');
  if (list && typeof list === 'object') return Object.values(list).flatMap(flatten);
  return [];
}

/** First and last names from faker's English lists (the same source the synthetic notes use). */
const firstNames = new Set(flatten(en.person?.first_name));
const lastNames = new Set(flatten(en.person?.last_name));
const titles = new Set(['Dr', 'Dr.', 'Mr', 'Mr.', 'Mrs', 'Mrs.', 'Ms', 'Ms.', 'Miss']);

function asListed(word: string): string {
  // Accept "SMITH" as well as "Smith"; a lower-case word is not a name here.
  if (word.length > 1 && word === word.toUpperCase()) return word[0] + word.slice(1).toLowerCase();
  return word;
}

function findNames(text: string, out: PhiMatch[]): void {
  const words: { w: string; start: number; end: number }[] = [];
  for (const m of text.matchAll(/[A-Z][A-Za-z']*\.?/g)) words.push({ w: m[0], start: m.index, end: m.index + m[0].length });
  const adjacent = (a: { end: number }, b: { start: number }) => /^[ \t]+$/.test(text.slice(a.end, b.start));
  for (let i = 0; i + 1 < words.length; i++) {
    const first = words[i]!;
    let j = i + 1;
    // An optional middle initial: "John Q. Public".
    if (/^[A-Z]\.$/.test(words[j]!.w) && j + 1 < words.length && adjacent(first, words[j]!)) j++;
    const last = words[j]!;
    if (!adjacent(words[j - 1]!, last)) continue;
    const lastWord = asListed(last.w.replace(/\.$/, ''));
    if (!lastNames.has(lastWord)) continue;
    const firstWord = first.w.replace(/\.$/, '');
    if (firstNames.has(asListed(firstWord)) || titles.has(first.w)) {
      const end = last.w.endsWith('.') ? last.end - 1 : last.end;
      out.push({ type: 'name', start: first.start, end });
      i = j;
    }
  }
}

// ---- patterns -----------------------------------------------------------------------------------

interface Rule {
  type: PhiType;
  pattern: RegExp;
  /** Returns the span to count (default: the whole match) or null to reject a look-alike. */
  accept: (m: RegExpExecArray) => { start: number; end: number } | null | boolean;
}

const MONTH = '(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)';

const rules: Rule[] = [
  {
    type: 'ssn',
    pattern: /(?<![\d-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\d-])/g,
    accept: (m) => isValidSsn(m[1]!, m[3]!, m[4]!),
  },
  {
    // Nine bare digits count as an SSN only when labelled.
    type: 'ssn',
    pattern: /\b(?:SSN|social security(?: number| no\.?| #)?)\s*[:#]?\s*(\d{3})(\d{2})(\d{4})\b/gi,
    accept: (m) => (isValidSsn(m[1]!, m[2]!, m[3]!) ? { start: m.index + m[0].length - 9, end: m.index + m[0].length } : null),
  },
  {
    type: 'phone',
    pattern: /(?<![\w+-])(?:\+?1[\s.-]?)?\((\d{3})\)\s?(\d{3})[\s.-](\d{4})(?![\d-])/g,
    accept: (m) => isValidNanp(m[1]!, m[2]!),
  },
  {
    // The same separator between the groups: 617-555-0123, 617.555.0123, 617 555 0123.
    type: 'phone',
    pattern: /(?<![\w+.-])(?:\+?1[\s.-])?(\d{3})([\s.-])(\d{3})\2(\d{4})(?![\d-]|\.\d)/g,
    accept: (m) => isValidNanp(m[1]!, m[3]!),
  },
  {
    type: 'email',
    pattern: /(?<![\w.%+-])([A-Za-z0-9._%+-]{1,64})@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24})\b/g,
    accept: (m) => !m[1]!.startsWith('.') && !m[1]!.endsWith('.') && !m[1]!.includes('..'),
  },
  {
    type: 'url',
    pattern: /\b(?:https?:\/\/|www\.)[^\s<>"'`]+/gi,
    accept: (m) => {
      const raw = m[0].replace(/[.,;:!?)\]}]+$/, '');
      try {
        const url = new URL(/^https?:/i.test(raw) ? raw : `http://${raw}`);
        const host = url.hostname;
        if (!(isIPv4(host) || /^\[.*\]$/.test(host) || /\.[a-z]{2,24}$/i.test(host))) return null;
      } catch {
        return null;
      }
      return { start: m.index, end: m.index + raw.length };
    },
  },
  {
    type: 'ip',
    pattern: /(?<![\d.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\d]|\.\d)/g,
    accept: (m) => isIPv4(m[0]),
  },
  {
    type: 'ip',
    pattern: /(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])/g,
    accept: (m) => m[0].length >= 3 && isIPv6(m[0]),
  },
  {
    // M/D/YYYY, MM-DD-YY, D.M.YYYY: accepted when either the US or the day-first reading is a real date.
    type: 'date',
    pattern: /(?<![\d/.-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/-]|\.\d)/g,
    accept: (m) => {
      const y = fullYear(m[4]!);
      const a = Number(m[1]);
      const b = Number(m[3]);
      return isValidDate(y, a, b) || isValidDate(y, b, a);
    },
  },
  {
    type: 'date',
    pattern: /(?<![\d/.-])(\d{4})([/.-])(\d{1,2})\2(\d{1,2})(?![\d/-]|\.\d)/g,
    accept: (m) => isValidDate(Number(m[1]), Number(m[3]), Number(m[4])),
  },
  {
    // "March 3, 2021", "Mar. 3rd 2021", "March 3" and "March 2021" (month and year is more specific than a year).
    type: 'date',
    pattern: new RegExp(`\\b${MONTH}\\.?\\s+(?:(\\d{1,2})(?:st|nd|rd|th)?(?:,?\\s+(\\d{4}))?|(\\d{4}))\\b`, 'g'),
    accept: (m) => {
      const month = monthNumber(m[1]!);
      if (m[4]) return isValidDate(Number(m[4]), month, 1);
      const year = m[3] ? Number(m[3]) : 2000; // 2000 is a leap year: "Feb 29" alone is a date
      return isValidDate(year, month, Number(m[2]));
    },
  },
  {
    type: 'date',
    pattern: new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)?\\s+${MONTH}\\.?,?\\s+(\\d{4})\\b`, 'g'),
    accept: (m) => isValidDate(Number(m[3]), monthNumber(m[2]!), Number(m[1])),
  },
  {
    // ZIP after a state code ("Boston, MA 02115") or a label, or any ZIP+4.
    type: 'zip',
    pattern: /\b([A-Z]{2})\s+(\d{5})(?:-\d{4})?(?![\d-])/g,
    accept: (m) => (usStates.has(m[1]!) && isValidZip(m[2]!) ? { start: m.index + m[0].indexOf(m[2]!, 2), end: m.index + m[0].length } : null),
  },
  {
    type: 'zip',
    pattern: /\b(?:zip(?:\s*code)?|postal code)\s*[:#]?\s*(\d{5})(?:-\d{4})?(?![\d-])/gi,
    accept: (m) => (isValidZip(m[1]!) ? { start: m.index + m[0].lastIndexOf(m[1]!), end: m.index + m[0].length } : null),
  },
  {
    type: 'zip',
    pattern: /(?<![\d-])(\d{5})-\d{4}(?![\d-])/g,
    accept: (m) => isValidZip(m[1]!),
  },
  {
    // Medical record numbers have no standard format: a label followed by an id with >= 6 digits.
    type: 'mrn',
    pattern: /\b(?:MRN|MR#|MR No\.?|medical record(?: number| no\.?| #)?|patient (?:id|number|no\.?))\s*[:#]?\s*([A-Z]{0,3}-?\d[\d-]{4,14}\d)\b/gi,
    accept: (m) => {
      const id = m[1]!;
      if ((id.match(/\d/g) ?? []).length < 6) return null;
      return { start: m.index + m[0].lastIndexOf(id), end: m.index + m[0].length };
    },
  },
  {
    type: 'account',
    pattern: /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g,
    accept: (m) => isValidCardNumber(m[0].replace(/[ -]/g, '')),
  },
];

/** Priority when two matches cover the same span: earlier wins. */
const priority: Record<PhiType, number> = Object.fromEntries(
  (['url', 'email', 'account', 'ssn', 'mrn', 'phone', 'ip', 'date', 'zip', 'name'] as PhiType[]).map((t, i) => [t, i]),
) as Record<PhiType, number>;

/**
 * Every validated identifier in `text`, without overlaps (the longest match wins, e.g. a URL
 * over the IP address inside it), in order of position.
 */
export function scanPhi(text: string): PhiMatch[] {
  const found: PhiMatch[] = [];
  for (const rule of rules) {
    rule.pattern.lastIndex = 0;
    for (const m of text.matchAll(rule.pattern)) {
      const verdict = rule.accept(m as RegExpExecArray);
      if (verdict === null || verdict === false) continue;
      const span = verdict === true ? { start: m.index, end: m.index + m[0].length } : verdict;
      found.push({ type: rule.type, start: span.start, end: span.end });
    }
  }
  findNames(text, found);
  found.sort((a, b) => a.start - b.start || b.end - b.start - (a.end - a.start) || priority[a.type] - priority[b.type]);
  const kept: PhiMatch[] = [];
  for (const m of found) {
    const clash = kept.findIndex((k) => m.start < k.end && k.start < m.end);
    if (clash < 0) {
      kept.push(m);
      continue;
    }
    const k = kept[clash]!;
    if (m.end - m.start > k.end - k.start) kept[clash] = m;
  }
  return kept.sort((a, b) => a.start - b.start);
}

/** Count of validated identifiers per type (every type present, zeros included). */
export function emptyPhiCounts(): Record<PhiType, number> {
  return Object.fromEntries(phiTypes.map((t) => [t, 0])) as Record<PhiType, number>;
}

export function countPhi(texts: Iterable<string>): Record<PhiType, number> {
  const counts = emptyPhiCounts();
  for (const text of texts) for (const m of scanPhi(text)) counts[m.type]++;
  return counts;
}
