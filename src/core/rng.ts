/**
 * The one seeded random generator every random draw goes through (data synthesis, canaries,
 * sampling, probes), so `--seed` makes a whole run reproducible. DP noise does not use it unless
 * the user asked for seeded noise: see src/train for the CSPRNG path.
 *
 * Independent streams are derived by label (`rng.fork('poisson')`), so adding a draw in one stage
 * does not shift the numbers of another.
 */
import seedrandom from 'seedrandom';
import { randomBytes } from 'node:crypto';

export class Rng {
  readonly seed: string;
  private readonly prng: seedrandom.PRNG;
  private spareNormal: number | undefined;

  constructor(seed: string | number) {
    this.seed = String(seed);
    this.prng = seedrandom.alea(this.seed);
  }

  /** A generator seeded from the OS CSPRNG, for runs without `--seed`. Its seed is recorded. */
  static unseeded(): Rng {
    return new Rng(randomBytes(16).toString('hex'));
  }

  /** A new, independent stream whose seed is derived from this one's seed and a label. */
  fork(label: string): Rng {
    return new Rng(`${this.seed}/${label}`);
  }

  /** Uniform in [0, 1) with 53 bits of randomness. */
  next(): number {
    return this.prng.double();
  }

  /** Uniform integer in [0, n). Exact for n up to 2^53. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`Rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** Uniform BigInt in [0, n), by rejection sampling over 32-bit words (spaces beyond 2^53). */
  bigInt(n: bigint): bigint {
    if (n <= 0n) throw new RangeError('Rng.bigInt: n must be positive');
    const bits = n.toString(2).length;
    const words = Math.ceil(bits / 32);
    const excess = BigInt(words * 32 - bits);
    for (;;) {
      let v = 0n;
      for (let i = 0; i < words; i++) v = (v << 32n) | BigInt(this.prng.int32() >>> 0);
      v >>= excess;
      if (v < n) return v;
    }
  }

  /** Bernoulli(p). */
  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal by the Box-Muller transform. */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const v = this.spareNormal;
      this.spareNormal = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Rng.pick: empty list');
    return items[this.int(items.length)]!;
  }

  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }

  /** k distinct indices from [0, n), in random order. */
  sampleIndices(n: number, k: number): number[] {
    if (k > n) throw new RangeError(`Rng.sampleIndices: k=${k} > n=${n}`);
    if (k * 4 > n) return this.shuffle([...Array(n).keys()]).slice(0, k);
    const chosen = new Set<number>();
    const out: number[] = [];
    while (out.length < k) {
      const i = this.int(n);
      if (!chosen.has(i)) {
        chosen.add(i);
        out.push(i);
      }
    }
    return out;
  }
}

/** The generator for a command: seeded by `--seed` when given, else from the CSPRNG. */
export function rngFromSeed(seed: string | number | undefined): Rng {
  return seed === undefined ? Rng.unseeded() : new Rng(seed);
}
