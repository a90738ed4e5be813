/**
 * Ledger verification: privacy.json is recomputed from its own parameters and matched against the
 * training config of memaudit.json. Each attack is planted in a ledger the trainer's own
 * PrivacyLedger wrote, and must be caught with the field named.
 */
import { describe, expect, it } from 'vitest';
import { calibrateNoise, computeEpsilon, PrivacyLedger, samplingRateFor, stepsFor, verifyLedger } from '../../src/accounting/index.js';
import type { PrivacyLedgerFile } from '../../src/accounting/index.js';
import type { TrainingRecordClaim } from '../../src/accounting/verify-ledger.js';

const N = 200;
const B = 50;
const epochs = 2;

/** A ledger as the trainer writes it for N records, batch B, `epochs` epochs, sigma, and the matching memaudit.json claim. */
function trained(o: { sigma?: number; targetEpsilon?: number; steps?: number; accountant?: 'rdp' | 'pld'; seed?: string | null } = {}): { ledger: PrivacyLedgerFile; claim: TrainingRecordClaim } {
  const q = samplingRateFor(N, B);
  const planned = stepsFor(N, B, epochs);
  const accountant = o.accountant ?? 'rdp';
  const delta = 1e-5;
  const sigma = o.sigma ?? calibrateNoise({ samplingRate: q, steps: planned, delta, targetEpsilon: o.targetEpsilon!, accountant }).noiseMultiplier;
  const seed = o.seed === undefined ? 'seed-1' : o.seed;
  const pl = new PrivacyLedger({ datasetSize: N, delta, clipNorm: 1, noiseSource: seed === null ? 'csprng' : 'seeded', accountant });
  const steps = o.steps ?? planned;
  for (let i = 0; i < steps; i++) pl.addSteps(q, sigma);
  const training: Record<string, unknown> = { model: 'mlp', dp: true, clipNorm: 1, batchSize: B, epochs, learningRate: 0.01, optimizer: 'adam', accountant, steps, plannedSteps: planned };
  if (o.sigma !== undefined) training.noiseMultiplier = o.sigma;
  if (o.targetEpsilon !== undefined) training.targetEpsilon = o.targetEpsilon;
  if (seed !== null) training.seed = seed;
  return { ledger: JSON.parse(JSON.stringify(pl.toJSON())) as PrivacyLedgerFile, claim: { records: N, seed, training } };
}

const fields = (v: ReturnType<typeof verifyLedger>) => v.mismatches.map((m) => m.field);

/**
 * A self-audited run (`--self-audit M`) on N records: the M audit canaries are privacy units in the
 * ledger's dataset size and default delta, while q and the steps come from the N real records.
 */
function selfAudited(m: number): { ledger: PrivacyLedgerFile; claim: TrainingRecordClaim } {
  const q = samplingRateFor(N, B);
  const planned = stepsFor(N, B, epochs);
  const pl = new PrivacyLedger({ datasetSize: N + m, delta: 1e-5, clipNorm: 1, noiseSource: 'seeded', accountant: 'rdp' });
  for (let i = 0; i < planned; i++) pl.addSteps(q, 1.1);
  const ledger = JSON.parse(JSON.stringify(pl.toJSON())) as PrivacyLedgerFile;
  ledger.selfAudit = { method: 'one-run-whitebox', canaries: m, guesses: 0, correct: 0, epsilonLowerBound: 0, confidence: 0.999, ceiling: 0, claimedEpsilon: 1, refuted: false };
  const training = { model: 'mlp', dp: true, noiseMultiplier: 1.1, clipNorm: 1, batchSize: B, epochs, learningRate: 0.01, optimizer: 'adam', accountant: 'rdp', steps: planned, plannedSteps: planned, seed: 'seed-1', selfAudit: { canaries: m, confidence: 0.999 } };
  return { ledger, claim: { records: N, seed: 'seed-1', training } };
}

describe('verifyLedger', () => {
  it('accepts the ledger the trainer wrote (sigma given; sigma calibrated to a target; PLD accountant; csprng noise)', () => {
    for (const run of [trained({ sigma: 1.1 }), trained({ targetEpsilon: 3 }), trained({ sigma: 1.1, accountant: 'pld' }), trained({ sigma: 1.1, seed: null })]) {
      const v = verifyLedger(run.ledger, run.claim);
      expect(v.mismatches).toEqual([]);
      expect(v.ledgerVerified).toBe(true);
      expect(v.recomputedEpsilon).toBeCloseTo(run.ledger.epsilon[run.ledger.accountant], 6);
    }
  });

  it('counts self-audit canaries as records, and names a ledger that hides them', () => {
    const run = selfAudited(40);
    expect(verifyLedger(run.ledger, run.claim).mismatches).toEqual([]);
    delete run.ledger.selfAudit;
    expect(fields(verifyLedger(run.ledger, run.claim))).toEqual(['selfAudit.canaries']);
  });

  it('rejects a hand-edited epsilon (3 -> 0.5) and tests against the recomputed one', () => {
    const { ledger, claim } = trained({ targetEpsilon: 3 });
    const recorded = ledger.epsilon.rdp;
    ledger.epsilon.rdp = 0.5;
    const v = verifyLedger(ledger, claim);
    expect(v.ledgerVerified).toBe(false);
    expect(v.mismatches[0]).toEqual({ field: 'epsilon.rdp', ledger: '0.5', expected: String(v.recomputed.rdp) });
    // Its chart still ends at the true epsilon: named too. Edited along with it, epsilon.rdp alone remains.
    expect(v.mismatches.map((m) => m.field)).toEqual(['epsilon.rdp', 'epsilonHistory']);
    ledger.epsilonHistory[ledger.epsilonHistory.length - 1]!.epsilon = 0.5;
    expect(verifyLedger(ledger, claim).mismatches.map((m) => m.field)).toEqual(['epsilon.rdp']);
    expect(v.recomputedEpsilon).toBeCloseTo(recorded, 9);
  });

  it('rejects an edited noise multiplier, alone or rewritten through the segments with epsilon recomputed to match', () => {
    const alone = trained({ sigma: 1.1 });
    alone.ledger.noiseMultiplier = 2.2;
    expect(fields(verifyLedger(alone.ledger, alone.claim))).toEqual(['noiseMultiplier']);

    const consistent = trained({ sigma: 1.1 });
    const l = consistent.ledger;
    l.noiseMultiplier = 2.2;
    l.segments = l.segments.map((s) => ({ ...s, noiseMultiplier: 2.2 }));
    l.epsilon = { rdp: computeEpsilon(l.segments, l.delta).epsilon, pld: computeEpsilon(l.segments, l.delta, { accountant: 'pld' }).epsilon };
    l.epsilonHistory = [{ step: l.steps, epsilon: l.epsilon.rdp }];
    expect(fields(verifyLedger(l, null))).toEqual(['memaudit.json']); // self-consistent: only the config can refute it
    const v = verifyLedger(l, consistent.claim);
    expect(fields(v)).toEqual(['noiseMultiplier', 'segments[0].noiseMultiplier']);
    expect(v.mismatches[0]).toEqual({ field: 'noiseMultiplier', ledger: '2.2', expected: '1.1' });
  });

  it('catches a ledger rewritten consistently with q/10 by the training config (expected batch 5 vs batch size 50)', () => {
    const { ledger: l, claim } = trained({ sigma: 1.1 });
    const q = l.samplingRate / 10;
    l.samplingRate = q;
    l.expectedBatchSize = q * l.datasetSize;
    l.segments = l.segments.map((s) => ({ ...s, samplingRate: q }));
    l.epsilon = { rdp: computeEpsilon(l.segments, l.delta).epsilon, pld: computeEpsilon(l.segments, l.delta, { accountant: 'pld' }).epsilon };
    l.epsilonHistory = [{ step: l.steps, epsilon: l.epsilon.rdp }];
    expect(fields(verifyLedger(l, null))).toEqual(['memaudit.json']);
    const v = verifyLedger(l, claim);
    expect(v.ledgerVerified).toBe(false);
    expect(fields(v)).toEqual(['samplingRate', 'expectedBatchSize', 'segments[0].samplingRate']);
    expect(v.mismatches[1]).toEqual({ field: 'expectedBatchSize', ledger: '5', expected: '50' });
  });

  it('names every other field that disagrees: noise source, delta, clip norm, dataset size, accountant, steps, segments', () => {
    const { ledger, claim } = trained({ sigma: 1.1 });
    expect(fields(verifyLedger({ ...ledger, noiseSource: 'csprng' }, claim))).toEqual(['noiseSource']);
    expect(fields(verifyLedger({ ...ledger, clipNorm: 0.1 }, claim))).toEqual(['clipNorm']);
    expect(fields(verifyLedger(ledger, { ...claim, records: 2 * N }))).toContain('datasetSize');
    expect(fields(verifyLedger(ledger, { ...claim, training: { ...claim.training, accountant: 'pld' } }))).toEqual(['accountant']);
    expect(fields(verifyLedger(ledger, { ...claim, training: { ...claim.training, delta: 1e-6 } }))).toEqual(['delta']);
    expect(fields(verifyLedger(ledger, { ...claim, training: undefined }))).toEqual(['memaudit.json training']);
    const split = { ...ledger, segments: [{ ...ledger.segments[0]!, steps: 10 }] };
    expect(fields(verifyLedger(split, claim))).toContain('segments');
  });

  it('accepts fewer steps than planned only when --target-epsilon stopped the run at its budget', () => {
    const planned = stepsFor(N, B, epochs);
    const q = samplingRateFor(N, B);
    const full = computeEpsilon([{ samplingRate: q, noiseMultiplier: 1.1, steps: planned }], 1e-5).epsilon;
    const partial = computeEpsilon([{ samplingRate: q, noiseMultiplier: 1.1, steps: planned - 2 }], 1e-5).epsilon;
    const budget = (partial + full) / 2;
    // The trainer's stop: the first step count whose next step would exceed the budget.
    let stop = 0;
    while (computeEpsilon([{ samplingRate: q, noiseMultiplier: 1.1, steps: stop + 1 }], 1e-5).epsilon <= budget) stop++;
    const stopped = trained({ sigma: 1.1, steps: stop });
    stopped.claim.training = { ...stopped.claim.training, targetEpsilon: budget };
    expect(verifyLedger(stopped.ledger, stopped.claim).mismatches).toEqual([]);
    const early = trained({ sigma: 1.1, steps: stop - 2 });
    early.claim.training = { ...early.claim.training, targetEpsilon: budget };
    expect(fields(verifyLedger(early.ledger, early.claim))).toEqual(['steps']);
    const short = trained({ sigma: 1.1, steps: planned - 1 });
    expect(fields(verifyLedger(short.ledger, short.claim))).toEqual(['steps']);
  });
});
