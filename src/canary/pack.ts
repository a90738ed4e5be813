/**
 * Canary packs (canaries/*.json, schema canaries/pack.schema.json): loading a built-in pack by
 * name or a user's pack by path, validating it, and the secret space it defines.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, UsageError } from '../core/errors.js';
import { sha256Json } from '../core/hash.js';
import { readJsonFile, validate, type JsonSchema } from '../core/schema.js';
import { packageRoot } from '../core/version.js';
import { expand, resolveSpec, type SlotSpec } from './formats.js';
import { secretSpaceFromSpec } from './secret-space.js';
import type { SecretSpace, SecretSpaceSpec } from './types.js';

export interface TextPack {
  version: 1;
  name: string;
  description: string;
  kind: 'text';
  format: string;
  template: string;
  fields?: Record<string, SlotSpec[]>;
  secret: SlotSpec[];
}

export interface TabularColumn {
  name: string;
  type?: 'number' | 'string';
  slots: SlotSpec[];
}

export interface TabularPack {
  version: 1;
  name: string;
  description: string;
  kind: 'tabular';
  format: string;
  columns: TabularColumn[];
  label: { column: string; values: string[] };
}

export type Pack = TextPack | TabularPack;

export interface LoadedPack {
  pack: Pack;
  /** Where it came from: "built-in ssn" or the file path. */
  source: string;
  /** sha256 of the pack's canonical JSON. */
  digest: string;
  /** The secret space with lists resolved (what canary sets and manifests store). */
  spec: SecretSpaceSpec;
  space: SecretSpace;
}

export const packsDir = join(packageRoot, 'canaries');
let packSchema: JsonSchema | undefined;

function schema(): JsonSchema {
  packSchema ??= readJsonFile<JsonSchema>(join(packsDir, 'pack.schema.json'));
  return packSchema;
}

/** Names of the built-in packs (canaries/*.json except the schema). */
export function builtinPacks(): string[] {
  return readdirSync(packsDir)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.schema.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** Placeholders of a template in order: literal text and {name} parts. */
export function templateParts(template: string): ({ literal: string } | { field: string })[] {
  const parts: ({ literal: string } | { field: string })[] = [];
  const re = /\{([a-z][a-z0-9-]*)\}/g;
  let last = 0;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    if (m.index > last) parts.push({ literal: template.slice(last, m.index) });
    parts.push({ field: m[1]! });
    last = m.index + m[0].length;
  }
  if (last < template.length) parts.push({ literal: template.slice(last) });
  return parts;
}

/** The secret spec of a tabular pack: "col1=" v1 ";col2=" v2 ... (a stable rendering of the row). */
export function tabularSecretSpec(pack: TabularPack): SecretSpaceSpec {
  return {
    slots: pack.columns.flatMap((c, i) => [{ format: 'literal', params: { value: `${i === 0 ? '' : ';'}${c.name}=` } }, ...c.slots]),
  };
}

function checkPack(pack: Pack, source: string): void {
  if (pack.kind === 'text') {
    const parts = templateParts(pack.template);
    const used = parts.flatMap((p) => ('field' in p ? [p.field] : []));
    if (used.filter((f) => f === 'secret').length !== 1) throw new InputError(`${source}: /template: must contain {secret} exactly once`);
    for (const f of used) {
      if (f !== 'secret' && !pack.fields?.[f]) throw new InputError(`${source}: /template: placeholder {${f}} has no entry in "fields"`);
    }
    for (const f of Object.keys(pack.fields ?? {})) {
      if (!used.includes(f)) throw new InputError(`${source}: /fields/${f}: not used in the template`);
      pack.fields![f]!.forEach((slot, i) => expand(slot, `${source}: /fields/${f}/${i}`));
    }
  } else {
    const names = new Set<string>();
    for (const [i, c] of pack.columns.entries()) {
      if (names.has(c.name)) throw new InputError(`${source}: /columns/${i}/name: duplicate column "${c.name}"`);
      names.add(c.name);
      const values = c.slots.flatMap((slot, j) => expand(slot, `${source}: /columns/${i}/slots/${j}`));
      if (values.some((s) => s.alternatives.some((a) => a.includes(';')))) {
        throw new InputError(`${source}: /columns/${i}: values must not contain ";" (it separates columns in the canary text)`);
      }
      if (c.type === 'number' && !values.every((s) => s.alternatives.every((a) => /^-?\d+(\.\d+)?$/.test(a)))) {
        throw new InputError(`${source}: /columns/${i}: type is number but its slots produce non-numeric values`);
      }
    }
    if (names.has(pack.label.column)) throw new InputError(`${source}: /label/column: "${pack.label.column}" is also a feature column`);
  }
}

/** The secret space of a pack, as stored (lists resolved) and built. */
export function packSpace(pack: Pack, source: string): { spec: SecretSpaceSpec; space: SecretSpace } {
  const raw = pack.kind === 'text' ? { slots: pack.secret } : tabularSecretSpec(pack);
  const spec = resolveSpec(raw, `${source}: secret`);
  return { spec, space: secretSpaceFromSpec(spec, `${source}: secret`) };
}

/** Validates a pack object (from a file or a library caller). */
export function validatePack(value: unknown, source: string): LoadedPack {
  const pack = validate<Pack>(schema(), value, source);
  checkPack(pack, source);
  const { spec, space } = packSpace(pack, source);
  return { pack, source, digest: sha256Json(pack), spec, space };
}

/**
 * A built-in pack by name ("ssn") or a pack file by path. Anything with a slash or a .json
 * extension is a path.
 */
export function loadPack(nameOrPath: string): LoadedPack {
  const isPath = nameOrPath.includes('/') || nameOrPath.includes('\\') || nameOrPath.endsWith('.json');
  if (!isPath) {
    if (!builtinPacks().includes(nameOrPath)) {
      throw new UsageError(`--pack ${nameOrPath}: no built-in pack of that name (built-in: ${builtinPacks().join(', ')}; or give a pack file path)`);
    }
    const path = join(packsDir, `${nameOrPath}.json`);
    return { ...validatePack(readJsonFile(path), path), source: `built-in ${nameOrPath}` };
  }
  if (!existsSync(nameOrPath)) throw new InputError(`${nameOrPath}: file not found`);
  return validatePack(readJsonFile(nameOrPath), nameOrPath);
}
