import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinPacks, generateCanaries, loadPack, secretSpaceFromSpec, validateCanarySet } from '../../src/canary/index.js';
import { Rng } from '../../src/core/rng.js';
import { tempDir } from '../helpers/cli.js';

describe('canary packs and generation', () => {
  it('ships the required packs, each valid, with exact space sizes', () => {
    const packs = builtinPacks();
    for (const name of ['ssn', 'mrn', 'us-phone', 'dob', 'name-diagnosis', 'email', 'street-address', 'patient-record']) expect(packs).toContain(name);
    const sizes: Record<string, bigint> = {
      ssn: 898n * 99n * 9999n,
      mrn: 10n ** 8n,
      'us-phone': 712n * 792n * 10n ** 4n,
      dob: 81n * 365n,
      'name-diagnosis': 256n * 256n * 64n,
      email: 256n * 256n * 100n * 8n,
      'street-address': 9000n * 128n * 128n * 50n * 10n ** 9n,
    };
    for (const name of packs) {
      const p = loadPack(name);
      if (sizes[name] !== undefined) expect(p.space.size, name).toBe(sizes[name]);
      expect(p.space.log2Size).toBeCloseTo(Math.log2(Number(p.space.size)), 6);
    }
    expect(loadPack('street-address').space.size > 2n ** 53n).toBe(true);
  });

  it('is deterministic with a seed, draws distinct secrets, and splits prefix/secret/suffix', () => {
    const pack = loadPack('ssn');
    const a = generateCanaries(pack, { count: 50, rng: new Rng('s1') });
    const b = generateCanaries(pack, { count: 50, rng: new Rng('s1') });
    const c = generateCanaries(pack, { count: 50, rng: new Rng('s2') });
    expect(b).toEqual(a);
    expect(c.canaries.map((x) => x.secret)).not.toEqual(a.canaries.map((x) => x.secret));
    expect(new Set(a.canaries.map((x) => x.secret)).size).toBe(50);
    const space = secretSpaceFromSpec(a.secretSpace);
    for (const canary of a.canaries) {
      expect(canary.text).toBe(canary.prefix + canary.secret + canary.suffix);
      expect(canary.prefix).toMatch(/^Patient [A-Z][a-z]+ [A-Z][a-z]+, SSN $/);
      expect(space.indexOf(canary.secret)).not.toBeNull();
    }
    expect(a.spaceSize).toBe(String(898 * 99 * 9999));
    expect(validateCanarySet(JSON.parse(JSON.stringify(a)), 'set.json').canaries).toHaveLength(50);
  });

  it('tabular canaries carry a record and a label, and the text renders the row', () => {
    const set = generateCanaries(loadPack('patient-record'), { count: 20, rng: new Rng(3) });
    expect(set.kind).toBe('tabular');
    expect(set.labelColumn).toBe('label');
    const labels = new Set(set.canaries.map((c) => c.label));
    expect([...labels].every((l) => l === '0' || l === '1')).toBe(true);
    for (const c of set.canaries) {
      expect(Object.keys(c.record!)).toEqual(['age', 'sex', 'zip', 'bmi', 'systolic_bp', 'glucose', 'smoker', 'prior_admissions']);
      expect(typeof c.record!.age).toBe('number');
      expect(c.text).toBe(`age=${c.record!.age};sex=${c.record!.sex};zip=${c.record!.zip};bmi=${c.record!.bmi};systolic_bp=${c.record!.systolic_bp};glucose=${c.record!.glucose};smoker=${c.record!.smoker};prior_admissions=${c.record!.prior_admissions};label=${c.label}`);
    }
  });

  it('small spaces: every secret can be drawn, and more than the space holds is refused', () => {
    const dir = tempDir();
    const path = join(dir, 'tiny.json');
    writeFileSync(path, JSON.stringify({ version: 1, name: 'tiny', kind: 'text', format: 'digits', description: 'two digits', template: 'code {secret}', secret: [{ format: 'digits', params: { length: 2 } }] }));
    const pack = loadPack(path);
    const all = generateCanaries(pack, { count: 100, rng: new Rng(1) });
    expect(new Set(all.canaries.map((c) => c.secret)).size).toBe(100);
    expect(() => generateCanaries(pack, { count: 101, rng: new Rng(1) })).toThrow(/holds only 100/);
  });

  it('user packs are validated with a line naming the file and the problem', () => {
    const dir = tempDir();
    const write = (name: string, body: unknown) => {
      const p = join(dir, name);
      writeFileSync(p, JSON.stringify(body));
      return p;
    };
    const base = { version: 1, name: 'x', kind: 'text', format: 'x', description: 'd', template: 'a {secret}', secret: [{ format: 'digits', params: { length: 3 } }] };
    expect(() => loadPack(write('p1.json', { ...base, template: 'no secret' }))).toThrow(/p1.json: \/template/);
    expect(() => loadPack(write('p2.json', { ...base, template: 'a {who} {secret}' }))).toThrow(/p2.json: \/template: placeholder \{who\}/);
    expect(() => loadPack(write('p3.json', { ...base, secret: [{ format: 'bogus' }] }))).toThrow(/p3.json: secret: \/slots\/0: unknown slot format "bogus"/);
    expect(() => loadPack(write('p4.json', { ...base, extra: 1 }))).toThrow(/p4.json: \/: unknown property "extra"/);
    expect(() => loadPack('no-such-pack')).toThrow(/no built-in pack of that name/);
  });
});
