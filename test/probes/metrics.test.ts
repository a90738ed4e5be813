import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import {
  attackMetrics,
  balancedAccuracy,
  bootstrapIntervals,
  clopperPearson,
  rocAuc,
  rocCurve,
  thinRoc,
  tprAtFpr,
} from '../../probes/metrics.js';

const members = [3, 4, 5];
const nonMembers = [1, 2, 3.5];

describe('ROC curve and AUC', () => {
  it('has one vertex per distinct threshold, from (0,0) to (1,1)', () => {
    const roc = rocCurve(members, nonMembers);
    // scores descending: 5m 4m 3.5n 3m 2n 1n
    expect(roc.fpr).toEqual([0, 0, 0, 1 / 3, 1 / 3, 2 / 3, 1]);
    expect(roc.tpr).toEqual([0, 1 / 3, 2 / 3, 2 / 3, 1, 1, 1]);
    expect(roc.thresholds).toEqual([Infinity, 5, 4, 3.5, 3, 2, 1]);
  });

  it('AUC of a hand-computed case is the fraction of (member, non-member) pairs ranked right', () => {
    // 5 and 4 beat all three non-members, 3 beats 2 and 1: 8 of 9 pairs.
    expect(rocAuc(rocCurve(members, nonMembers))).toBeCloseTo(8 / 9, 12);
  });

  it('counts ties as one half', () => {
    expect(rocAuc(rocCurve([1, 1], [1, 1]))).toBe(0.5);
    expect(rocAuc(rocCurve([2, 1], [1, 0]))).toBeCloseTo((1 + 1 + 0.5 + 1) / 4, 12);
  });

  it('AUC equals the naive pairwise Mann-Whitney count on random scores with ties', () => {
    const rng = new Rng('auc');
    const m = Array.from({ length: 57 }, () => Math.round(rng.normal() * 3) / 3 + 0.3);
    const n = Array.from({ length: 43 }, () => Math.round(rng.normal() * 3) / 3);
    let wins = 0;
    for (const a of m) for (const b of n) wins += a > b ? 1 : a === b ? 0.5 : 0;
    expect(rocAuc(rocCurve(m, n))).toBeCloseTo(wins / (m.length * n.length), 12);
  });

  it('rejects empty groups and NaN scores', () => {
    expect(() => rocCurve([], [1])).toThrow(/at least one member/);
    expect(() => rocCurve([NaN], [1])).toThrow(/NaN/);
  });
});

describe('TPR at a fixed FPR (linear interpolation between ROC vertices)', () => {
  const roc = rocCurve(members, nonMembers);
  it('takes the highest TPR where the curve is vertical', () => {
    expect(tprAtFpr(roc, 0)).toBeCloseTo(2 / 3, 12);
    expect(tprAtFpr(roc, 1 / 3)).toBeCloseTo(1, 12);
  });
  it('interpolates linearly inside a segment', () => {
    // (0, 2/3) -> (1/3, 2/3) is flat; (1/3, 1) -> (2/3, 1) is flat.
    expect(tprAtFpr(roc, 0.1)).toBeCloseTo(2 / 3, 12);
    // A sloped segment: members [2], non-members [2, 0] -> vertices (0,0), (1/2, 1), (1, 1).
    const sloped = rocCurve([2], [2, 0]);
    expect(tprAtFpr(sloped, 0.1)).toBeCloseTo(0.2, 12);
    expect(tprAtFpr(sloped, 0.25)).toBeCloseTo(0.5, 12);
  });
  it('is at chance on random scores (TPR@1%FPR near 1%)', () => {
    const rng = new Rng('random-scores');
    const m = Array.from({ length: 3000 }, () => rng.normal());
    const n = Array.from({ length: 3000 }, () => rng.normal());
    const metrics = attackMetrics(m, n);
    expect(metrics.tprAtFpr['0.01']).toBeLessThan(0.03);
    expect(metrics.tprAtFpr['0.1']).toBeLessThan(0.15);
    expect(Math.abs(metrics.auc - 0.5)).toBeLessThan(0.03);
  });
});

describe('balanced accuracy', () => {
  it('is the best (TPR + TNR) / 2 over thresholds', () => {
    expect(balancedAccuracy(rocCurve(members, nonMembers))).toBeCloseTo(5 / 6, 12);
    expect(balancedAccuracy(rocCurve([1, 2], [3, 4]))).toBe(0.5);
  });
});

describe('Clopper-Pearson bounds', () => {
  it('matches known exact intervals', () => {
    const a = clopperPearson(5, 10);
    expect(a.lower).toBeCloseTo(0.187086, 5);
    expect(a.upper).toBeCloseTo(0.812914, 5);
    // k = 0 and k = n have closed forms: upper = 1 - (alpha/2)^(1/n).
    expect(clopperPearson(0, 10).upper).toBeCloseTo(1 - 0.025 ** 0.1, 10);
    expect(clopperPearson(0, 10).lower).toBe(0);
    expect(clopperPearson(10, 10).lower).toBeCloseTo(0.025 ** 0.1, 10);
    expect(clopperPearson(0, 10, 0.95, 'upper').upper).toBeCloseTo(1 - 0.05 ** 0.1, 10);
    expect(clopperPearson(3, 10, 0.95, 'lower').upper).toBe(1);
  });
  it('covers the true proportion at least at its confidence (simulation)', () => {
    const rng = new Rng('cp-coverage');
    const p = 0.07;
    const n = 60;
    let covered = 0;
    const trials = 2000;
    for (let t = 0; t < trials; t++) {
      let k = 0;
      for (let i = 0; i < n; i++) k += rng.bernoulli(p) ? 1 : 0;
      const ci = clopperPearson(k, n, 0.9);
      if (ci.lower <= p && p <= ci.upper) covered++;
    }
    expect(covered / trials).toBeGreaterThanOrEqual(0.9 - 0.015);
  });
  it('rejects impossible counts', () => {
    expect(() => clopperPearson(11, 10)).toThrow(/0 <= k <= n/);
  });
});

describe('bootstrap intervals', () => {
  it('contain the point estimate, are reproducible with a seed, and cover 0.5 for random scores', () => {
    const rng = new Rng('boot-data');
    const m = Array.from({ length: 300 }, () => rng.normal());
    const n = Array.from({ length: 300 }, () => rng.normal());
    const stat = (a: Float64Array, b: Float64Array) => ({ auc: rocAuc(rocCurve(a, b)) });
    const first = bootstrapIntervals(m, n, stat, { rng: new Rng('b'), resamples: 200 });
    const second = bootstrapIntervals(m, n, stat, { rng: new Rng('b'), resamples: 200 });
    expect(first).toEqual(second);
    const point = rocAuc(rocCurve(m, n));
    expect(first.auc.lower).toBeLessThanOrEqual(point);
    expect(first.auc.upper).toBeGreaterThanOrEqual(point);
    expect(first.auc.lower).toBeLessThan(0.5);
    expect(first.auc.upper).toBeGreaterThan(0.5);
  });
  it('attackMetrics attaches intervals for AUC and every reported FPR', () => {
    const rng = new Rng('am');
    const m = Array.from({ length: 200 }, () => rng.normal() + 2);
    const n = Array.from({ length: 200 }, () => rng.normal());
    const metrics = attackMetrics(m, n, { bootstrap: { rng: new Rng('x'), resamples: 100 } });
    expect(metrics.auc).toBeGreaterThan(0.85);
    expect(metrics.aucInterval!.lower).toBeGreaterThan(0.8);
    expect(Object.keys(metrics.tprAtFprInterval!)).toEqual(['0.001', '0.01', '0.1']);
  });
});

describe('ROC thinning', () => {
  it('keeps the ends and the low-FPR region', () => {
    const rng = new Rng('thin');
    const roc = rocCurve(Array.from({ length: 1000 }, () => rng.normal() + 1), Array.from({ length: 1000 }, () => rng.normal()));
    const thin = thinRoc(roc, 100);
    expect(thin.fpr.length).toBeLessThanOrEqual(100);
    expect(thin.fpr[0]).toBe(0);
    expect(thin.fpr[thin.fpr.length - 1]).toBe(1);
    expect(thin.tpr[thin.tpr.length - 1]).toBe(1);
    for (let i = 1; i < thin.fpr.length; i++) expect(thin.fpr[i]!).toBeGreaterThanOrEqual(thin.fpr[i - 1]!);
  });
});
