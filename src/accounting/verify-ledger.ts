/**
 * Verifying a DP claim (docs/SCIENCE.md "Verifying a DP claim"): privacy.json is only a claim until
 * its epsilon is recomputed from its own mechanism parameters and those parameters are shown to be
 * the ones the training configuration implies (memaudit.json: dataset records, batch size, epochs,
 * noise multiplier or target epsilon, clip norm, delta, accountant, seed). Pure: no files, no tfjs.
 */
import { calibrateNoise } from './calibrate.js';
import { computeEpsilon } from './epsilon.js';
import type { PrivacyLedgerFile } from './privacyFile.js';
import { defaultDelta, samplingRateFor, stepsFor } from './steps.js';
import type { AccountantName, Segment } from './types.js';

/** Recorded vs recomputed epsilon: same code, so only float summation order differs (RDP adds step by step). */
export const EPSILON_RELATIVE_TOLERANCE = 1e-6;
/** Parameters the trainer derives with the same arithmetic (q = B/N, qN, calibrated sigma): equal up to rounding. */
export const PARAMETER_RELATIVE_TOLERANCE = 1e-9;

/** What memaudit.json says about the training run (ModelMeta's trainingData.records, seed and training). */
export interface TrainingRecordClaim {
  /** Records in the training data (memaudit.json trainingData.records). */
  records: number;
  /** The run's --seed, null when unseeded (memaudit.json seed). */
  seed: string | null;
  /** The training configuration as the trainer wrote it (TrainConfig + steps, plannedSteps); undefined when absent. */
  training?: Record<string, unknown>;
}

export interface LedgerMismatch {
  field: string;
  ledger: string;
  expected: string;
}

export interface LedgerVerification {
  /** Epsilon recomputes within tolerance and every parameter matches the training config. */
  ledgerVerified: boolean;
  mismatches: LedgerMismatch[];
  /** Epsilon recomputed from the ledger's segments and delta with its own accountant; null if it could not be. */
  recomputedEpsilon: number | null;
  /** Recomputed epsilon per accountant (both are recorded in privacy.json). */
  recomputed: { rdp: number | null; pld: number | null };
}

function close(a: number, b: number, relative: number): boolean {
  return a === b || Math.abs(a - b) <= relative * Math.max(Math.abs(a), Math.abs(b));
}

const show = (x: unknown): string => (x === undefined ? 'absent' : typeof x === 'string' ? x : JSON.stringify(x));

class Checker {
  readonly mismatches: LedgerMismatch[] = [];
  equal(field: string, ledger: unknown, expected: unknown): void {
    if (ledger !== expected) this.mismatches.push({ field, ledger: show(ledger), expected: show(expected) });
  }
  near(field: string, ledger: number, expected: number, relative = PARAMETER_RELATIVE_TOLERANCE): void {
    if (!close(ledger, expected, relative)) this.mismatches.push({ field, ledger: show(ledger), expected: show(expected) });
  }
  add(field: string, ledger: string, expected: string): void {
    this.mismatches.push({ field, ledger, expected });
  }
}

function recompute(segments: Segment[], delta: number, accountant: AccountantName): number | null {
  try {
    return computeEpsilon(segments, delta, { accountant }).epsilon;
  } catch {
    return null; // parameters out of range (a UsageError): recorded as a mismatch by the caller
  }
}

/** The ledger against itself: segments add up, the last segment is the headline one, qN, epsilon recomputes, the history ends there. */
function checkInternal(ledger: PrivacyLedgerFile, c: Checker): LedgerVerification['recomputed'] {
  const total = ledger.segments.reduce((n, s) => n + s.steps, 0);
  if (total !== ledger.steps) c.add('segments', `steps add up to ${total}`, `steps ${ledger.steps}`);
  const last = ledger.segments[ledger.segments.length - 1];
  if (last) {
    c.equal('samplingRate', ledger.samplingRate, last.samplingRate);
    c.equal('noiseMultiplier', ledger.noiseMultiplier, last.noiseMultiplier);
  }
  c.near('expectedBatchSize', ledger.expectedBatchSize, ledger.samplingRate * ledger.datasetSize);
  const recomputed = { rdp: recompute(ledger.segments, ledger.delta, 'rdp'), pld: recompute(ledger.segments, ledger.delta, 'pld') };
  for (const a of ['rdp', 'pld'] as const) {
    const r = recomputed[a];
    if (r === null) c.add(`epsilon.${a}`, show(ledger.epsilon[a]), 'parameters the accountant accepts');
    else c.near(`epsilon.${a}`, ledger.epsilon[a], r, EPSILON_RELATIVE_TOLERANCE);
  }
  // The report charts the history: its last point is the final RDP epsilon at the final step.
  const end = ledger.epsilonHistory[ledger.epsilonHistory.length - 1];
  if (end && !(end.step === ledger.steps && close(end.epsilon, ledger.epsilon.rdp, EPSILON_RELATIVE_TOLERANCE))) {
    c.add('epsilonHistory', `ends at step ${end.step} with epsilon ${end.epsilon}`, `step ${ledger.steps} with the RDP epsilon ${ledger.epsilon.rdp}`);
  }
  return recomputed;
}

type Config = Record<string, unknown>;
const numberIn = (config: Config, key: string): number | undefined => (typeof config[key] === 'number' ? (config[key] as number) : undefined);

/** Audit canaries the training config asked for (`train --dp --self-audit M`), 0 without. */
function selfAuditCanaries(config: Config): number {
  const selfAudit = config.selfAudit;
  return selfAudit && typeof selfAudit === 'object' && !Array.isArray(selfAudit) ? (numberIn(selfAudit as Config, 'canaries') ?? 0) : 0;
}

/** The noise multiplier the trainer used: --noise-multiplier, else calibrated to --target-epsilon over the planned steps. */
function expectedNoiseMultiplier(config: Config, q: number, planned: number, delta: number, accountant: AccountantName): number | null {
  const given = numberIn(config, 'noiseMultiplier');
  if (given !== undefined) return given;
  const target = numberIn(config, 'targetEpsilon');
  if (target === undefined) return null;
  try {
    return calibrateNoise({ samplingRate: q, steps: planned, delta, targetEpsilon: target, accountant }).noiseMultiplier;
  } catch {
    return null;
  }
}

/**
 * Steps the trainer takes: the planned ceil(E N / B), or fewer only when --target-epsilon with
 * --noise-multiplier stopped it because one more step would have exceeded the budget.
 */
function stepsAllowed(ledger: PrivacyLedgerFile, config: Config, planned: number, accountant: AccountantName): boolean {
  if (ledger.steps === planned) return true;
  const target = numberIn(config, 'targetEpsilon');
  if (ledger.steps > planned || target === undefined || numberIn(config, 'noiseMultiplier') === undefined) return false;
  const next = [...ledger.segments, { samplingRate: ledger.samplingRate, noiseMultiplier: ledger.noiseMultiplier, steps: 1 }];
  const epsilon = recompute(next, ledger.delta, accountant);
  return epsilon !== null && epsilon > target;
}

/** The ledger against memaudit.json: the dataset size and every mechanism parameter the config implies. */
function checkAgainstConfig(ledger: PrivacyLedgerFile, claim: TrainingRecordClaim, c: Checker): void {
  const config = claim.training;
  if (!config) {
    c.add('memaudit.json training', 'absent', 'the training configuration');
    return;
  }
  c.equal('dp', ledger.dp, config.dp);
  // Self-audit canaries are privacy units like records but ride along: q and the steps come from
  // the real records (docs/SCIENCE.md, "White-box self-audit").
  const auditCanaries = selfAuditCanaries(config);
  const records = claim.records;
  const privacyUnits = records + auditCanaries;
  c.equal('datasetSize', ledger.datasetSize, privacyUnits);
  c.equal('selfAudit.canaries', ledger.selfAudit?.canaries ?? 0, auditCanaries);
  c.equal('noiseSource', ledger.noiseSource, claim.seed === null ? 'csprng' : 'seeded');
  const accountant = config.accountant === 'pld' ? 'pld' : 'rdp';
  c.equal('accountant', ledger.accountant, config.accountant);
  const clipNorm = numberIn(config, 'clipNorm');
  c.equal('clipNorm', ledger.clipNorm, clipNorm);
  const delta = numberIn(config, 'delta') ?? defaultDelta(privacyUnits);
  c.equal('delta', ledger.delta, delta);
  const batchSize = numberIn(config, 'batchSize');
  const epochs = numberIn(config, 'epochs');
  if (batchSize === undefined || epochs === undefined || batchSize > records) {
    c.add('memaudit.json training', `batchSize ${show(batchSize)}, epochs ${show(epochs)}`, `a batch size <= ${records} records and epochs`);
    return;
  }
  const q = samplingRateFor(records, batchSize);
  const planned = stepsFor(records, batchSize, epochs);
  const sigma = expectedNoiseMultiplier(config, q, planned, delta, accountant);
  c.near('samplingRate', ledger.samplingRate, q);
  c.near('expectedBatchSize', ledger.expectedBatchSize, q * privacyUnits);
  if (sigma === null) c.add('noiseMultiplier', show(ledger.noiseMultiplier), 'a --noise-multiplier or a reachable --target-epsilon in memaudit.json');
  else c.near('noiseMultiplier', ledger.noiseMultiplier, sigma);
  ledger.segments.forEach((s, i) => {
    c.near(`segments[${i}].samplingRate`, s.samplingRate, q);
    if (sigma !== null) c.near(`segments[${i}].noiseMultiplier`, s.noiseMultiplier, sigma);
  });
  if (!stepsAllowed(ledger, config, planned, accountant)) c.add('steps', String(ledger.steps), `${planned} (ceil(epochs x N / B)), or fewer only when stopped at --target-epsilon`);
  if (typeof config.steps === 'number') c.equal('steps', ledger.steps, config.steps);
}

/**
 * Recomputes privacy.json's epsilon from its own parameters and checks them against memaudit.json.
 * `claim` null: no memaudit.json (a foreign model directory), so the config cannot vouch for the ledger.
 */
export function verifyLedger(ledger: PrivacyLedgerFile, claim: TrainingRecordClaim | null): LedgerVerification {
  const c = new Checker();
  const recomputed = checkInternal(ledger, c);
  if (claim) checkAgainstConfig(ledger, claim, c);
  else c.add('memaudit.json', 'absent', 'the training record the ledger is checked against');
  // One field can fail two checks (e.g. expectedBatchSize against qN and against B): name it once.
  const seen = new Set<string>();
  const mismatches = c.mismatches.filter((m) => !seen.has(m.field) && seen.add(m.field));
  return { ledgerVerified: mismatches.length === 0, mismatches, recomputedEpsilon: recomputed[ledger.accountant], recomputed };
}
