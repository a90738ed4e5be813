/**
 * Where a JSON text goes wrong, for error lines that must not quote the record: V8's JSON.parse
 * messages embed the offending text ("Unexpected token 'M', "MRN..." is not valid JSON"), so a
 * failed parse is located again here (RFC 8259 grammar) and reported as a column and a kind.
 * Only runs after JSON.parse failed: speed does not matter, a bounded stack does (no recursion).
 */

export interface JsonSyntaxError {
  /** 1-based column (UTF-16 code units) of the first character that cannot continue the JSON text. */
  column: number;
  /** What is wrong there, in words that never include the text itself. */
  problem: string;
}

const whitespace = new Set([' ', '\t', '\n', '\r']);
const literals = ['true', 'false', 'null'];
const numberPattern = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/;
const escapes = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

/** The first syntax error of `text` as one JSON value, or null when it parses. */
export function locateJsonError(text: string): JsonSyntaxError | null {
  let i = 0;
  const fail = (at: number, problem: string): JsonSyntaxError => ({ column: at + 1, problem: at >= text.length ? 'the line ends inside the JSON value' : problem });
  const skip = () => {
    while (i < text.length && whitespace.has(text[i]!)) i++;
  };
  /** Reads a string starting at its opening quote; null when it is well formed. */
  const string = (): JsonSyntaxError | null => {
    for (i++; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch === 0x22) {
        i++;
        return null;
      }
      if (ch < 0x20) return fail(i, 'a control character inside a string (escape it)');
      if (ch === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return fail(i, 'an invalid \\u escape');
          i += 5;
        } else if (e !== undefined && escapes.has(e)) i++;
        else return fail(i, 'an invalid escape');
      }
    }
    return fail(i, '');
  };
  /** Reads a scalar (or the opening of a container, returned for the caller's stack). */
  const scalar = (): JsonSyntaxError | '[' | '{' | null => {
    skip();
    const ch = text[i];
    if (ch === '[' || ch === '{') return ch;
    if (ch === '"') return string();
    const word = literals.find((w) => text.startsWith(w, i));
    if (word) {
      i += word.length;
      return null;
    }
    const num = numberPattern.exec(text.slice(i, i + 400));
    if (num && num[0].length > 0 && num[0] !== '-') {
      i += num[0].length;
      return null;
    }
    return fail(i, 'an unexpected character where a value should start');
  };
  // The closing characters of the open containers.
  const stack: (']' | '}')[] = [];
  for (;;) {
    let value = scalar();
    if (value !== null && typeof value === 'object') return value;
    if (value === '[' || value === '{') {
      const close = value === '[' ? ']' : '}';
      i++;
      skip();
      stack.push(close);
      if (text[i] === close) {
        i++;
        stack.pop();
        value = null;
      } else if (close === '}') {
        const key = keyThenColon();
        if (key) return key;
        continue;
      } else continue;
    }
    // After a value: a comma, the closing character of the container, or the end of the text.
    for (;;) {
      skip();
      const top = stack[stack.length - 1];
      if (!top) return i === text.length ? null : fail(i, 'more text after the JSON value');
      if (text[i] === top) {
        i++;
        stack.pop();
        continue;
      }
      if (text[i] !== ',') return fail(i, `expected "," or "${top}"`);
      i++;
      if (top === '}') {
        const key = keyThenColon();
        if (key) return key;
      }
      break;
    }
  }

  function keyThenColon(): JsonSyntaxError | null {
    skip();
    if (text[i] !== '"') return fail(i, 'expected a property name in double quotes');
    const bad = string();
    if (bad) return bad;
    skip();
    if (text[i] !== ':') return fail(i, 'expected ":" after the property name');
    i++;
    return null;
  }
}
