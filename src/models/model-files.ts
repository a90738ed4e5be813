/**
 * The files of a model directory, without TensorFlow.js: their names, the confinement of every
 * path a model directory names to the directory itself, and their digests. `attest verify` and
 * `gate` read these without loading a model (docs/ARCHITECTURE.md, "Layers").
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { InputError } from '../core/errors.js';
import { sha256Hex } from '../core/hash.js';
import { parseJson } from '../core/schema.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const META_JSON = 'memaudit.json';
export const PRIVACY_JSON = 'privacy.json';

/**
 * A file a model directory names (a weightsManifest path, an attestation subject), resolved so that
 * it cannot leave the directory: no absolute path, no ".." segment, no backslash, and no symlink
 * whose target lies outside. Otherwise what was attested (the directory's files) would not be what
 * was loaded. A file that does not exist resolves to its path (the caller reports it missing).
 */
export function confinedModelPath(dir: string, name: string, where: string): string {
  const refuse = (why: string) => new InputError(`${where}: file "${name}" ${why}; a model's files must lie inside its directory`);
  if (typeof name !== 'string' || name === '' || name.includes('\0')) throw refuse('is not a file name');
  if (isAbsolute(name) || /^[A-Za-z]:/.test(name) || name.includes('\\')) throw refuse('is an absolute or Windows path');
  if (name.split('/').includes('..')) throw refuse('climbs out with ".."');
  const path = join(dir, name);
  if (!existsSync(path)) return path;
  const root = realpathSync(dir);
  const real = relative(root, realpathSync(path));
  if (real === '' || real.startsWith('..') || isAbsolute(real)) throw refuse('is a symlink leading outside the model directory');
  return path;
}

/** The weight files a model.json names, in manifest order (each confined to the model directory). */
export function weightFileNames(modelJsonPath: string, json: { weightsManifest?: unknown }): string[] {
  const manifest = json.weightsManifest ?? [];
  if (!Array.isArray(manifest)) throw new InputError(`${modelJsonPath}: weightsManifest is not a list`);
  const names: string[] = [];
  for (const group of manifest as { paths?: unknown }[]) {
    const paths = group?.paths ?? [];
    if (!Array.isArray(paths)) throw new InputError(`${modelJsonPath}: a weightsManifest entry's paths is not a list`);
    for (const name of paths) {
      confinedModelPath(dirname(modelJsonPath), name as string, modelJsonPath);
      names.push(name as string);
    }
  }
  return names;
}

/** File name -> sha256 of the bytes a loader read: the subjects of what was loaded, not of a second read. */
export type ReadDigests = Map<string, string>;

/** A JSON file of a model directory (confined to it), its digest recorded under its base name when asked. */
export function readJsonOrFail(path: string, digests?: ReadDigests): unknown {
  const name = basename(path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(confinedModelPath(dirname(path), name, path));
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? `${path}: file not found` : `${path}: cannot read (${code})`);
  }
  digests?.set(name, sha256Hex(bytes));
  return parseJson(bytes.toString('utf8'), path);
}

/** The recorded digests as sorted subjects. */
export function filesRead(digests: ReadDigests): ModelFile[] {
  return [...digests].map(([name, sha256]) => ({ name, sha256 })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface ModelFile {
  name: string;
  sha256: string;
}

/**
 * Every file the loader reads from a model directory, with its sha256, sorted by name: model.json,
 * the weight files its manifest names, memaudit.json and privacy.json when present. These are the
 * attestation's subjects, so what is attested is exactly what is loaded.
 */
export function modelFiles(dir: string): ModelFile[] {
  const modelJson = join(dir, MODEL_JSON);
  if (!existsSync(modelJson)) throw new InputError(`${dir}: not a model directory (${MODEL_JSON} not found)`);
  const json = readJsonOrFail(modelJson);
  if (!json || typeof json !== 'object') throw new InputError(`${modelJson}: not a tfjs model.json`);
  const names = new Set([MODEL_JSON, ...weightFileNames(modelJson, json), ...[META_JSON, PRIVACY_JSON].filter((n) => existsSync(join(dir, n)))]);
  return [...names].sort().map((name) => {
    const path = confinedModelPath(dir, name, modelJson);
    if (!existsSync(path)) throw new InputError(`${modelJson}: weight file "${name}" not found beside it`);
    return { name, sha256: sha256Hex(readFileSync(path)) };
  });
}
