/**
 * JSON Schema validation (ajv, draft 2020-12 off by default: we use draft-07 schemas) that turns
 * ajv's error list into one line naming the file and the JSON pointer of the first problem.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { InputError } from './errors.js';

// ajv-formats is CommonJS whose default export TypeScript sees as the module namespace.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats);

const ajv = new Ajv({ allErrors: false, strict: false, useDefaults: false });
addFormats(ajv);

const compiled = new WeakMap<object, ValidateFunction>();

export type JsonSchema = Record<string, unknown>;

function compile(schema: JsonSchema): ValidateFunction {
  const cached = compiled.get(schema);
  if (cached) return cached;
  const fn = ajv.compile(schema);
  compiled.set(schema, fn);
  return fn;
}

/** One readable line for an ajv error: where (JSON pointer) and what. */
export function describeSchemaError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '/' : error.instancePath;
  let what = error.message ?? 'is invalid';
  if (error.keyword === 'additionalProperties') what = `unknown property "${(error.params as { additionalProperty: string }).additionalProperty}"`;
  if (error.keyword === 'enum') what = `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${where}: ${what}`;
}

/**
 * Validates `data` against `schema`; throws an InputError `"<source>: <pointer>: <problem>"`.
 * `source` names the file (or other origin) so the user knows where to look.
 */
export function validate<T>(schema: JsonSchema, data: unknown, source: string): T {
  const fn = compile(schema);
  if (!fn(data)) {
    const first = fn.errors?.[0];
    throw new InputError(`${source}: ${first ? describeSchemaError(first) : 'does not match its schema'}`);
  }
  return data as T;
}

/** Boolean check, for tests and optional inputs. */
export function isValid(schema: JsonSchema, data: unknown): boolean {
  return compile(schema)(data) as boolean;
}

/** Parses JSON text; a syntax error becomes an InputError naming the source, line and column. */
export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const pos = /position (\d+)/.exec(message);
    if (pos) {
      const offset = Number(pos[1]);
      const before = text.slice(0, offset);
      const line = before.split('\n').length;
      const column = offset - before.lastIndexOf('\n');
      throw new InputError(`${source} line ${line} column ${column}: not valid JSON`);
    }
    throw new InputError(`${source}: not valid JSON (${message})`);
  }
}

/** Reads a JSON file, optionally validating it. Missing or unreadable files are InputErrors. */
export function readJsonFile<T = unknown>(path: string, schema?: JsonSchema): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? `${path}: file not found` : `${path}: cannot read (${code ?? (e as Error).message})`);
  }
  const data = parseJson(text, path);
  return schema ? validate<T>(schema, data, path) : (data as T);
}
