import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { secretSpaceFromSpec, secretSpaceFromSlots } from '../../src/canary/secret-space.js';
import { resolveSpec } from '../../src/canary/formats.js';

describe('secret spaces', () => {
  it('SSN: exact size 898 * 99 * 9999, valid ranges, round trip at/indexOf', () => {
    const space = secretSpaceFromSpec({ slots: [{ format: 'ssn' }] });
    expect(space.size).toBe(898n * 99n * 9999n);
    expect(space.log2Size).toBeCloseTo(Math.log2(898 * 99 * 9999), 9);
    expect(space.at(0n)).toBe('001-01-0001');
    expect(space.at(space.size - 1n)).toBe('899-99-9999');
    expect(space.slots[0]!.alternatives).not.toContain('666');
    expect(space.slots[0]!.alternatives).not.toContain('000');
    const rng = new Rng('ssn');
    for (let i = 0; i < 200; i++) {
      const s = space.sample(rng);
      expect(s).toMatch(/^\d{3}-\d{2}-\d{4}$/);
      const idx = space.indexOf(s)!;
      expect(space.at(idx)).toBe(s);
    }
    expect(space.indexOf('666-12-3456')).toBeNull();
    expect(space.indexOf('123-45-678')).toBeNull();
  });

  it('mixed radix: first slot most significant, index order is lexicographic over slots', () => {
    const space = secretSpaceFromSpec({ slots: [{ format: 'digits', params: { length: 3 } }] });
    expect(space.size).toBe(1000n);
    for (const i of [0n, 7n, 42n, 999n]) expect(space.at(i)).toBe(String(i).padStart(3, '0'));
    expect(() => space.at(1000n)).toThrow(RangeError);
  });

  it('sizes beyond 2^53 are exact', () => {
    const space = secretSpaceFromSpec({ slots: [{ format: 'mrn', params: { length: 20 } }] });
    expect(space.size).toBe(10n ** 20n);
    expect(space.at(10n ** 20n - 1n)).toBe('9'.repeat(20));
    expect(space.indexOf('12345678901234567890')).toBe(12345678901234567890n);
    expect(space.log2Size).toBeCloseTo(20 * Math.log2(10), 9);
  });

  it('US phone and dates exclude invalid values', () => {
    const phone = secretSpaceFromSpec({ slots: [{ format: 'us-phone' }] });
    expect(phone.size).toBe(712n * 792n * 10000n);
    const date = secretSpaceFromSpec({ slots: [{ format: 'date', params: { fromYear: 2000, toYear: 2000 } }] });
    expect(date.size).toBe(365n);
    expect(date.indexOf('2000-02-29')).toBeNull();
    expect(date.at(364n)).toBe('2000-12-31');
  });

  it('ambiguous parses give null; unambiguous ones resolve through backtracking', () => {
    const space = secretSpaceFromSlots([
      { format: 'a', alternatives: ['x', 'xy'] },
      { format: 'b', alternatives: ['yz', 'z'] },
    ]);
    expect(space.indexOf('xyz')).toBeNull(); // x+yz and xy+z
    expect(space.indexOf('xz')).toBe(1n);
    expect(space.indexOf('xyyz')).toBe(2n);
  });

  it('lists resolve into embedded values so a stored spec does not depend on shipped lists', () => {
    const spec = resolveSpec({ slots: [{ format: 'list', params: { name: 'first-names' } }, { format: 'literal', params: { value: ' ' } }] });
    expect(spec.slots[0]!.format).toBe('choice');
    expect((spec.slots[0]!.params!.values as string[]).length).toBe(256);
    const a = secretSpaceFromSpec(spec);
    expect(a.slots[0]!.format).toBe('first-names');
    expect(a.size).toBe(256n);
  });

  it('bad specs fail with a line naming the slot', () => {
    expect(() => secretSpaceFromSpec({ slots: [{ format: 'nope' }] }, 'p.json')).toThrow(/p.json: \/slots\/0: unknown slot format "nope"/);
    expect(() => secretSpaceFromSpec({ slots: [{ format: 'range', params: { min: 5 } }] }, 'p.json')).toThrow(/params.max is required/);
    expect(() => secretSpaceFromSpec({ slots: [{ format: 'literal', params: { value: 'x' } }] })).toThrow(/single secret/);
  });
});
