import { describe, expect, it } from 'vitest';
import { exposureInterval, medianUnbiasedExposure, plannedSampleSizes, pointExposure, sampleUntilResolved, straddles, type SamplingPlan } from '../../probes/exposure-interval.js';
import { Rng } from '../../src/core/rng.js';

const log2Size = 24;
const plan = (over: Partial<SamplingPlan> = {}): SamplingPlan => ({ samples: 2000, maxSamples: 20000, maxBits: 10, confidence: 0.9999, log2Size, ...over });

/**
 * A synthetic scorer whose ranks are known: candidate i of the space (uniform on [0, 2^24)) is at
 * least as likely as the secret exactly when i < rank, so a draw counts with probability rank / |R|.
 */
function knownRank(rank: number, rng: Rng) {
  let drawn = 0;
  const draw = async (count: number): Promise<number> => {
    drawn += count;
    let k = 0;
    for (let j = 0; j < count; j++) if (rng.int(2 ** log2Size) < rank) k++;
    return k;
  };
  return { draw, drawn: () => drawn };
}

describe('exposure intervals from uniform samples', () => {
  it('maps a Clopper-Pearson interval on rank / |R| to bits; no sample at or above the secret leaves the upper end at log2|R|', () => {
    const mid = exposureInterval({ atLeastAsLikely: 500, samples: 2000 }, log2Size, 0.95);
    expect(mid.lower).toBeLessThan(2);
    expect(mid.upper).toBeGreaterThan(2);
    expect(mid.upper - mid.lower).toBeLessThan(0.3);
    const none = exposureInterval({ atLeastAsLikely: 0, samples: 2000 }, log2Size, 0.9999);
    expect(none.upper).toBe(log2Size);
    // k = 0: pU = 1 - (alpha/2)^(1/M), so the lower end is -log2 of it.
    expect(none.lower).toBeCloseTo(-Math.log2(1 - (0.0001 / 2) ** (1 / 2000)), 6);
    expect(straddles(none, 10)).toBe(true);
  });

  it('a canary never beaten by a sample gets a point inside its interval, never log2|R|', () => {
    const count = { atLeastAsLikely: 0, samples: 16000 };
    const interval = exposureInterval(count, log2Size, 0.9999);
    // The importance estimator finds nothing below the secret: its estimate is the maximum, log2|R|.
    const point = pointExposure(log2Size, count, interval, log2Size);
    expect(point).toBeLessThan(log2Size - 1);
    expect(point).toBeGreaterThanOrEqual(interval.lower);
    expect(point).toBeCloseTo(medianUnbiasedExposure(count, log2Size), 12);
    // An estimate inside the interval is kept; one outside it is clipped to the nearer end.
    expect(pointExposure(15, count, interval, log2Size)).toBe(15);
    expect(pointExposure(3, count, interval, log2Size)).toBe(interval.lower);
  });

  it('adaptive sampling: a memorized canary resolves above maxBits, a null one below at the first look, the budget caps the rest', async () => {
    const memorized = knownRank(1, new Rng('m'));
    const high = await sampleUntilResolved(memorized.draw, plan());
    expect(high.interval.lower).toBeGreaterThan(10);
    expect(high.interval.upper).toBe(log2Size);
    expect(high.count.samples).toBe(16000);
    expect(memorized.drawn()).toBe(16000);

    const unmemorized = knownRank(2 ** (log2Size - 1.4), new Rng('n'));
    const low = await sampleUntilResolved(unmemorized.draw, plan());
    expect(low.interval.upper).toBeLessThan(10);
    expect(low.count.samples).toBe(2000);

    const capped = knownRank(1, new Rng('c'));
    const open = await sampleUntilResolved(capped.draw, plan({ maxSamples: 8000 }));
    expect(straddles(open.interval, 10)).toBe(true);
    expect(capped.drawn()).toBe(8000);
    expect(plannedSampleSizes(2000, 20000)).toEqual([2000, 4000, 8000, 16000, 20000]);
    expect(plannedSampleSizes(5000, 2000)).toEqual([5000]);
  });

  it('covers the true exposure at least as often as its confidence, adaptive stopping included (500 canaries of known rank)', async () => {
    const rng = new Rng('coverage');
    for (const confidence of [0.9, 0.9999]) {
      let covered = 0;
      const n = 500;
      for (let c = 0; c < n; c++) {
        // True exposures spread over 0-20 bits, many near maxBits where sampling adapts.
        const trueBits = 20 * rng.next();
        const rank = Math.max(1, Math.round(2 ** (log2Size - trueBits)));
        const truth = log2Size - Math.log2(rank);
        const { interval } = await sampleUntilResolved(knownRank(rank, rng.fork(`c${c}`)).draw, plan({ samples: 200, maxSamples: 3200, confidence }));
        if (interval.lower <= truth + 1e-9 && truth <= interval.upper + 1e-9) covered++;
      }
      console.log(`exposure interval coverage at ${confidence}: ${covered}/${n}`);
      expect(covered / n).toBeGreaterThanOrEqual(confidence - 0.03);
    }
  });
});
