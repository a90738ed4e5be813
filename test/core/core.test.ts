import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate, readJsonFile, parseJson } from '../../src/core/schema.js';
import { InputError, UsageError } from '../../src/core/errors.js';
import { writeFileAtomic, AtomicFileWriter, commitAll } from '../../src/core/atomic.js';
import { canonicalJson, sha256File, sha256Hex, sha256Json } from '../../src/core/hash.js';
import { parseNumber, numberListFlag } from '../../src/core/flags.js';
import { tempDir } from '../helpers/cli.js';

describe('schema validation', () => {
  const schema = {
    type: 'object',
    required: ['version', 'canaries'],
    additionalProperties: false,
    properties: {
      version: { const: 1 },
      canaries: { type: 'array', items: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } },
    },
  };

  it('names the file and the JSON pointer of the problem in one line', () => {
    expect(() => validate(schema, { version: 1, canaries: [{ id: 'a' }, { id: 3 }] }, 'set.json')).toThrow(
      new InputError('set.json: /canaries/1/id: must be string'),
    );
    expect(() => validate(schema, { version: 1, canaries: [], extra: true }, 'set.json')).toThrow(/set\.json: \/: unknown property "extra"/);
  });

  it('reports missing files and JSON syntax errors with their place', () => {
    const dir = tempDir();
    expect(() => readJsonFile(join(dir, 'nope.json'))).toThrow(/nope\.json: file not found/);
    expect(() => parseJson('{\n  "a": 1,\n  oops\n}', 'f.json')).toThrow(/f\.json line 3 column 3: not valid JSON/);
  });
});

describe('atomic writes', () => {
  it('writes whole files and leaves no temporaries', () => {
    const dir = tempDir();
    const path = join(dir, 'sub', 'out.json');
    writeFileAtomic(path, '{"a":1}\n');
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n');
    expect(readdirSync(join(dir, 'sub'))).toEqual(['out.json']);
  });

  it('publishes streamed files only on commit, and nothing on abort', async () => {
    const dir = tempDir();
    const a = new AtomicFileWriter(join(dir, 'a.txt'));
    const b = new AtomicFileWriter(join(dir, 'b.txt'));
    await a.write('hello ');
    await a.write('world');
    await b.write('manifest');
    expect(existsSync(join(dir, 'a.txt'))).toBe(false);
    await commitAll([a, b]);
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('hello world');
    const c = new AtomicFileWriter(join(dir, 'c.txt'));
    await c.write('partial');
    await c.abort();
    expect(readdirSync(dir).sort()).toEqual(['a.txt', 'b.txt']);
  });
});

describe('hashing', () => {
  it('hashes strings, files and JSON independent of key order', async () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const dir = tempDir();
    writeFileAtomic(join(dir, 'f'), 'abc');
    expect(await sha256File(join(dir, 'f'))).toBe(sha256Hex('abc'));
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: 2 } })).toBe('{"a":{"c":2,"d":[1,{"y":2,"z":1}]},"b":1}');
    expect(sha256Json({ a: 1, b: 2 })).toBe(sha256Json({ b: 2, a: 1 }));
  });
});

describe('flag parsing', () => {
  it('rejects non-numbers, non-integers and out-of-range values with the flag name', () => {
    expect(() => parseNumber('--steps', 'abc', { integer: true, min: 1 })).toThrow(new UsageError('--steps must be an integer >= 1, got "abc"'));
    expect(() => parseNumber('--steps', '2.5', { integer: true })).toThrow(UsageError);
    expect(() => parseNumber('--delta', '1', { min: 0, minExclusive: true, max: 1, maxExclusive: true })).toThrow(/--delta must be a number > 0 < 1/);
    expect(() => parseNumber('--q', '', {})).toThrow(UsageError);
    expect(parseNumber('--delta', '1e-5', { min: 0, minExclusive: true })).toBe(1e-5);
    expect(numberListFlag('repetitions', { integer: true, min: 1 })('1,4, 16')).toEqual([1, 4, 16]);
  });
});
