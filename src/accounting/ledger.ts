/**
 * PrivacyLedger: the running privacy account of one DP-SGD training run. The trainer adds steps
 * as it takes them; the RDP curve is kept incrementally (one cached curve per distinct (q, sigma)),
 * so the RDP epsilon costs one pass over the orders and can be read every step. toJSON() gives
 * privacy.json with the final epsilon by both accountants.
 */
import { DEFAULT_RDP_ORDERS } from './orders.js';
import { computeEpsilon } from './epsilon.js';
import { rdpCurve, rdpToEpsilon } from './rdp.js';
import type { PrivacyLedgerFile } from './privacyFile.js';
import type { AccountantName, Segment } from './types.js';
import { checkDelta, checkNoiseMultiplier, checkSamplingRate, checkSteps } from './validate.js';
import { UsageError } from '../core/errors.js';

/** The history is thinned (every other point dropped, stride doubled) past this many points. */
const HISTORY_LIMIT = 200;

export interface PrivacyLedgerInit {
  datasetSize: number;
  delta: number;
  clipNorm: number;
  noiseSource: 'csprng' | 'seeded';
  /** The accountant reported as "epsilon" (default rdp: the cheap one, and the larger). */
  accountant?: AccountantName;
}

export class PrivacyLedger {
  private readonly init: Required<PrivacyLedgerInit>;
  private readonly segs: Segment[] = [];
  private readonly orders = DEFAULT_RDP_ORDERS;
  private readonly rdp = new Float64Array(DEFAULT_RDP_ORDERS.length);
  private readonly curves = new Map<string, Float64Array>();
  private total = 0;
  private history: { step: number; epsilon: number }[] = [];
  private stride = 1;
  private pldCache: { steps: number; segments: number; epsilon: number } | undefined;

  constructor(init: PrivacyLedgerInit) {
    if (!(Number.isSafeInteger(init.datasetSize) && init.datasetSize >= 1)) {
      throw new UsageError(`dataset size must be a positive integer, got ${init.datasetSize}`);
    }
    checkDelta(init.delta);
    if (!(Number.isFinite(init.clipNorm) && init.clipNorm > 0)) throw new UsageError(`clip norm must be > 0, got ${init.clipNorm}`);
    this.init = { accountant: 'rdp', ...init };
  }

  /** Records `steps` steps at (q, sigma); merges with the last segment when q and sigma are equal. */
  addSteps(samplingRate: number, noiseMultiplier: number, steps = 1): void {
    checkSamplingRate(samplingRate);
    checkNoiseMultiplier(noiseMultiplier);
    checkSteps(steps);
    if (steps === 0) return;
    const last = this.segs[this.segs.length - 1];
    if (last && last.samplingRate === samplingRate && last.noiseMultiplier === noiseMultiplier) last.steps += steps;
    else this.segs.push({ samplingRate, noiseMultiplier, steps });
    const curve = this.curveFor(samplingRate, noiseMultiplier);
    for (let k = 0; k < this.rdp.length; k++) this.rdp[k] += steps * curve[k]!;
    const before = this.total;
    this.total += steps;
    if (Math.floor(before / this.stride) !== Math.floor(this.total / this.stride)) this.record();
  }

  get steps(): number {
    return this.total;
  }

  segments(): Segment[] {
    return this.segs.map((s) => ({ ...s }));
  }

  /** Epsilon so far at the ledger's delta. RDP is O(orders); PLD runs the FFT accountant (cached per state). */
  epsilon(accountant: AccountantName = this.init.accountant): number {
    if (this.total === 0) return 0;
    if (accountant === 'rdp') return rdpToEpsilon(this.rdp, this.orders, this.init.delta).epsilon;
    const c = this.pldCache;
    if (c && c.steps === this.total && c.segments === this.segs.length) return c.epsilon;
    const epsilon = computeEpsilon(this.segs, this.init.delta, { accountant: 'pld' }).epsilon;
    this.pldCache = { steps: this.total, segments: this.segs.length, epsilon };
    return epsilon;
  }

  toJSON(): PrivacyLedgerFile {
    const last = this.segs[this.segs.length - 1];
    if (!last) throw new Error('PrivacyLedger.toJSON: no DP steps were recorded');
    const rdp = rdpToEpsilon(this.rdp, this.orders, this.init.delta);
    const history = this.history.slice();
    if (history[history.length - 1]?.step !== this.total) history.push({ step: this.total, epsilon: rdp.epsilon });
    return {
      version: 1,
      dp: true,
      mechanism: 'poisson-subsampled-gaussian',
      neighboring: 'add-or-remove-one',
      sampler: 'poisson',
      datasetSize: this.init.datasetSize,
      samplingRate: last.samplingRate,
      expectedBatchSize: last.samplingRate * this.init.datasetSize,
      noiseMultiplier: last.noiseMultiplier,
      clipNorm: this.init.clipNorm,
      steps: this.total,
      delta: this.init.delta,
      segments: this.segments(),
      epsilon: { rdp: rdp.epsilon, pld: this.epsilon('pld') },
      optimalOrder: rdp.optimalOrder,
      accountant: this.init.accountant,
      noiseSource: this.init.noiseSource,
      epsilonHistory: history,
    };
  }

  private curveFor(q: number, sigma: number): Float64Array {
    const key = `${q},${sigma}`;
    let curve = this.curves.get(key);
    if (!curve) {
      curve = rdpCurve(q, sigma, this.orders);
      this.curves.set(key, curve);
    }
    return curve;
  }

  /** Appends the current RDP epsilon; past HISTORY_LIMIT points keeps every other one and doubles the stride. */
  private record(): void {
    this.history.push({ step: this.total, epsilon: rdpToEpsilon(this.rdp, this.orders, this.init.delta).epsilon });
    if (this.history.length > HISTORY_LIMIT) {
      this.stride *= 2;
      this.history = this.history.filter((p) => p.step % this.stride === 0);
    }
  }
}
