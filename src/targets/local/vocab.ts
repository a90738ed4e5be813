/**
 * Tokenizers for a user's LM given by a vocabulary file (`--vocab-file`): a JSON array of token
 * strings (vocab[id]) or a text file with one token per line. A vocabulary in memaudit's own form
 * (`<pad>`, `<unk>`, then single characters) gets memaudit's CharTokenizer; any other is
 * tokenized by greedy longest match, with id 0 as padding (the left padding of contexts).
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../../core/errors.js';
import { CharTokenizer, PAD_TOKEN, UNK_TOKEN, type EncodedText } from '../../models/tokenizer.js';
import type { LmTokenizer } from './lm.js';

export function readVocabFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? `--vocab-file ${path}: file not found` : `--vocab-file ${path}: cannot read (${code})`);
  }
  let vocab: unknown;
  if (text.trimStart().startsWith('[')) {
    try {
      vocab = JSON.parse(text);
    } catch {
      throw new InputError(`--vocab-file ${path}: starts like a JSON array but is not valid JSON`);
    }
    if (!Array.isArray(vocab) || !vocab.every((t) => typeof t === 'string')) {
      throw new InputError(`--vocab-file ${path}: the JSON must be an array of token strings`);
    }
  } else {
    vocab = text.replace(/\r?\n$/, '').split(/\r?\n/);
  }
  const list = vocab as string[];
  if (list.length < 2) throw new InputError(`--vocab-file ${path}: needs at least 2 tokens, has ${list.length}`);
  const seen = new Set<string>();
  list.forEach((t, i) => {
    if (seen.has(t)) throw new InputError(`--vocab-file ${path}: token ${i} repeats an earlier token`);
    seen.add(t);
  });
  return list;
}

const unkNames = ['<unk>', '[UNK]', '<UNK>', 'UNK'];

/** Greedy longest-match tokenizer over a vocabulary; id 0 pads. */
export class VocabTokenizer implements LmTokenizer {
  readonly vocab: readonly string[];
  readonly padId = 0;
  private readonly index = new Map<string, number>();
  private readonly maxLength: number;
  private readonly unkId: number | undefined;
  private readonly source: string;

  constructor(vocab: readonly string[], source: string) {
    this.vocab = vocab;
    this.source = source;
    vocab.forEach((t, id) => {
      if (id !== 0 && t !== '') this.index.set(t, id);
    });
    this.maxLength = Math.max(1, ...vocab.map((t) => t.length));
    const unk = vocab.findIndex((t) => unkNames.includes(t));
    this.unkId = unk > 0 ? unk : undefined;
  }

  encodeWithOffsets(text: string): EncodedText {
    const ids: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    let at = 0;
    while (at < text.length) {
      let found = -1;
      let length = 0;
      for (let l = Math.min(this.maxLength, text.length - at); l >= 1; l--) {
        const id = this.index.get(text.slice(at, at + l));
        if (id !== undefined) {
          found = id;
          length = l;
          break;
        }
      }
      if (found < 0) {
        if (this.unkId === undefined) throw new InputError(`${this.source}: character ${at} of a text is not in the vocabulary and it has no unknown token`);
        found = this.unkId;
        length = text.codePointAt(at)! > 0xffff ? 2 : 1;
      }
      ids.push(found);
      starts.push(at);
      at += length;
      ends.push(at);
    }
    return { ids, starts, ends };
  }

  encode(text: string): number[] {
    return this.encodeWithOffsets(text).ids;
  }

  decode(ids: Iterable<number>): string {
    let out = '';
    for (const id of ids) {
      if (id === this.padId) continue;
      out += id === this.unkId ? '\uFFFD' : (this.vocab[id] ?? '');
    }
    return out;
  }
}

export function tokenizerForVocab(vocab: string[], source: string): LmTokenizer {
  const memauditForm = vocab[0] === PAD_TOKEN && vocab[1] === UNK_TOKEN && vocab.slice(2).every((t) => [...t].length === 1);
  return memauditForm ? new CharTokenizer(vocab) : new VocabTokenizer(vocab, source);
}
