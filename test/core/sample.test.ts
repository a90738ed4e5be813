import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { uniformSubset } from '../../src/core/sample.js';

describe('uniformSubset (Floyd)', () => {
  it('draws k distinct indices of [0, n), ascending, every k-subset equally often', () => {
    const rng = new Rng('floyd');
    const counts = new Map<string, number>();
    const draws = 3000;
    for (let i = 0; i < draws; i++) {
      const s = uniformSubset(6, 2, rng);
      expect(s[0]!).toBeLessThan(s[1]!);
      expect(s[1]!).toBeLessThan(6);
      counts.set(s.join(','), (counts.get(s.join(',')) ?? 0) + 1);
    }
    // 15 subsets, each Binomial(3000, 1/15): mean 200, sd 13.7; [130, 270] is beyond 5 sd.
    expect(counts.size).toBe(15);
    for (const c of counts.values()) {
      expect(c).toBeGreaterThan(130);
      expect(c).toBeLessThan(270);
    }
    expect(uniformSubset(5, 5, rng)).toEqual([0, 1, 2, 3, 4]);
    expect(uniformSubset(5, 0, rng)).toEqual([]);
    expect(() => uniformSubset(3, 4, rng)).toThrow(RangeError);
  });

  it('is deterministic for a seed and holds only k numbers for a huge range', () => {
    expect(uniformSubset(1e12, 5, new Rng(1))).toEqual(uniformSubset(1e12, 5, new Rng(1)));
    expect(new Set(uniformSubset(1e12, 1000, new Rng(2))).size).toBe(1000);
  });
});
