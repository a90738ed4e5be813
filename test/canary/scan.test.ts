import { describe, expect, it } from 'vitest';
import { MultiPatternScanner } from '../../src/canary/scan.js';
import { Rng } from '../../src/core/rng.js';

function randomText(rng: Rng, alphabet: string, length: number): string {
  return Array.from({ length }, () => alphabet[rng.int(alphabet.length)]).join('');
}

/** Feeds `text` in random chunk sizes; the match must be real, and found exactly when one exists. */
function check(rng: Rng, patterns: string[], text: string, label: string): MultiPatternScanner {
  const bytes = Buffer.from(text);
  const exists = patterns.some((p) => text.includes(p));
  const scanner = new MultiPatternScanner(patterns);
  let found: { pattern: number; offset: number } | undefined;
  for (let pos = 0; pos < bytes.length && !found; ) {
    const size = 1 + rng.int(40);
    found = scanner.feed(bytes.subarray(pos, pos + size));
    pos += size;
  }
  expect(found !== undefined, label).toBe(exists);
  if (found) expect(bytes.subarray(found.offset).toString().startsWith(patterns[found.pattern]!), label).toBe(true);
  return scanner;
}

describe('multi-pattern secret scan', () => {
  it('Wu-Manber: finds a secret wherever chunks are cut, and nothing when absent', () => {
    const rng = new Rng('scan');
    const strategies = new Set<string>();
    for (let trial = 0; trial < 200; trial++) {
      const patterns = Array.from({ length: 1 + rng.int(20) }, () => randomText(rng, '0123456789', 1 + rng.int(9)));
      const text = randomText(rng, '0123456789-ab \n', rng.int(400));
      strategies.add(check(rng, patterns, text, `trial ${trial}`).strategy());
    }
    expect(strategies.has('wu-manber')).toBe(true);
  });

  it('anchored on a rare byte every secret has (like the "-" of an SSN)', () => {
    const rng = new Rng('anchor');
    const strategies = new Set<string>();
    for (let trial = 0; trial < 200; trial++) {
      const patterns = Array.from({ length: 1 + rng.int(20) }, () => {
        const a = randomText(rng, '0123', rng.int(4));
        return `${a}-${randomText(rng, '0123', 1 + rng.int(4))}`;
      });
      // Mostly letters, so "-" is the rare byte; some copies of secrets and near misses.
      let text = randomText(rng, 'abcdefghij 0123', rng.int(500));
      if (rng.bernoulli(0.5)) {
        const p = rng.pick(patterns);
        const at = rng.int(text.length + 1);
        text = text.slice(0, at) + (rng.bernoulli(0.5) ? p : p.slice(0, -1)) + text.slice(at);
      }
      strategies.add(check(rng, patterns, text, `trial ${trial}`).strategy());
    }
    expect(strategies.has('anchored')).toBe(true);
  });

  it('two scanners sharing a stream chunk by chunk (each steps over the other\'s) find what one finds', () => {
    const rng = new Rng('shared');
    for (let trial = 0; trial < 300; trial++) {
      const patterns = Array.from({ length: 1 + rng.int(8) }, () => `${randomText(rng, '0123', 1 + rng.int(3))}-${randomText(rng, '0123', 1 + rng.int(3))}`);
      let text = randomText(rng, rng.bernoulli(0.5) ? 'abcdefghij 0123' : '0123-', rng.int(300));
      if (rng.bernoulli(0.7)) {
        const at = rng.int(text.length + 1);
        text = text.slice(0, at) + rng.pick(patterns) + text.slice(at);
      }
      const bytes = Buffer.from(text);
      const size = 1 + rng.int(12);
      const scanners = [new MultiPatternScanner(patterns), new MultiPatternScanner(patterns)];
      let found: { pattern: number; offset: number } | undefined;
      for (let pos = 0; pos < bytes.length; pos += size) {
        // Chunk by chunk, one scanner searches (whichever: as the two threads race) and both step.
        const searcher = rng.int(2);
        const chunk = bytes.subarray(pos, pos + size);
        scanners.forEach((s, i) => {
          const hit = s.feed(chunk, i === searcher);
          found ??= hit;
        });
      }
      const label = `trial ${trial}`;
      expect(found !== undefined, label).toBe(patterns.some((p) => text.includes(p)));
      if (found) expect(bytes.subarray(found.offset).toString().startsWith(patterns[found.pattern]!), label).toBe(true);
    }
  });

  it('the caller may read the next chunk into the same buffer (a secret across the cut is still found)', () => {
    const secret = '123-45-6789';
    for (let cut = 1; cut < secret.length; cut++) {
      const text = 'x'.repeat(40 - cut) + secret + 'y'.repeat(40);
      const scanner = new MultiPatternScanner([secret, '987-65-4321']);
      const buf = Buffer.alloc(40);
      let found: { pattern: number; offset: number } | undefined;
      for (let pos = 0; pos < text.length; pos += 40) {
        const n = buf.write(text.slice(pos, pos + 40), 'latin1');
        found ??= scanner.feed(buf.subarray(0, n));
      }
      expect(found, `cut ${cut}`).toEqual({ pattern: 0, offset: 40 - cut });
    }
  });

  it('feedAll counts every occurrence of every secret (overlapping, one a prefix of another, across chunk cuts) exactly once, in both strategies', () => {
    const rng = new Rng('scan-all');
    const strategies = new Set<string>();
    for (let trial = 0; trial < 150; trial++) {
      const anchored = trial % 2 === 0;
      const alphabet = anchored ? '0123456789' : '01';
      const patterns = [...new Set(Array.from({ length: 1 + rng.int(8) }, () => (anchored ? `${randomText(rng, alphabet, 1 + rng.int(3))}-${randomText(rng, alphabet, rng.int(3))}` : randomText(rng, alphabet, 2 + rng.int(5)))))];
      const filler = anchored ? 'abcdefghij0123456789 ' : '01';
      const text = randomText(rng, filler, 400) + patterns.map((p) => p + p).join('x') + randomText(rng, filler, 200);
      const expected = patterns.map((p) => {
        let n = 0;
        for (let i = text.indexOf(p); i !== -1; i = text.indexOf(p, i + 1)) n++;
        return n;
      });
      const scanner = new MultiPatternScanner(patterns);
      const counts = patterns.map(() => 0);
      const bytes = Buffer.from(text);
      for (let pos = 0; pos < bytes.length; ) {
        const size = 1 + rng.int(30);
        scanner.feedAll(bytes.subarray(pos, pos + size), (pattern, offset) => {
          expect(text.startsWith(patterns[pattern]!, offset)).toBe(true);
          counts[pattern]!++;
        });
        pos += size;
      }
      strategies.add(scanner.strategy());
      expect(counts, `trial ${trial}: ${patterns.join(',')}`).toEqual(expected);
    }
    expect([...strategies].sort()).toEqual(['anchored', 'wu-manber']);
  });
});
