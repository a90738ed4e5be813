import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';

describe('Rng', () => {
  it('reproduces the same stream from the same seed, and differs across seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xa);
  });

  it('forks independent streams by label, unaffected by draws on the parent', () => {
    const a = new Rng(1);
    const forkBefore = a.fork('poisson').next();
    a.next();
    a.next();
    expect(a.fork('poisson').next()).toBe(forkBefore);
    expect(a.fork('canaries').next()).not.toBe(forkBefore);
  });

  it('draws uniform integers and BigInts in range with the right mean', () => {
    const r = new Rng('u');
    let sum = 0;
    for (let i = 0; i < 20000; i++) {
      const v = r.int(10);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(10);
      sum += v;
    }
    expect(sum / 20000).toBeCloseTo(4.5, 1);
    const big = 10n ** 30n;
    for (let i = 0; i < 200; i++) {
      const v = r.bigInt(big);
      expect(v >= 0n && v < big).toBe(true);
    }
    // Exercise the rejection path with a bound just above a power of two.
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[Number(r.bigInt(3n))]!++;
    for (const c of counts) expect(c).toBeGreaterThan(850);
  });

  it('draws standard normals with mean 0 and variance 1', () => {
    const r = new Rng(7);
    const n = 40000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const x = r.normal();
      s += x;
      s2 += x * x;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.03);
  });

  it('samples distinct indices', () => {
    const r = new Rng(3);
    for (const [n, k] of [[100, 5], [10, 10], [1000, 900]] as const) {
      const idx = r.sampleIndices(n, k);
      expect(new Set(idx).size).toBe(k);
      expect(Math.max(...idx)).toBeLessThan(n);
    }
  });
});
