/**
 * The accounting contract: what the trainer, the ledger and the CLI exchange. Every mechanism here
 * is the Poisson-subsampled Gaussian under add-or-remove-one adjacency (DP-SGD with Poisson
 * sampling, noise N(0, sigma^2 C^2) on the sum of gradients clipped to C).
 */

/** `steps` applications of the subsampled Gaussian with sampling rate q and noise multiplier sigma. */
export interface Segment {
  samplingRate: number;
  noiseMultiplier: number;
  steps: number;
}

export type AccountantName = 'rdp' | 'pld';
export const accountantNames: readonly AccountantName[] = ['rdp', 'pld'];

/**
 * RDP -> (epsilon, delta) conversion.
 * - improved: Balle et al. 2020 Thm 21 / Canonne-Kamath-Steinke 2020 Prop. 12:
 *   eps = rdp(a) + log1p(-1/a) - log(delta * a) / (a - 1)
 * - classic: Mironov 2017 Prop. 3: eps = rdp(a) - log(delta) / (a - 1) (older published numbers)
 */
export type Conversion = 'improved' | 'classic';
export const conversions: readonly Conversion[] = ['improved', 'classic'];

/**
 * How log A_alpha is summed at fractional orders (Mironov, Talwar, Zhang 2019, Sec. 3.3).
 * - exact: the two half-line series with signed binomial terms (Opacus, TF Privacy before 2022,
 *   microsoft/prv_accountant): the exact value.
 * - magnitude-sum: sums |terms|, an upper bound (google dp_accounting since 2024, 0b109e9);
 *   only to reproduce numbers printed by current dp_accounting / TF Privacy.
 */
export type FractionalSeries = 'exact' | 'magnitude-sum';

export interface EpsilonOptions {
  accountant?: AccountantName;
  /** RDP orders (all > 1); default DEFAULT_RDP_ORDERS. */
  orders?: number[];
  conversion?: Conversion;
  /** RDP only: fractional-order series (default exact). */
  fractionalSeries?: FractionalSeries;
  /** PLD only: width of the privacy-loss grid (default 1e-4, dp_accounting's default). */
  valueDiscretization?: number;
}

export interface EpsilonResult {
  epsilon: number;
  delta: number;
  accountant: AccountantName;
  /** RDP only: the order at which the conversion attains its minimum. */
  optimalOrder?: number;
  /** Human lines for stderr, e.g. the optimal order sits at the edge of the order grid. */
  warnings?: string[];
}
