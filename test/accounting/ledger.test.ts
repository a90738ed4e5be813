/** PrivacyLedger (the trainer's running account) and privacy.json. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isValid } from '../../src/core/schema.js';
import { PrivacyLedger, computeEpsilon, privacyFileSchema, readPrivacyLedger } from '../../src/accounting/index.js';
import { tempDir } from '../helpers/cli.js';

const init = { datasetSize: 10_000, delta: 1e-5, clipNorm: 1, noiseSource: 'seeded' as const };

describe('PrivacyLedger', () => {
  it('merges equal consecutive steps into one segment and matches computeEpsilon', () => {
    const ledger = new PrivacyLedger(init);
    for (let i = 0; i < 500; i++) ledger.addSteps(0.01, 1.1);
    ledger.addSteps(0.02, 1.3, 250);
    ledger.addSteps(0.02, 1.3);
    expect(ledger.steps).toBe(751);
    expect(ledger.segments()).toEqual([
      { samplingRate: 0.01, noiseMultiplier: 1.1, steps: 500 },
      { samplingRate: 0.02, noiseMultiplier: 1.3, steps: 251 },
    ]);
    const expected = computeEpsilon(ledger.segments(), 1e-5).epsilon;
    expect(ledger.epsilon('rdp')).toBeCloseTo(expected, 10);
    // segments() is a copy: the caller cannot rewrite history.
    ledger.segments()[0]!.steps = 1;
    expect(ledger.steps).toBe(751);
  });

  it('is cheap per step and keeps a thinned, increasing epsilon history ending at the last step', () => {
    const ledger = new PrivacyLedger(init);
    const t0 = performance.now();
    for (let i = 0; i < 5000; i++) {
      ledger.addSteps(0.01, 1.0);
      ledger.epsilon();
    }
    expect(performance.now() - t0).toBeLessThan(3000);
    const file = ledger.toJSON();
    expect(file.epsilonHistory.length).toBeLessThanOrEqual(201);
    expect(file.epsilonHistory.length).toBeGreaterThan(50);
    expect(file.epsilonHistory.at(-1)).toEqual({ step: 5000, epsilon: file.epsilon.rdp });
    for (let i = 1; i < file.epsilonHistory.length; i++) {
      expect(file.epsilonHistory[i]!.step).toBeGreaterThan(file.epsilonHistory[i - 1]!.step);
      expect(file.epsilonHistory[i]!.epsilon).toBeGreaterThanOrEqual(file.epsilonHistory[i - 1]!.epsilon);
    }
  });

  it('toJSON reports both accountants, PLD below RDP, and validates against the schema', () => {
    const ledger = new PrivacyLedger({ ...init, accountant: 'pld' });
    ledger.addSteps(0.01, 1.0, 300);
    const file = ledger.toJSON();
    expect(file).toMatchObject({ version: 1, dp: true, sampler: 'poisson', steps: 300, samplingRate: 0.01, expectedBatchSize: 100, accountant: 'pld' });
    expect(file.epsilon.pld).toBeLessThan(file.epsilon.rdp);
    expect(file.epsilon.pld).toBeGreaterThan(0);
    expect(file.optimalOrder).toBeGreaterThan(1);
    expect(ledger.epsilon()).toBe(file.epsilon.pld);
    expect(isValid(privacyFileSchema, JSON.parse(JSON.stringify(file)))).toBe(true);
  });

  it('readPrivacyLedger reads a ledger and the non-DP form, and names the problem in a bad one', () => {
    const dir = tempDir();
    const ledger = new PrivacyLedger(init);
    ledger.addSteps(0.05, 1.2, 40);
    const good = join(dir, 'privacy.json');
    writeFileSync(good, JSON.stringify(ledger.toJSON()));
    const read = readPrivacyLedger(good);
    expect(read.dp).toBe(true);
    if (read.dp) expect(read.epsilon.rdp).toBe(ledger.epsilon('rdp'));

    const nonDp = join(dir, 'nondp.json');
    writeFileSync(nonDp, JSON.stringify({ version: 1, dp: false }));
    expect(readPrivacyLedger(nonDp)).toEqual({ version: 1, dp: false });

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...ledger.toJSON(), delta: 2 }));
    expect(() => readPrivacyLedger(bad)).toThrow(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: /delta: `));
    writeFileSync(bad, JSON.stringify({ ...ledger.toJSON(), steps: 41 }));
    expect(() => readPrivacyLedger(bad)).toThrow(/segments: steps add up to 40, but \/steps is 41/);
    writeFileSync(bad, JSON.stringify({ version: 1, dp: false, epsilon: 3 }));
    expect(() => readPrivacyLedger(bad)).toThrow(/unknown property "epsilon"/);
    expect(() => readPrivacyLedger(join(dir, 'missing.json'))).toThrow(/file not found/);
  });

  it('rejects bad steps and settings', () => {
    expect(() => new PrivacyLedger({ ...init, delta: 0 })).toThrow(/delta/);
    expect(() => new PrivacyLedger({ ...init, datasetSize: 0 })).toThrow(/dataset size/);
    const ledger = new PrivacyLedger(init);
    expect(() => ledger.addSteps(0, 1)).toThrow(/sampling rate/);
    expect(() => ledger.addSteps(0.1, -1)).toThrow(/noise multiplier/);
    expect(() => ledger.addSteps(0.1, 1, 1.5)).toThrow(/steps/);
    expect(ledger.epsilon()).toBe(0);
  });
});

describe('schedule helpers', () => {
  it('steps = ceil(E N / B) without float round-up; batch larger than the data is refused', async () => {
    const { stepsFor, samplingRateFor } = await import('../../src/accounting/index.js');
    expect(stepsFor(60_000, 256, 60)).toBe(14063);
    expect(stepsFor(60_000, 150, 15)).toBe(6000);
    expect(stepsFor(100, 1, 0.55)).toBe(55); // 0.55 * 100 / 1 is 55.00000000000001 in floats: ceil would say 56
    expect(samplingRateFor(60_000, 150)).toBe(0.0025);
    expect(() => samplingRateFor(100, 200)).toThrow(/batch size 200 exceeds dataset size 100/);
  });
});
