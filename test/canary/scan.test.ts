import { describe, expect, it } from 'vitest';
import { MultiPatternScanner } from '../../src/canary/scan.js';
import { Rng } from '../../src/core/rng.js';

/** First match by brute force: the earliest start, any pattern. */
function naive(text: Buffer, patterns: string[]): { pattern: number; offset: number } | undefined {
  let best: { pattern: number; offset: number } | undefined;
  patterns.forEach((p, i) => {
    const at = text.indexOf(Buffer.from(p));
    if (at !== -1 && (!best || at < best.offset)) best = { pattern: i, offset: at };
  });
  return best;
}

describe('multi-pattern secret scan', () => {
  it('finds the first occurrence wherever chunks are cut, and nothing when absent', () => {
    const rng = new Rng('scan');
    for (let trial = 0; trial < 200; trial++) {
      const alphabet = '0123456789-ab \n';
      const patterns = Array.from({ length: 1 + rng.int(20) }, () => Array.from({ length: 1 + rng.int(9) }, () => alphabet[rng.int(alphabet.length)]).join(''));
      const text = Buffer.from(Array.from({ length: rng.int(400) }, () => alphabet[rng.int(alphabet.length)]).join(''));
      const expected = naive(text, patterns);
      const scanner = new MultiPatternScanner(patterns);
      let found: { pattern: number; offset: number } | undefined;
      for (let pos = 0; pos < text.length && !found; ) {
        const size = 1 + rng.int(40);
        found = scanner.feed(text.subarray(pos, pos + size));
        pos += size;
      }
      expect(found?.offset, `trial ${trial}`).toBe(expected?.offset);
      if (found) expect(text.subarray(found.offset).toString().startsWith(patterns[found.pattern]!)).toBe(true);
    }
  });
});
