/**
 * The one-run audit bound (src/accounting/one-run-audit.ts): p-values against hand-computed
 * binomial tails, validity against simulated eps-DP randomized response, the ceiling under perfect
 * separation, and ties broken against the auditor.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { correctGuesses, defaultGuessGrid, oneRunAudit, oneRunCeiling, oneRunEpsilon, oneRunPValue, rankCanaries } from '../../src/accounting/one-run-audit.js';

describe('one-run p-value (Theorem 3.1)', () => {
  it('is the binomial tail P[Binom(r, q) >= v] without delta (hand-computed)', () => {
    // r = 4, v = 3, eps = ln 3: q = 3/4, P = 4 (3/4)^3 (1/4) + (3/4)^4 = 27/64 + 81/256 = 189/256.
    expect(oneRunPValue(10, 4, 3, Math.log(3), 0)).toBeCloseTo(189 / 256, 12);
    // eps = 0 is a fair coin: P[Binom(5, 1/2) >= 5] = 1/32.
    expect(oneRunPValue(5, 5, 5, 0, 0)).toBeCloseTo(1 / 32, 12);
  });

  it('adds 2 m delta max_i P[v - i <= Binom < v] / i (hand-computed)', () => {
    // r = 2, v = 2, eps = 0 (q = 1/2): beta = 1/4; i = 1: P[X = 1] = 1/2; i = 2: P[X in {0, 1}] / 2 = 3/8; max 1/2.
    const m = 100;
    const delta = 1e-3;
    expect(oneRunPValue(m, 2, 2, 0, delta)).toBeCloseTo(1 / 4 + 2 * m * delta * 0.5, 12);
  });
});

describe('one-run audit', () => {
  it('exceeds the true epsilon of an eps-DP randomized response in at most ~(1 - confidence) of trials', () => {
    // Each canary is included with probability 1/2; its score reports the bit truthfully with
    // probability e^eps / (1 + e^eps), plus a tie-breaking jitter: exactly eps-DP per canary.
    const eps = 1;
    const truthful = Math.exp(eps) / (1 + Math.exp(eps));
    const rng = new Rng('randomized-response');
    const trials = 60;
    let exceed = 0;
    let largest = 0;
    for (let t = 0; t < trials; t++) {
      const included: boolean[] = [];
      const scores: number[] = [];
      for (let i = 0; i < 400; i++) {
        const bit = rng.bernoulli(0.5);
        included.push(bit);
        scores.push(Number(rng.bernoulli(truthful) ? bit : !bit) + rng.next() * 1e-3);
      }
      const bound = oneRunAudit({ scores, included }, { confidence: 0.9, delta: 0 }).epsilonLowerBound;
      if (bound > eps) exceed++;
      largest = Math.max(largest, bound);
    }
    expect(exceed).toBeLessThanOrEqual(10); // 6 expected at most; 10 is 1.7 sd above it
    expect(largest).toBeGreaterThan(0.5); // and the audit has power: the bounds are not trivially 0
  });

  it('gives the ceiling for perfectly separated canaries, guessing both sides', () => {
    const rng = new Rng('separated');
    const scoresIncluded = Array.from({ length: 500 }, () => 10 + rng.normal());
    const scoresExcluded = Array.from({ length: 500 }, () => rng.normal());
    const r = oneRunAudit({ scoresIncluded, scoresExcluded }, { confidence: 0.999, delta: 1e-5 });
    expect(r).toMatchObject({ kIn: 450, kOut: 450, guesses: 900, correct: 900, canaries: 1000, hypotheses: 3 });
    expect(r.epsilonLowerBound).toBeCloseTo(r.ceiling, 9);
    expect(r.ceiling).toBeCloseTo(oneRunCeiling(1000, 0.999, 1e-5), 12);
    expect(r.ceiling).toBeGreaterThan(3.5); // 1000 canaries can refute epsilon 3 at 99.9% with delta 1e-5
    // the weighted Bonferroni: the largest test runs at 0.8 of the level
    expect(r.ceiling).toBeCloseTo(oneRunEpsilon(1000, 900, 900, 0.8e-3, 1e-5), 12);
  });

  it('finds nothing in scores that ignore the bits, and breaks ties against the auditor', () => {
    const included = Array.from({ length: 400 }, (_, i) => i % 2 === 0);
    expect(oneRunAudit({ scores: new Array(400).fill(1), included }, { confidence: 0.95, delta: 0 }).epsilonLowerBound).toBe(0);
    // all tied: "in" guesses take excluded canaries first, "out" guesses included ones first
    const ranked = rankCanaries({ scores: new Array(400).fill(1), included });
    expect(correctGuesses(ranked, 100, 100)).toBe(0);
  });

  it('uses a small data-independent grid', () => {
    expect(defaultGuessGrid(1000)).toEqual([
      { kIn: 450, kOut: 450, weight: 0.8 },
      { kIn: 200, kOut: 200, weight: 0.1 },
      { kIn: 50, kOut: 50, weight: 0.1 },
    ]);
  });
});
