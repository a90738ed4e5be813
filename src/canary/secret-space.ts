/**
 * Secret spaces (DESIGN.md "Canary pack"): a secret is one alternative per slot, concatenated,
 * so the space is the product of the slots and its size is known exactly (BigInt: spaces exceed
 * 2^53). Indexing is mixed radix with the first slot most significant, so the order of `at` is the
 * order of a trie walk over `slots` (exposure's exact enumeration shares prefixes this way).
 */
import { InputError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { expand } from './formats.js';
import type { SecretSlot, SecretSpace, SecretSpaceSpec } from './types.js';

class ProductSpace implements SecretSpace {
  readonly slots: readonly SecretSlot[];
  readonly size: bigint;
  readonly log2Size: number;
  /** weights[i] = product of the radices of the slots after i. */
  private readonly weights: bigint[];
  private readonly lookup: { index: Map<string, number>; lengths: number[] }[];

  constructor(slots: SecretSlot[]) {
    this.slots = Object.freeze(slots.map((s) => Object.freeze({ format: s.format, alternatives: Object.freeze([...s.alternatives]) })));
    this.weights = new Array<bigint>(slots.length);
    let size = 1n;
    for (let i = slots.length - 1; i >= 0; i--) {
      this.weights[i] = size;
      size *= BigInt(slots[i]!.alternatives.length);
    }
    this.size = size;
    this.log2Size = slots.reduce((sum, s) => sum + Math.log2(s.alternatives.length), 0);
    this.lookup = slots.map((s) => ({
      index: new Map(s.alternatives.map((a, i) => [a, i])),
      lengths: [...new Set(s.alternatives.map((a) => a.length))].sort((a, b) => b - a),
    }));
  }

  at(index: bigint): string {
    if (index < 0n || index >= this.size) throw new RangeError(`SecretSpace.at: index ${index} is outside [0, ${this.size})`);
    let out = '';
    for (let i = 0; i < this.slots.length; i++) {
      const w = this.weights[i]!;
      const digit = index / w;
      index -= digit * w;
      out += this.slots[i]!.alternatives[Number(digit)]!;
    }
    return out;
  }

  /**
   * Parses the secret slot by slot. Alternatives of different lengths may make a string parse in
   * several ways; the count of parses (capped at 2) is memoized per (slot, offset), so this is
   * linear in practice, and an ambiguous secret gives null.
   */
  indexOf(secret: string): bigint | null {
    const n = this.slots.length;
    const memo = new Map<number, { count: number; index: bigint }>();
    const solve = (slot: number, pos: number): { count: number; index: bigint } => {
      if (slot === n) return pos === secret.length ? { count: 1, index: 0n } : { count: 0, index: 0n };
      const key = slot * (secret.length + 1) + pos;
      const known = memo.get(key);
      if (known) return known;
      let count = 0;
      let index = 0n;
      const { index: alternatives, lengths } = this.lookup[slot]!;
      for (const len of lengths) {
        if (pos + len > secret.length) continue;
        const alt = alternatives.get(secret.slice(pos, pos + len));
        if (alt === undefined) continue;
        const rest = solve(slot + 1, pos + len);
        if (rest.count === 0) continue;
        count += rest.count;
        index = BigInt(alt) * this.weights[slot]! + rest.index;
        if (count > 1) break;
      }
      const result = { count: Math.min(count, 2), index };
      memo.set(key, result);
      return result;
    };
    const { count, index } = solve(0, 0);
    return count === 1 ? index : null;
  }

  /** Uniform over the space: each slot drawn independently and uniformly. */
  sample(rng: Rng): string {
    let out = '';
    for (const slot of this.slots) out += slot.alternatives.length === 1 ? slot.alternatives[0]! : slot.alternatives[rng.int(slot.alternatives.length)]!;
    return out;
  }
}

/** Builds the space a spec describes; `where` names the spec in errors (a pack file, a manifest). */
export function secretSpaceFromSpec(spec: SecretSpaceSpec, where = 'secret space'): SecretSpace {
  if (!spec || !Array.isArray(spec.slots) || spec.slots.length === 0) throw new InputError(`${where}: a secret space needs at least one slot`);
  const slots = spec.slots.flatMap((slot, i) => expand(slot, `${where}: /slots/${i}`));
  if (slots.every((s) => s.alternatives.length === 1)) throw new InputError(`${where}: the secret space has a single secret (every slot is a literal)`);
  return new ProductSpace(slots);
}

/** A space from already-expanded slots (tests, and probes that narrow a space). */
export function secretSpaceFromSlots(slots: SecretSlot[]): SecretSpace {
  for (const s of slots) if (s.alternatives.length === 0) throw new RangeError(`slot "${s.format}" has no alternatives`);
  return new ProductSpace(slots);
}
