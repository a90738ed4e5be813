import { describe, expect, it } from 'vitest';
import { secretSpaceFromSpec } from '../../src/canary/secret-space.js';
import { CapabilityError } from '../../src/core/errors.js';
import { exposureProbe, exactRank, exposureFromRank, randomBaselineBits, runExposure, interpolatedExposure } from '../../probes/exposure.js';
import { checkProbeResult, runProbe } from '../../probes/common.js';
import { mannWhitneyGreater } from '../../probes/rank-test.js';
import { SecretScorer } from '../../probes/secret-scoring.js';
import { FakeLm } from './helpers/fake-lm.js';
import { Rng } from '../../src/core/rng.js';
import { canary, contextFor, manifestOf } from './helpers/manifest.js';

const threeDigits = { slots: [{ format: 'digits', params: { length: 3 } }] };

describe('candidate scoring', () => {
  it('prefix sharing gives the same log-perplexities as scoring each text, with far fewer model queries', async () => {
    const space = secretSpaceFromSpec(threeDigits);
    const lm = new FakeLm();
    const desc = await lm.describe();
    const shared = await SecretScorer.create(lm, desc, { method: 'prefix-shared' });
    const separate = await SecretScorer.create(lm, desc, { method: 'per-text' });
    const a = await shared.scoreSpace('PIN ', space, ['042']);
    const all: number[] = [];
    for (let i = 0n; i < space.size; i++) all.push(space.at(i));
    const b = await separate.scoreCandidates('PIN ', all as unknown as string[]);
    expect(a.all.length).toBe(1000);
    // Same multiset of values (the trie walk emits them in its own order).
    const sa = [...a.all].sort((x, y) => x - y);
    const sb = [...b].sort((x, y) => x - y);
    for (let i = 0; i < 1000; i++) expect(sa[i]).toBeCloseTo(sb[i]!, 9);
    expect(a.secrets[0]).toBeCloseTo(b[42]!, 9);
    expect(shared.scored).toBe(1 + 10 + 100);
    expect(separate.scored).toBe(1000);
  });

  it('counting candidates at most as perplexing as a bound prunes branches early and counts exactly', async () => {
    const space = secretSpaceFromSpec({ slots: [{ format: 'digits', params: { length: 5 } }] });
    const lm = new FakeLm({ memorized: [{ prefix: 'PIN ', secret: '04217', boost: 6 }] });
    const scorer = await SecretScorer.create(lm, await lm.describe(), { method: 'prefix-shared' });
    const rng = new Rng('count');
    const candidates = Array.from({ length: 3000 }, () => space.sample(rng));
    const px = await scorer.scoreCandidates('PIN ', candidates);
    const full = scorer.scored;
    for (const bound of [(await scorer.scoreCandidates('PIN ', ['04217']))[0]!, [...px].sort((a, b) => a - b)[300]!]) {
      const before = scorer.scored;
      expect(await scorer.countAtMost('PIN ', candidates, bound)).toBe(px.filter((v) => v <= bound).length);
      expect(scorer.scored - before).toBeLessThan(full);
    }
  });

  it('falls back to per-text scoring for targets without character distributions', async () => {
    const lm = new FakeLm({ tokenizer: 'bpe' });
    const scorer = await SecretScorer.create(lm, await lm.describe());
    expect(scorer.method).toBe('per-text');
    const noScore = new FakeLm({ tokenizer: 'bpe', capabilities: { scoreText: false } });
    await expect(SecretScorer.create(noScore, await noScore.describe())).rejects.toBeInstanceOf(CapabilityError);
  });
});

describe('exposure math', () => {
  it('rank counts candidates at least as likely; exposure is log2|R| - log2 rank', () => {
    expect(exactRank([3, 1, 2, 2, 5], 2)).toBe(3);
    expect(exposureFromRank(Math.log2(1000), 1)).toBeCloseTo(Math.log2(1000), 12);
    expect(exposureFromRank(Math.log2(1024), 512)).toBeCloseTo(1, 12);
    expect(interpolatedExposure([1, 2, 3, 4, 5, 6, 7, 8], 0.5)).toBeCloseTo(3, 12);
  });

  it('random baseline: mean exposure of a uniformly random rank', () => {
    // Brute force over |R| = 1000: mean of log2 1000 - log2 k for k = 1..1000.
    let sum = 0;
    for (let k = 1; k <= 1000; k++) sum += Math.log2(1000) - Math.log2(k);
    expect(randomBaselineBits(Math.log2(1000))).toBeCloseTo(sum / 1000, 9);
    expect(randomBaselineBits(60)).toBeCloseTo(1 / Math.LN2, 9);
  });

  it('Mann-Whitney U matches scipy.stats.mannwhitneyu (alternative="greater")', () => {
    const exact = mannWhitneyGreater([5.1, 7.3, 9.9, 12.4, 3.3, 8.8], [1.2, 2.5, 0.7, 4.4, 3.1, 1.9, 2.2]);
    expect(exact.statistic).toBe(41);
    expect(exact.pValue).toBeCloseTo(0.0011655011655011655, 12);
    const small = mannWhitneyGreater([0.5, 0.2, 1.1], [0.9, 1.5, 2.0, 0.1]);
    expect(small.statistic).toBe(4);
    expect(small.pValue).toBeCloseTo(0.8, 12);
    const ties = mannWhitneyGreater([1, 2, 2, 3, 5, 5, 5], [0, 1, 1, 2, 3, 3, 4, 0]);
    expect(ties.test).toContain('normal');
    expect(ties.statistic).toBe(42);
    expect(ties.pValue).toBeCloseTo(0.05630286096549036, 10);
  });
});

describe('exposure probe on an in-test LM', () => {
  const prefix = 'My PIN code is ';
  const canaries = [
    canary('c1', prefix, '4821', 'inserted', 16),
    canary('c2', prefix, '0937', 'inserted', 4),
    canary('c3', prefix, '5550', 'inserted', 1),
    ...['1234', '9876', '3141', '2718', '6021', '7777', '8080', '4242'].map((s, i) => canary(`r${i}`, prefix, s, 'reference', 0)),
  ];
  const spec = { slots: [{ format: 'digits', params: { length: 4 } }] };
  const manifest = manifestOf(canaries, spec, Math.log2(10000), '10000');
  // "Memorization" grows with repetitions: a strong boost for c1, a weaker one for c2, none for c3.
  const lm = () =>
    new FakeLm({
      memorized: [
        { prefix, secret: '4821', boost: 8 },
        { prefix, secret: '0937', boost: 2.5 },
      ],
    });

  it('exact mode: memorized canaries rank first, references near the random baseline', async () => {
    const ctx = await contextFor(exposureProbe, lm(), manifest, { mode: 'exact' });
    const r = await runExposure(ctx);
    checkProbeResult(exposureProbe, r);
    expect(r.mode).toBe('exact');
    const c1 = r.canaries.find((c) => c.id === 'c1')!;
    expect(c1.rank).toBe(1);
    expect(c1.exposureBits).toBeCloseTo(Math.log2(10000), 9);
    const by = Object.fromEntries(r.byRepetitions.map((g) => [g.repetitions, g.meanExposureBits]));
    expect(by[16]).toBeGreaterThan(by[4]!);
    expect(by[4]).toBeGreaterThan(by[1]!);
    expect(r.reference.count).toBe(8);
    expect(r.reference.meanExposureBits).toBeLessThan(4);
    expect(r.insertedVsReference!.pValue).toBeLessThan(0.5);
    // All canaries share the prefix: one enumeration of 1 + 10 + 100 + 1000 contexts serves them all.
    expect(r.modelQueries).toBe(1111);
  });

  it('estimated and exact exposure agree within 1 bit, and the interval holds the exact value', async () => {
    const exact = await runExposure(await contextFor(exposureProbe, lm(), manifest, { mode: 'exact' }));
    for (const c of exact.canaries) expect(c.exposureInterval).toEqual({ lower: c.exposureBits, upper: c.exposureBits, confidence: 1 });
    for (const estimator of ['importance', 'skew-normal']) {
      // No adaptive rounds here (maxSamples = samples): the estimators are compared at a fixed sample size.
      const est = await runExposure(await contextFor(exposureProbe, lm(), manifest, { mode: 'estimated', estimator, samples: 1000, maxSamples: 1000 }));
      expect(est.mode).toBe('estimated');
      for (const c of exact.canaries) {
        const e = est.canaries.find((x) => x.id === c.id)!;
        expect(e.method).toBe('estimated');
        expect(e.estimator).toBe(estimator);
        expect(e.samples).toBe(1000);
        expect(e.exposureInterval!.lower).toBeLessThanOrEqual(c.exposureBits);
        expect(e.exposureInterval!.upper).toBeGreaterThanOrEqual(c.exposureBits);
        // Only enumeration shows rank 1; a sampled canary at the top keeps a point below log2|R|.
        if (c.rank === 1) expect(e.exposureBits).toBeLessThan(Math.log2(10000) - 1);
        else expect(Math.abs(e.exposureBits - c.exposureBits), `canary ${c.id}: exact ${c.exposureBits}, ${estimator} ${e.exposureBits}`).toBeLessThan(1);
      }
    }
  });

  it('adaptive sampling: memorized canaries resolve above maxBits, references below at the first look, and samples are recorded', async () => {
    const wide = { slots: [{ format: 'digits', params: { length: 6 } }] };
    const refs = ['123456', '987654', '314159'].map((s, i) => canary(`r${i}`, prefix, s, 'reference', 0));
    const six = manifestOf([canary('m', prefix, '482193', 'inserted', 16), ...refs], wide, Math.log2(1e6), '1000000');
    const target = new FakeLm({ memorized: [{ prefix, secret: '482193', boost: 8 }] });
    const r = await runExposure(await contextFor(exposureProbe, target, six, { mode: 'estimated' }));
    checkProbeResult(exposureProbe, r);
    const m = r.canaries.find((c) => c.id === 'm')!;
    expect(m.exposureInterval!.lower).toBeGreaterThan(10);
    expect(m.samples).toBe(16000);
    expect(m.exposureBits).toBeLessThan(Math.log2(1e6));
    for (const ref of r.canaries.filter((c) => c.role === 'reference')) {
      expect(ref.exposureInterval!.upper).toBeLessThanOrEqual(10);
      expect(ref.samples).toBe(2000);
    }
    expect(r.candidatesPerCanary).toBe(16000);
  });

  it('a secret no sample beats: the interval stays open above, the point is not log2|R|, and sampling stops at the budget', async () => {
    const eight = { slots: [{ format: 'digits', params: { length: 8 } }] };
    const big = manifestOf([canary('m', prefix, '48219377', 'inserted', 16)], eight, Math.log2(1e8), '100000000');
    const target = new FakeLm({ memorized: [{ prefix, secret: '48219377', boost: 12 }] });
    const r = await runExposure(await contextFor(exposureProbe, target, big, { mode: 'estimated', estimator: 'importance', samples: 200, maxSamples: 800 }));
    const m = r.canaries[0]!;
    expect(m.samplesAtLeastAsLikely).toBe(0);
    expect(m.exposureInterval!.upper).toBe(Math.log2(1e8));
    expect(m.exposureInterval!.lower).toBeLessThan(10);
    expect(m.samples).toBe(800);
    expect(m.exposureBits).toBeLessThan(Math.log2(1e8) - 1);
    expect(m.exposureBits).toBeGreaterThanOrEqual(m.exposureInterval!.lower);
  });

  it('importance sampling is unbiased: averaged over seeds it matches the exact rank', async () => {
    // A space of 100 with a strongly memorized secret: rank - 1 is estimated from 200 draws.
    // The first secret and boost leaving the secret at a rank of a few (deterministic: the fake LM is).
    let target!: FakeLm;
    let small!: ReturnType<typeof manifestOf>;
    let exact!: Awaited<ReturnType<typeof runExposure>>;
    search: for (const secret of ['48', '17', '93', '05', '62', '31']) {
      small = manifestOf([canary('m', prefix, secret, 'inserted', 16)], { slots: [{ format: 'digits', params: { length: 2 } }] }, Math.log2(100), '100');
      for (const boost of [0.5, 1, 1.5]) {
        target = new FakeLm({ memorized: [{ prefix, secret, boost }] });
        exact = await runExposure(await contextFor(exposureProbe, target, small, { mode: 'exact' }));
        if (exact.canaries[0]!.rank >= 3 && exact.canaries[0]!.rank <= 30) break search;
      }
    }
    let sum = 0;
    for (let s = 0; s < 20; s++) {
      const est = await runExposure(await contextFor(exposureProbe, target, small, { mode: 'estimated', estimator: 'importance', samples: 200 }, `u${s}`));
      sum += est.canaries[0]!.estimatorRank!;
    }
    expect(exact.canaries[0]!.rank).toBeGreaterThanOrEqual(3);
    expect(sum / 20).toBeGreaterThan(exact.canaries[0]!.rank * 0.85);
    expect(sum / 20).toBeLessThan(exact.canaries[0]!.rank * 1.15);
  });

  it('is deterministic for a seed and refuses targets that cannot score', async () => {
    const a = await runExposure(await contextFor(exposureProbe, lm(), manifest, { mode: 'estimated', samples: 200 }, 's1'));
    const b = await runExposure(await contextFor(exposureProbe, lm(), manifest, { mode: 'estimated', samples: 200 }, 's1'));
    expect(a.canaries.map((c) => c.exposureBits)).toEqual(b.canaries.map((c) => c.exposureBits));
    const mute = new FakeLm({ capabilities: { scoreText: false, nextTokenDistribution: false } });
    await expect(runProbe(exposureProbe, await contextFor(exposureProbe, mute, manifest))).rejects.toBeInstanceOf(CapabilityError);
  });
});
