import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readChunksSync } from '../../src/data/open.js';
import { tempDir } from '../helpers/cli.js';

describe('synchronous chunk reader', () => {
  const dir = tempDir();

  it('yields the file in chunks of exactly the chunk size (the last shorter), so two readers line up', () => {
    const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
    for (const [length, size] of [[10_000, 1000], [9_999, 1000], [10_000, 4096], [0, 64], [1, 64]] as const) {
      const path = join(dir, `f-${length}-${size}`);
      writeFileSync(path, bytes.subarray(0, length));
      const sizes: number[] = [];
      const copies: Buffer[] = [];
      for (const chunk of readChunksSync(path, size)) {
        sizes.push(chunk.length);
        copies.push(Buffer.from(chunk)); // the buffer is reused for the next chunk
      }
      expect(Buffer.concat(copies).equals(bytes.subarray(0, length))).toBe(true);
      expect(sizes.slice(0, -1).every((n) => n === size)).toBe(true);
      expect(sizes.every((n) => n > 0)).toBe(true);
    }
  });

  it('a missing file is an input error naming it', () => {
    expect(() => [...readChunksSync(join(dir, 'nope.jsonl'))]).toThrow(/nope.jsonl: cannot read \(ENOENT\)/);
  });
});
