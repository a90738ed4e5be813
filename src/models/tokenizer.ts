/**
 * The character tokenizer of memaudit's char LM, and the LM semantics every module shares:
 *
 *   p(text) = prod_t p(c_t | the previous `contextLength` characters, left-padded with PAD/BOS)
 *
 * so every character of a text, including the first, has a conditional log-probability. A
 * "character" is a Unicode code point; each token records its UTF-16 offset range in the text, so
 * probes can align tokens with secrets by offsets (TokenLogprob.start/end).
 */
import { InputError } from '../core/errors.js';

/** Id 0 is both padding and beginning-of-text: contexts before the first character are PAD. */
export const PAD_ID = 0;
/** Characters not seen in the training text map to UNK. */
export const UNK_ID = 1;
/** Display strings of the reserved ids (never single characters, so they cannot clash). */
export const PAD_TOKEN = '<pad>';
export const UNK_TOKEN = '<unk>';

export interface CharTokenizerJson {
  kind: 'char';
  /** vocab[id] = the character; vocab[PAD_ID] and vocab[UNK_ID] hold the reserved tokens. */
  vocab: string[];
  padId: number;
  unkId: number;
}

export interface EncodedText {
  ids: number[];
  /** UTF-16 offsets of each token in the text: token t is text.slice(starts[t], ends[t]). */
  starts: number[];
  ends: number[];
}

export class CharTokenizer {
  readonly vocab: readonly string[];
  readonly padId = PAD_ID;
  readonly unkId = UNK_ID;
  private readonly index: Map<string, number>;

  constructor(vocab: readonly string[]) {
    if (vocab[PAD_ID] !== PAD_TOKEN || vocab[UNK_ID] !== UNK_TOKEN) {
      throw new InputError(`tokenizer vocabulary must start with "${PAD_TOKEN}", "${UNK_TOKEN}"`);
    }
    this.vocab = vocab;
    this.index = new Map();
    for (let id = 2; id < vocab.length; id++) {
      const ch = vocab[id]!;
      if ([...ch].length !== 1) throw new InputError(`tokenizer vocabulary entry ${id} is not one character: ${JSON.stringify(ch)}`);
      if (this.index.has(ch)) throw new InputError(`tokenizer vocabulary repeats the character ${JSON.stringify(ch)}`);
      this.index.set(ch, id);
    }
  }

  /** Vocabulary of every code point in the texts, sorted by code point (deterministic). */
  static fromTexts(texts: Iterable<string>): CharTokenizer {
    const chars = new Set<string>();
    for (const text of texts) for (const ch of text) chars.add(ch);
    const sorted = [...chars].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    return new CharTokenizer([PAD_TOKEN, UNK_TOKEN, ...sorted]);
  }

  /**
   * A vocabulary that does not depend on any data: tab, newline and printable ASCII. DP training
   * uses it, because a vocabulary built from the private data would itself reveal which
   * characters occur in it (a character used by a single record), outside the DP guarantee.
   */
  static publicAscii(): CharTokenizer {
    const chars = ['\t', '\n'];
    for (let c = 0x20; c < 0x7f; c++) chars.push(String.fromCharCode(c));
    return new CharTokenizer([PAD_TOKEN, UNK_TOKEN, ...chars]);
  }

  static fromJSON(json: CharTokenizerJson): CharTokenizer {
    if (json.kind !== 'char' || json.padId !== PAD_ID || json.unkId !== UNK_ID) {
      throw new InputError(`tokenizer: expected kind "char" with padId ${PAD_ID} and unkId ${UNK_ID}`);
    }
    return new CharTokenizer(json.vocab);
  }

  toJSON(): CharTokenizerJson {
    return { kind: 'char', vocab: [...this.vocab], padId: PAD_ID, unkId: UNK_ID };
  }

  get size(): number {
    return this.vocab.length;
  }

  idOf(ch: string): number {
    return this.index.get(ch) ?? UNK_ID;
  }

  /** The display string of a token id ("<pad>"/"<unk>" for the reserved ids). */
  token(id: number): string {
    const t = this.vocab[id];
    if (t === undefined) throw new RangeError(`token id ${id} outside the vocabulary of ${this.vocab.length}`);
    return t;
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    for (const ch of text) ids.push(this.idOf(ch));
    return ids;
  }

  encodeWithOffsets(text: string): EncodedText {
    const ids: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    let offset = 0;
    for (const ch of text) {
      ids.push(this.idOf(ch));
      starts.push(offset);
      offset += ch.length;
      ends.push(offset);
    }
    return { ids, starts, ends };
  }

  /** Text of token ids: PAD decodes to nothing, UNK to U+FFFD. */
  decode(ids: Iterable<number>): string {
    let out = '';
    for (const id of ids) {
      if (id === PAD_ID) continue;
      out += id === UNK_ID ? '\uFFFD' : this.token(id);
    }
    return out;
  }
}

/**
 * The (context -> next token) windows of one encoded text: window t predicts ids[t] from the
 * `contextLength` ids before it, left-padded with PAD. Returns row-major contexts
 * [ids.length x contextLength] and the targets.
 */
export function contextWindows(ids: readonly number[], contextLength: number): { contexts: Int32Array; targets: Int32Array } {
  const n = ids.length;
  const contexts = new Int32Array(n * contextLength); // zero-filled = PAD
  const targets = new Int32Array(n);
  for (let t = 0; t < n; t++) {
    targets[t] = ids[t]!;
    const row = t * contextLength;
    for (let j = 0; j < contextLength; j++) {
      const src = t - contextLength + j;
      if (src >= 0) contexts[row + j] = ids[src]!;
    }
  }
  return { contexts, targets };
}

/** The context that predicts the token after `ids` (for next-token distributions and generation). */
export function lastContext(ids: readonly number[], contextLength: number): Int32Array {
  const context = new Int32Array(contextLength);
  for (let j = 0; j < contextLength; j++) {
    const src = ids.length - contextLength + j;
    if (src >= 0) context[j] = ids[src]!;
  }
  return context;
}
