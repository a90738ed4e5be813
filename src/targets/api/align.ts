/**
 * Character offsets for an API's tokens. Probes sum exactly the tokens covering a secret, so every
 * token must be placed in the scored text, or scoring fails loudly (a misaligned sum would be a
 * wrong exposure, silently).
 */
import { InputError } from '../../core/errors.js';
import type { TokenLogprob } from '../target.js';

export interface ApiToken {
  text: string;
  /** null where the server gives no conditional log-probability (the first token). */
  logprob: number | null;
  /** Character offset reported by the server (OpenAI `text_offset`), when there is one. */
  offset?: number;
}

/**
 * Places tokens in `text`. Tokens whose text is not found at the cursor (special tokens such as
 * `<s>` that a server echoes in its prefill) are skipped when they carry no text of the input;
 * whitespace a tokenizer normalized away between tokens is stepped over. Tokens past the end of the
 * text (a generated token, with max_tokens 1) are dropped. Tokens without a log-probability are left
 * out of the result, as the Target contract says.
 */
export function alignTokens(text: string, tokens: ApiToken[], source: string): TokenLogprob[] {
  const out: TokenLogprob[] = [];
  let cursor = 0;
  const useOffsets = tokens.length > 0 && tokens.every((t) => typeof t.offset === 'number');
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    let start: number;
    let end: number;
    if (useOffsets) {
      start = token.offset!;
      if (start >= text.length) break; // generated after the prompt
      const next = tokens.slice(i + 1).find((t) => t.offset! > start)?.offset;
      end = Math.min(text.length, next ?? text.length);
      if (end <= start) continue; // a token sharing its offset with the next (multi-token character)
    } else {
      if (cursor >= text.length) break;
      let piece = token.text;
      if (piece === '') continue;
      let at = text.startsWith(piece, cursor) ? cursor : -1;
      if (at < 0) {
        const found = text.indexOf(piece, cursor);
        if (found > cursor && /^\s+$/.test(text.slice(cursor, found))) at = found;
      }
      if (at < 0) {
        // SentencePiece-style tokens may carry a leading space the text lacks at its start.
        const trimmed = piece.replace(/^\s+/, '');
        if (trimmed !== '' && text.startsWith(trimmed, cursor)) {
          at = cursor;
          piece = trimmed;
        }
      }
      if (at < 0) {
        if (out.length === 0 && cursor === 0 && token.logprob === null) continue; // a BOS-like special token
        // The token's text is not quoted: it may be part of a training record.
        throw new InputError(`${source}: cannot place token ${i} at character ${cursor} of the scored text (the server's tokens do not spell the text)`);
      }
      start = at;
      end = at + piece.length;
      cursor = end;
    }
    if (token.logprob === null || token.logprob === undefined) continue;
    if (!Number.isFinite(token.logprob) && token.logprob !== -Infinity) {
      throw new InputError(`${source}: token at character ${start} has a non-numeric log-probability`);
    }
    out.push({ token: text.slice(start, end), start, end, logprob: token.logprob });
  }
  return out;
}
