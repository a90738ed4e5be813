/**
 * The last line of defence for "no PHI in outputs": before a run's report, attestation or log
 * entry is written, the text in it is searched for every canary secret and canary record of the
 * manifest. The canaries stand in for PHI, so finding one means some field carries raw
 * generations, training text or a secret given as input, and nothing is written.
 *
 * Text, not figures (docs/SCIENCE.md#the-no-phi-output-guard): in JSON outputs only strings are
 * searched (a DSSE envelope's payload is decoded and searched too), never numbers; and a bare
 * secret that is the decimal form of a number the run's JSON outputs hold, exact or rounded as the
 * renderings round it (a rank, a count: a 6-digit PIN equals some rank among 10^6 candidates by
 * chance) is not a hit where it stands as a whole token, since the rendered Markdown and HTML
 * print those numbers. A canary's full text is never excused.
 */
import type { Manifest } from '../canary/types.js';
import { InputError } from '../core/errors.js';
import { decodeBase64 } from '../attest/dsse.js';
import { escapeXml } from './svg.js';

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches `s` not embedded in a longer alphanumeric run (so a digit secret inside a hex digest is not a hit). */
function standalone(s: string): RegExp {
  return new RegExp(`(?<![0-9A-Za-z])${escapeRegExp(s)}(?![0-9A-Za-z])`);
}

export interface GuardOptions {
  /** Decimal forms of the numbers the run's outputs hold as numbers: a bare secret equal to one is not a hit. */
  numbers?: ReadonlySet<string>;
}

/** Throws an InputError if `text` contains a canary secret or record as a whole token; names only the canary id. */
export function assertNoCanaryText(text: string, manifest: Manifest, what: string, options: GuardOptions = {}): void {
  for (const c of manifest.canaries) {
    for (const s of [c.secret, c.text]) {
      if (s.length < 5 || (s === c.secret && options.numbers?.has(s))) continue;
      // As is, JSON-escaped (a string inside JSON text) and XML-escaped (the HTML report).
      const forms = [s, JSON.stringify(s).slice(1, -1), escapeXml(s)];
      if (forms.some((f) => text.includes(f) && standalone(f).test(text))) {
        throw new InputError(
          `refusing to write ${what}: it contains the secret or text of canary ${c.id} (raw text must never reach an output; ` +
            'it came from an input such as --purpose or a target name, or from a bug; nothing was written)',
        );
      }
    }
  }
}

/** A number as the outputs may print it: exactly, or rounded to 1-6 significant digits (show(), fmt()). */
function renderings(n: number): string[] {
  const forms = [String(n)];
  if (Number.isFinite(n)) for (let digits = 1; digits <= 6; digits++) forms.push(String(Number(n.toPrecision(digits))));
  return forms;
}

/** The strings and numbers of a JSON value; a DSSE envelope's base64 JSON payload is opened. */
function collect(value: unknown, strings: string[], numbers: Set<string>): void {
  if (typeof value === 'string') strings.push(value);
  else if (typeof value === 'number') for (const form of renderings(value)) numbers.add(form);
  else if (Array.isArray(value)) for (const v of value) collect(v, strings, numbers);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      strings.push(k);
      collect(v, strings, numbers);
    }
    const envelope = value as { payload?: unknown; payloadType?: unknown };
    if (typeof envelope.payload === 'string' && typeof envelope.payloadType === 'string') {
      const body = decodeBase64(envelope.payload);
      if (body) collect(parseJson(body.toString('utf8')) ?? body.toString('utf8'), strings, numbers);
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface GuardedFile {
  name: string;
  content: string;
}

/**
 * Checks a run's outputs together: the JSON ones string by string (their numbers make the set of
 * excused numbers), the others (Markdown, HTML: renderings of the same report) as text.
 */
export function assertNoCanaryInOutputs(files: GuardedFile[], manifest: Manifest): void {
  const numbers = new Set<string>();
  const parsed = files.map((f) => {
    const value = f.name.endsWith('.json') ? parseJson(f.content) : undefined;
    if (value === undefined) return { file: f, strings: undefined };
    const strings: string[] = [];
    collect(value, strings, numbers);
    return { file: f, strings };
  });
  for (const { file, strings } of parsed) {
    // One search over the strings joined by line breaks, which no canary text contains.
    assertNoCanaryText(strings ? strings.join('\n') : file.content, manifest, file.name, { numbers });
  }
}
