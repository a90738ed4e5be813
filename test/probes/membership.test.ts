/**
 * Membership attacks on real small models trained in the test (wasm backend): a classifier that
 * memorizes its training rows (LiRA with shadow models as pool jobs vs the loss attack), and a
 * char LM that memorizes its texts (loss, zlib, Min-K%, Min-K%++).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../src/core/backend.js';
import { Rng } from '../../src/core/rng.js';
import { readTrainingRecords, saveTrainedModel, trainModel, type TrainConfig } from '../../src/train/index.js';
import { openTarget } from '../../src/targets/index.js';
import { candidatesFromFiles, type CandidateSet } from '../../probes/membership/candidates.js';
import { runAttacks } from '../../probes/membership/attacks.js';
import { shadowJobs } from '../../probes/membership/shadows.js';
import { attackMetrics } from '../../probes/metrics.js';
import { meanOfLowest, zlibBytes } from '../../probes/membership/signals.js';
import { liraScores } from '../../probes/membership/lira.js';
import { runCli, tempDir } from '../helpers/cli.js';

beforeAll(async () => {
  expect((await initBackend('wasm')).backend).toBe('wasm');
});

function metricsOf(set: CandidateSet, scores: number[]) {
  const m = scores.filter((_, i) => set.candidates[i]!.member);
  const n = scores.filter((_, i) => !set.candidates[i]!.member);
  return attackMetrics(m, n);
}

describe('attack building blocks', () => {
  it('Min-K% averages the lowest max(1, floor(kN)) values; zlib counts compressed bytes', () => {
    expect(meanOfLowest([-1, -5, -2, -3, -4], 0.4)).toBe(-4.5);
    expect(meanOfLowest([-1, -5], 0.2)).toBe(-5);
    expect(zlibBytes('a'.repeat(200))).toBeLessThan(zlibBytes('q7#kP2!zL9@mX4$w'.repeat(3) + 'abcdefghijklmnopqrstuvwxyz'));
  });

  it('LiRA scores follow the stated formulas', () => {
    // two candidates, four shadows, each candidate IN two of them
    const inMask = [
      [true, false],
      [true, true],
      [false, true],
      [false, false],
    ];
    const shadowSignals = [
      [2, 0],
      [4, 1],
      [0, 3],
      [1, -1],
    ];
    const s = liraScores({ target: [3, 2], shadowSignals, inMask });
    // candidate 0: IN {2,4} mean 3 sd sqrt(2); OUT {0,1} mean 0.5 sd sqrt(0.5)
    const lpdf = (x: number, m: number, sd: number) => -0.5 * ((x - m) / sd) ** 2 - Math.log(sd) - 0.5 * Math.log(2 * Math.PI);
    expect(s['lira-online']![0]).toBeCloseTo(lpdf(3, 3, Math.SQRT2) - lpdf(3, 0.5, Math.sqrt(0.5)), 12);
    expect(s['lira-offline']![0]).toBeCloseTo((3 - 0.5) / Math.sqrt(0.5), 12);
    // fixed variance: pooled within-example sd. IN: c0 {2,4} ss 2, c1 {1,3} ss 2 -> sqrt(4/2)
    // OUT: c0 {0,1} ss .5, c1 {0,-1} ss .5 -> sqrt(1/2)
    expect(s['lira-offline-fixed-variance']![1]).toBeCloseTo((2 - -0.5) / Math.sqrt(0.5), 12);
    expect(s['lira-online-fixed-variance']![1]).toBeCloseTo(lpdf(2, 2, Math.SQRT2) - lpdf(2, -0.5, Math.sqrt(0.5)), 12);
  });
});

describe('LiRA vs loss on a classifier that memorizes its training rows', () => {
  it('separates members from non-members, LiRA beating the loss attack at low FPR, with shadows as cached pool jobs', async () => {
    const dir = tempDir();
    const rng = new Rng('lira-data');
    // Easy rows follow a linear rule; 25% are atypical (label against the rule): only memorization fits those.
    const header = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'label'];
    const row = () => {
      const f = header.slice(0, -1).map(() => rng.normal());
      const rule = f[0]! + f[1]! > 0;
      const label = rng.bernoulli(0.25) ? !rule : rule;
      return [...f.map((v) => v.toFixed(4)), label ? 'yes' : 'no'].join(',');
    };
    const members = join(dir, 'members.csv');
    const nonMembers = join(dir, 'non-members.csv');
    writeFileSync(members, [header.join(','), ...Array.from({ length: 100 }, row)].join('\n') + '\n');
    writeFileSync(nonMembers, [header.join(','), ...Array.from({ length: 100 }, row)].join('\n') + '\n');
    const train: TrainConfig = {
      model: 'mlp', dp: false, clipNorm: 1, batchSize: 32, epochs: 150, learningRate: 0.01, optimizer: 'adam', accountant: 'rdp',
      architecture: { hiddenUnits: [64] },
    };
    const trained = await trainModel({ ...train, seed: 'target' }, await readTrainingRecords(members, { labelColumn: 'label' }));
    await saveTrainedModel(join(dir, 'target'), trained);
    trained.model.dispose();
    const target = await openTarget(join(dir, 'target'));
    const set = await candidatesFromFiles(members, nonMembers, 'classifier', { labelColumn: 'label' });
    const cacheDir = join(dir, 'shadows');
    const plan = { count: 8, workers: 2, cacheDir, backend: 'wasm' as const, train: { ...train }, labelColumn: 'label' };

    const run = await runAttacks(target, set, { shadows: plan });
    expect(run.shadows).toMatchObject({ count: 8, trained: 8, cached: 0 });
    const loss = metricsOf(set, run.scores.loss!);
    const liraNames = ['lira-online', 'lira-online-fixed-variance', 'lira-offline', 'lira-offline-fixed-variance'] as const;
    const lira = Object.fromEntries(liraNames.map((n) => [n, metricsOf(set, run.scores[n]!)]));
    const bestLiraTpr = Math.max(...liraNames.map((n) => lira[n]!.tprAtFpr['0.01']));
    // Every attack separates members from non-members beyond chance ...
    expect(loss.auc).toBeGreaterThan(0.55);
    expect(lira['lira-online']!.auc).toBeGreaterThan(loss.auc + 0.05);
    expect(bestLiraTpr).toBeGreaterThan(0.05);
    // ... and LiRA is far better at low FPR: per-example calibration sets confidently-classified
    // easy non-members apart, which fool the loss attack (Carlini et al. 2022).
    expect(bestLiraTpr).toBeGreaterThan(loss.tprAtFpr['0.01'] + 0.03);
    expect(lira['lira-online']!.tprAtFpr['0.1']).toBeGreaterThan(loss.tprAtFpr['0.1'] + 0.1);
    // The same jobs again: every shadow comes from the cache.
    const again = await runAttacks(target, set, { shadows: plan, only: ['lira-online-fixed-variance'] });
    expect(again.shadows).toMatchObject({ trained: 0, cached: 8 });
    expect(again.scores['lira-online-fixed-variance']).toEqual(run.scores['lira-online-fixed-variance']);
    await target.close();
  });

  it('plans jobs that reference candidates by file digest and index (no records in the spec), each candidate IN half of them', async () => {
    const dir = tempDir();
    const members = join(dir, 'm.txt');
    const nonMembers = join(dir, 'n.txt');
    writeFileSync(members, 'secret one\nsecret two\nsecret three\n');
    writeFileSync(nonMembers, 'other one\nother two\n');
    const set = await candidatesFromFiles(members, nonMembers, 'lm');
    const { specs, inMask } = shadowJobs(set, { count: 4, workers: 1, cacheDir: dir, backend: 'cpu', train: { model: 'charlm' } });
    expect(specs).toHaveLength(4);
    for (let i = 0; i < set.candidates.length; i++) expect(inMask.filter((row) => row[i]).length).toBe(2);
    const text = JSON.stringify(specs);
    expect(text).not.toMatch(/secret|other/);
    // a rerun plans the very same jobs (the shadow seed derives from the experiment, not the run seed)
    expect(shadowJobs(set, { count: 4, workers: 1, cacheDir: dir, backend: 'cpu', train: { model: 'charlm' } }).specs).toEqual(specs);
  });
});

describe('reference-model attack', () => {
  it('scores target minus reference (a model of the same distribution trained on other rows)', async () => {
    const dir = tempDir();
    const rng = new Rng('ref-data');
    // As in the LiRA test: easy rows follow a rule, 25% go against it (hard to fit without memorizing).
    const header = ['a', 'b', 'c', 'd', 'label'];
    const row = () => {
      const f = header.slice(0, -1).map(() => rng.normal());
      const rule = f[0]! + f[1]! > 0;
      return [...f.map((v) => v.toFixed(3)), (rng.bernoulli(0.25) ? !rule : rule) ? 'x' : 'y'].join(',');
    };
    const file = (name: string) => {
      writeFileSync(join(dir, name), [header.join(','), ...Array.from({ length: 100 }, row)].join('\n') + '\n');
      return join(dir, name);
    };
    const members = file('members.csv');
    const nonMembers = file('non-members.csv');
    const other = file('other.csv');
    const config: TrainConfig = { model: 'mlp', dp: false, clipNorm: 1, batchSize: 32, epochs: 120, learningRate: 0.01, optimizer: 'adam', accountant: 'rdp', architecture: { hiddenUnits: [64] } };
    for (const [data, name] of [[members, 'target'], [other, 'reference']] as const) {
      const trained = await trainModel({ ...config, seed: name }, await readTrainingRecords(data, { labelColumn: 'label' }));
      await saveTrainedModel(join(dir, name), trained);
      trained.model.dispose();
    }
    const target = await openTarget(join(dir, 'target'));
    const reference = await openTarget(join(dir, 'reference'));
    const set = await candidatesFromFiles(members, nonMembers, 'classifier', { labelColumn: 'label' });
    const run = await runAttacks(target, set, { reference, only: ['loss', 'reference'] });
    expect(Object.keys(run.scores).sort()).toEqual(['loss', 'reference']);
    const loss = metricsOf(set, run.scores.loss!);
    const ref = metricsOf(set, run.scores.reference!);
    expect(ref.auc).toBeGreaterThan(0.6);
    // One reference model adds its own variance: it separates members (and helps at low FPR in
    // the literature), without a guarantee of beating the loss on AUC.
    expect(ref.tprAtFpr['0.1']).toBeGreaterThan(0.15);
    expect(loss.auc).toBeGreaterThan(0.6);
    // without a reference model the attack is reported as skipped, not silently dropped
    expect((await runAttacks(target, set)).skipped.map((s) => s.attack)).toContain('reference');
    await Promise.all([target.close(), reference.close()]);
  });
});

describe('reference-free attacks on a char LM that memorizes its texts', () => {
  it('loss, zlib, Min-K% and Min-K%++ separate members; random scores do not', async () => {
    const dir = tempDir();
    const rng = new Rng('lm-data');
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    const text = () => 'id ' + Array.from({ length: 14 }, () => letters[rng.int(26)]).join('');
    const members = join(dir, 'members.txt');
    const nonMembers = join(dir, 'non-members.txt');
    writeFileSync(members, Array.from({ length: 40 }, text).join('\n') + '\n');
    writeFileSync(nonMembers, Array.from({ length: 40 }, text).join('\n') + '\n');
    const trained = await trainModel(
      { model: 'charlm', dp: false, clipNorm: 1, batchSize: 40, epochs: 60, learningRate: 0.02, optimizer: 'adam', accountant: 'rdp', seed: 'lm', architecture: { contextLength: 6, embeddingDim: 16, hiddenUnits: [128] } },
      await readTrainingRecords(members),
    );
    await saveTrainedModel(join(dir, 'lm'), trained);
    trained.model.dispose();
    const target = await openTarget(join(dir, 'lm'));
    const set = await candidatesFromFiles(members, nonMembers, 'lm');
    const run = await runAttacks(target, set);
    expect(Object.keys(run.scores).sort()).toEqual(['loss', 'min-k', 'min-k++', 'zlib']);
    for (const name of ['loss', 'zlib', 'min-k', 'min-k++'] as const) {
      const m = metricsOf(set, run.scores[name]!);
      expect(m.auc, name).toBeGreaterThan(0.8);
      expect(m.tprAtFpr['0.1'], name).toBeGreaterThan(0.3);
    }
    const noise = new Rng('noise');
    const random = metricsOf(set, set.candidates.map(() => noise.normal()));
    expect(random.tprAtFpr['0.1']).toBeLessThan(0.3);
    await target.close();
  });
});

describe('memaudit probe membership | dp-audit (CLI, bernoulli canaries in a char LM)', () => {
  it('writes the --json contract, exits 1 only for a refuted DP claim, and 2 with one line on bad input', async () => {
    const dir = tempDir();
    const rng = new Rng('cli-notes');
    const words = ['patient', 'seen', 'today', 'stable', 'no', 'new', 'complaints', 'plan', 'continue', 'meds'];
    const notes = Array.from({ length: 120 }, () => JSON.stringify({ text: Array.from({ length: 6 }, () => rng.pick(words)).join(' ') }));
    writeFileSync(join(dir, 'notes.jsonl'), notes.join('\n') + '\n');
    const cli = (args: string[]) => runCli([...args, '--seed', '3'], { cwd: dir });
    expect((await cli(['canary', 'generate', '--pack', 'pin', '--count', '40', '--out', 'canaries.json'])).code).toBe(0);
    const insert = await cli(['canary', 'insert', '--data', 'notes.jsonl', '--canaries', 'canaries.json', '--repetitions', '2', '--mode', 'bernoulli', '--out', 'train.jsonl', '--manifest', 'manifest.json']);
    expect(insert.code, insert.stderr).toBe(0);
    const trained = await trainModel(
      { model: 'charlm', dp: false, clipNorm: 1, batchSize: 64, epochs: 15, learningRate: 0.01, optimizer: 'adam', accountant: 'rdp', seed: 'cli', architecture: { contextLength: 8, embeddingDim: 16, hiddenUnits: [128] } },
      await readTrainingRecords(join(dir, 'train.jsonl')),
    );
    await saveTrainedModel(join(dir, 'model'), trained);
    trained.model.dispose();

    const mem = await cli(['probe', 'membership', '--target', 'model', '--manifest', 'manifest.json', '--out', 'membership.json', '--json', '--bootstrap', '50']);
    expect(mem.code, mem.stderr).toBe(0);
    const result = JSON.parse(mem.stdout);
    expect(result).toMatchObject({ probe: 'membership', population: 'manifest' });
    expect(result.attacks.map((a: { name: string }) => a.name)).toEqual(['loss', 'zlib', 'min-k', 'min-k++']);
    for (const a of result.attacks) {
      expect(Object.keys(a.tprAtFpr)).toEqual(['0.001', '0.01', '0.1']);
      expect(a.members + a.nonMembers).toBe(40);
      expect(a.aucInterval.lower).toBeLessThanOrEqual(a.auc);
    }
    // No canary text or secret in the result (digests, counts and ids only).
    const canaries = JSON.parse(readFileSync(join(dir, 'canaries.json'), 'utf8')).canaries as { secret: string }[];
    const written = readFileSync(join(dir, 'membership.json'), 'utf8');
    for (const c of canaries) expect(written).not.toContain(c.secret);

    const audit = await cli(['probe', 'dp-audit', '--target', 'model', '--manifest', 'manifest.json', '--out', 'audit.json', '--json']);
    expect(audit.code, audit.stderr).toBe(0); // no claim to refute: a non-DP model
    const bound = JSON.parse(audit.stdout);
    expect(bound).toMatchObject({ probe: 'dp-audit', method: 'one-run', claimedEpsilon: null, refuted: false, canaries: 40, groupSize: 2 });
    expect(bound.epsilonLowerBound).toBeLessThanOrEqual(bound.ceiling);
    const claim = bound.epsilonLowerBound > 0 ? bound.epsilonLowerBound / 2 : 0;
    const refuted = await cli(['probe', 'dp-audit', '--target', 'model', '--manifest', 'manifest.json', '--out', 'audit2.json', '--claimed-epsilon', String(claim), '--quiet']);
    expect(refuted.code).toBe(bound.epsilonLowerBound > 0 ? 1 : 0);
    expect(JSON.parse(readFileSync(join(dir, 'audit2.json'), 'utf8')).refuted).toBe(bound.epsilonLowerBound > 0);

    for (const bad of [
      ['--shadows', '3'],
      ['--min-k', '0'],
      ['--members', 'missing.txt', '--non-members', 'notes.jsonl'],
    ]) {
      const r = await cli(['probe', 'membership', '--target', 'model', '--manifest', 'manifest.json', '--out', 'bad.json', ...bad]);
      expect(r.code, bad.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(join(dir, 'bad.json'))).toBe(false);
    }
  });
});
