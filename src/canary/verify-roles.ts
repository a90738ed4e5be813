/**
 * Whether a manifest's roles are what the training data holds (docs/SCIENCE.md#manifest-roles):
 * each inserted canary's secret occurs as often as its recorded copies put it there, and a
 * reference's secret occurs only where another canary's copies contain it (normally never). A
 * manifest with inserted and reference canaries swapped keeps every count and digest, so only the
 * data can tell; a swap turns memorized canaries into "references" and hides the leak. One
 * streaming pass of the secret scanner, in constant memory.
 */
import { createHash } from 'node:crypto';
import { InputError } from '../core/errors.js';
import { checkReadableFile, readChunksSync } from '../data/open.js';
import { MultiPatternScanner } from './scan.js';
import type { DataFormat } from '../data/format.js';
import type { Manifest } from './types.js';

/** A text as the dataset's format writes it inside a record (what the scan must look for). */
function written(text: string, format: DataFormat): string {
  if (format === 'jsonl') return JSON.stringify(text).slice(1, -1);
  return format === 'csv' ? text.replace(/"/g, '""') : text;
}

/** Occurrences of `needle` in `haystack`, overlapping ones included (as the scanner counts them). */
function occurrences(haystack: string, needle: string): number {
  let n = 0;
  for (let i = haystack.indexOf(needle); i !== -1; i = haystack.indexOf(needle, i + 1)) n++;
  return n;
}

/** How often each canary's secret must occur in the training data: its copies', and any other inserted canary's text that holds it. */
export function expectedSecretCounts(manifest: Manifest, format: DataFormat): number[] {
  const secrets = manifest.canaries.map((c) => written(c.secret, format));
  const inserted = manifest.canaries.filter((c) => c.repetitions > 0).map((c) => ({ text: written(c.text, format), copies: c.repetitions }));
  return secrets.map((s) => inserted.reduce((sum, c) => sum + c.copies * occurrences(c.text, s), 0));
}

/** How often each canary's secret occurs in the file, and the file's sha256 (one pass). */
export function countSecrets(path: string, manifest: Manifest, format: DataFormat): { counts: number[]; sha256: string } {
  const scanner = new MultiPatternScanner(manifest.canaries.map((c) => written(c.secret, format)));
  const counts = new Array<number>(manifest.canaries.length).fill(0);
  const hash = createHash('sha256');
  for (const chunk of readChunksSync(path)) {
    hash.update(chunk);
    scanner.feedAll(chunk, (pattern) => counts[pattern]!++);
  }
  return { counts, sha256: hash.digest('hex') };
}

export interface RoleCheck {
  /** The training data's sha256 (the manifest's output when they are the same file). */
  sha256: string;
}

/**
 * Throws an InputError naming the first canary (by id, never its secret) whose secret occurs in
 * `dataPath` a different number of times than its recorded role and copies put there.
 * `onlyIfOutput`: check only if the file is the manifest's output byte for byte (a file found at
 * the recorded path may since have been replaced); returns null when it is not.
 */
export function verifyManifestRoles(manifest: Manifest, manifestPath: string, dataPath: string, onlyIfOutput = false): RoleCheck | null {
  checkReadableFile(dataPath);
  const format = manifest.output.format;
  const expected = expectedSecretCounts(manifest, format);
  const { counts: actual, sha256 } = countSecrets(dataPath, manifest, format);
  if (onlyIfOutput && sha256 !== manifest.output.sha256) return null;
  manifest.canaries.forEach((c, i) => {
    if (actual[i] === expected[i]) return;
    const recorded = c.role === 'reference' ? 'a never-inserted reference' : `inserted ${c.repetitions} time${c.repetitions === 1 ? '' : 's'}`;
    throw new InputError(
      `${manifestPath}: canary ${c.id} is recorded as ${recorded}, but its secret occurs ${actual[i]} time${actual[i] === 1 ? '' : 's'} in ${dataPath}` +
        `${expected[i] !== c.repetitions ? ` (expected ${expected[i]})` : ''}: the manifest's roles do not match the training data`,
    );
  });
  return { sha256 };
}
