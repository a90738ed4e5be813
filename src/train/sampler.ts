/**
 * Poisson sampling (the sampling the subsampled-Gaussian accountant assumes): each example joins
 * the batch independently with probability q, so batch sizes vary and may be 0 (the step still
 * runs: noise only). Implemented with geometric gaps, O(batch) per step rather than O(n).
 */
import type { Rng } from '../core/rng.js';

export function poissonSample(n: number, q: number, rng: Rng): number[] {
  if (!(q > 0 && q <= 1)) throw new RangeError(`sampling rate must be in (0, 1], got ${q}`);
  const out: number[] = [];
  if (q === 1) {
    for (let i = 0; i < n; i++) out.push(i);
    return out;
  }
  // Gap to the next selected index ~ Geometric(q): floor(log U / log(1 - q)), U in (0, 1].
  const logOneMinusQ = Math.log1p(-q);
  let i = -1;
  for (;;) {
    const u = 1 - rng.next(); // (0, 1]
    i += 1 + Math.floor(Math.log(u) / logOneMinusQ);
    if (i >= n) return out;
    out.push(i);
  }
}

/** Fixed-size batches from reshuffled epochs (non-private baselines). */
export class ShuffledBatches {
  private order: number[] = [];
  private pos = 0;

  constructor(
    private readonly n: number,
    private readonly batchSize: number,
    private readonly rng: Rng,
  ) {}

  next(): number[] {
    const out: number[] = [];
    while (out.length < Math.min(this.batchSize, this.n)) {
      if (this.pos >= this.order.length) {
        this.order = this.rng.shuffle([...Array(this.n).keys()]);
        this.pos = 0;
      }
      out.push(this.order[this.pos++]!);
    }
    return out.sort((a, b) => a - b);
  }
}
