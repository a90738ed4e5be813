/**
 * The privacy loss of ONE step of the Poisson-subsampled Gaussian (sensitivity 1, noise sigma,
 * sampling rate q), in both directions of add-or-remove-one adjacency (as google dp_accounting,
 * privacy_loss_mechanism.GaussianPrivacyLoss):
 *
 * - remove: P = (1-q) N(0, s^2) + q N(1, s^2) (the record is in), Q = N(0, s^2);
 *           L(x) = g(x) = log(1 - q + q exp((2x - 1) / (2 s^2))), increasing in x.
 * - add:    P = N(0, s^2), Q = the mixture; L(x) = -g(x), decreasing in x, at most -log(1-q).
 *
 * delta(eps) = E_P[(1 - e^{eps - L})_+] (the hockey-stick divergence) is exact here; the PLD
 * discretization uses the interval masses below. For q < 1 the two directions differ, and
 * add-or-remove DP must take the larger.
 */
import erfc from '@stdlib/math-base-special-erfc';
import { logAdd } from '../logmath.js';

export type Direction = 'remove' | 'add';

/** Standard normal upper and lower tails through erfc, each accurate far into its own tail. */
export function normalUpper(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}
export function normalLower(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** P(a < Z <= b) for a standard normal Z, without cancellation in either tail. */
export function normalMass(a: number, b: number): number {
  if (!(b > a)) return 0;
  if (a >= 0) return normalUpper(a) - normalUpper(b);
  if (b <= 0) return normalLower(b) - normalLower(a);
  return 1 - normalLower(a) - normalUpper(b);
}

export class SubsampledGaussianLoss {
  readonly q: number;
  readonly sigma: number;
  readonly direction: Direction;
  private readonly log1mQ: number;
  private readonly logQ: number;

  constructor(q: number, sigma: number, direction: Direction) {
    this.q = q;
    this.sigma = sigma;
    this.direction = direction;
    this.log1mQ = Math.log1p(-q);
    this.logQ = Math.log(q);
  }

  /** g(x) = log(1 - q + q exp((2x - 1)/(2 s^2))). */
  g(x: number): number {
    const t = (2 * x - 1) / (2 * this.sigma * this.sigma);
    return this.q === 1 ? t : logAdd(this.log1mQ, this.logQ + t);
  }

  /** x with g(x) = l; -Infinity for l <= log(1 - q). */
  gInverse(l: number): number {
    const s2 = this.sigma * this.sigma;
    if (this.q === 1) return s2 * l + 0.5;
    const inner = Math.expm1(l) + this.q; // e^l - (1 - q)
    if (!(inner > 0)) return -Infinity;
    return s2 * (Math.log(inner) - this.logQ) + 0.5;
  }

  /** Privacy loss at outcome x. */
  loss(x: number): number {
    return this.direction === 'remove' ? this.g(x) : -this.g(x);
  }

  /** Supremum of the loss (Infinity for remove, -log(1-q) for add with q < 1). */
  get maxLoss(): number {
    return this.direction === 'add' && this.q < 1 ? -this.log1mQ : Infinity;
  }

  /** Infimum of the loss (log(1-q) for remove with q < 1, -Infinity otherwise). */
  get minLoss(): number {
    return this.direction === 'remove' && this.q < 1 ? this.log1mQ : -Infinity;
  }

  /**
   * Masses under P and under Q of the outcomes whose loss lies in (lo, hi]. Loss is monotone in x,
   * so this is an x-interval; the mixture component N(1, s^2) is the shifted standard normal.
   */
  intervalMasses(lo: number, hi: number): { p: number; q: number } {
    const s = this.sigma;
    // gInverse maps +-Infinity and losses outside the range of g to +-Infinity, so the
    // unbounded ends need no special case.
    const [xa, xb] =
      this.direction === 'remove'
        ? [this.gInverse(lo), this.gInverse(hi)] // L = g(x) in (lo, hi]
        : [this.gInverse(-hi), this.gInverse(-lo)]; // L = -g(x) in (lo, hi]  <=>  g(x) in [-hi, -lo)
    const base = normalMass(xa / s, xb / s); // N(0, s^2)
    const shifted = normalMass((xa - 1) / s, (xb - 1) / s); // N(1, s^2)
    const mixture = (1 - this.q) * base + this.q * shifted;
    return this.direction === 'remove' ? { p: mixture, q: base } : { p: base, q: mixture };
  }

  /** Exact hockey-stick divergence delta(eps) of one step in this direction. */
  deltaForEpsilon(epsilon: number): number {
    if (epsilon >= this.maxLoss) return 0;
    if (epsilon <= this.minLoss) return -Math.expm1(epsilon); // every outcome has loss > eps
    const above = this.intervalMasses(epsilon, Infinity);
    return Math.max(0, above.p - Math.exp(epsilon) * above.q);
  }
}
