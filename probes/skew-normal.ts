/**
 * The skew-normal distribution and its maximum-likelihood fit, for extrapolated exposure
 * (Carlini et al. 2019, "The Secret Sharer", section 4.3; reference/probes.md 2.1):
 *
 *   rho(x) = (2/omega) phi(z) Phi(alpha z),  z = (x - xi) / omega
 *
 * fitted to the log-perplexities of random candidates, then exposure ~ -log2 CDF(Px(secret)).
 * The normal log-CDF comes from @stdlib (accurate deep in the tail); the skew-normal CDF is the
 * integral of the density, computed in log space so tails far below double precision's smallest
 * number (exposures of hundreds of bits) still come out right.
 */
import normalLogCdf from '@stdlib/stats-base-dists-normal-logcdf';

export interface SkewNormal {
  /** Location. */
  xi: number;
  /** Scale (> 0). */
  omega: number;
  /** Shape: 0 is the normal distribution, > 0 skews right, < 0 skews left. */
  alpha: number;
}

const LN2 = Math.log(2);
const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** log of 2 phi(t) Phi(alpha t): the standardized density. */
function logStdDensity(t: number, alpha: number): number {
  return LN2 - 0.5 * t * t - LN_SQRT_2PI + normalLogCdf(alpha * t, 0, 1);
}

export function skewNormalLogPdf(x: number, d: SkewNormal): number {
  return logStdDensity((x - d.xi) / d.omega, d.alpha) - Math.log(d.omega);
}

/**
 * The mode of the standardized density: the root of g'(t) = -t + alpha phi(alpha t)/Phi(alpha t).
 * g is concave (log phi and log Phi both are), so g' is decreasing and bisection finds it.
 */
function standardizedMode(alpha: number): number {
  const slope = (t: number) => -t + alpha * Math.exp(-0.5 * (alpha * t) ** 2 - LN_SQRT_2PI - normalLogCdf(alpha * t, 0, 1));
  let lo = -2;
  let hi = 2;
  while (slope(lo) < 0) lo *= 2;
  while (slope(hi) > 0) hi *= 2;
  for (let i = 0; i < 100; i++) {
    const mid = 0.5 * (lo + hi);
    if (slope(mid) > 0) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

// 16-point Gauss-Legendre nodes and weights on [-1, 1] (Abramowitz & Stegun, table 25.4).
const GL_X = [
  0.0950125098376374, 0.2816035507792589, 0.4580167776572274, 0.6178762444026438, 0.755404408355003, 0.8656312023878318,
  0.9445750230732326, 0.9894009349916499,
];
const GL_W = [
  0.1894506104550685, 0.1826034150449236, 0.1691565193950025, 0.1495959888165767, 0.1246289712555339, 0.0951585116824928,
  0.0622535239386479, 0.0271524594117541,
];

/**
 * Natural log of the skew-normal CDF at x. The standardized density is log-concave, so the
 * integrand over (-inf, z] peaks at min(z, mode); the integral runs from where the density has
 * fallen e^-60 below that peak (negligible) to z, scaled by the peak so nothing underflows.
 */
export function skewNormalLogCdf(x: number, d: SkewNormal): number {
  const z = (x - d.xi) / d.omega;
  if (z === Infinity) return 0;
  if (z === -Infinity) return -Infinity;
  if (d.alpha === 0) return normalLogCdf(z, 0, 1);
  const peakAt = Math.min(z, standardizedMode(d.alpha));
  const peak = logStdDensity(peakAt, d.alpha);
  // The smallest power-of-two distance at which the density has fallen by e^-60, so the panels
  // below resolve the integrand however sharply it decays.
  let step = 1;
  if (logStdDensity(peakAt - step, d.alpha) < peak - 60) {
    while (step > 1e-12 && logStdDensity(peakAt - step / 2, d.alpha) < peak - 60) step /= 2;
  } else {
    while (logStdDensity(peakAt - step, d.alpha) > peak - 60) step *= 2;
  }
  const lo = peakAt - step;
  // Panels fine enough for the sharpest feature: Phi(alpha t) changes over 1/|alpha|, phi over 1.
  const featureWidth = Math.min(1, 1 / Math.abs(d.alpha));
  const panels = Math.min(20000, Math.max(64, Math.ceil(((z - lo) / featureWidth) * 4)));
  const h = (z - lo) / panels;
  let sum = 0;
  for (let p = 0; p < panels; p++) {
    const mid = lo + (p + 0.5) * h;
    for (let k = 0; k < GL_X.length; k++) {
      const dx = (GL_X[k]! * h) / 2;
      sum += GL_W[k]! * (Math.exp(logStdDensity(mid - dx, d.alpha) - peak) + Math.exp(logStdDensity(mid + dx, d.alpha) - peak));
    }
  }
  const logCdf = peak + Math.log((sum * h) / 2);
  return Math.min(0, logCdf);
}

export function skewNormalCdf(x: number, d: SkewNormal): number {
  return Math.exp(skewNormalLogCdf(x, d));
}

/** Mean, variance and skewness of a skew-normal (for the moment-matching start and for tests). */
export function skewNormalMoments(d: SkewNormal): { mean: number; variance: number; skewness: number } {
  const delta = d.alpha / Math.sqrt(1 + d.alpha * d.alpha);
  const b = delta * Math.sqrt(2 / Math.PI);
  return {
    mean: d.xi + d.omega * b,
    variance: d.omega * d.omega * (1 - b * b),
    skewness: (((4 - Math.PI) / 2) * b ** 3) / (1 - b * b) ** 1.5,
  };
}

/** The largest skewness a skew-normal can have (alpha -> infinity). */
const MAX_SKEWNESS = 0.99527;

/**
 * Method-of-moments estimate (Azzalini 2013, section 3.1.4 inverted): solves the sample
 * skewness for delta, then omega and xi from the variance and mean. Skewness beyond the family's
 * range is clamped just inside it.
 */
export function skewNormalMomentEstimate(values: ArrayLike<number>): SkewNormal {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i]!;
  mean /= n;
  let m2 = 0;
  let m3 = 0;
  for (let i = 0; i < n; i++) {
    const dv = values[i]! - mean;
    m2 += dv * dv;
    m3 += dv * dv * dv;
  }
  m2 /= n;
  m3 /= n;
  const sd = Math.sqrt(m2);
  let g = sd > 0 ? m3 / sd ** 3 : 0;
  g = Math.max(-MAX_SKEWNESS, Math.min(MAX_SKEWNESS, g));
  const g23 = Math.abs(g) ** (2 / 3);
  const absDelta = Math.sqrt((Math.PI / 2) * (g23 / (g23 + ((4 - Math.PI) / 2) ** (2 / 3))));
  const delta = Math.sign(g) * Math.min(absDelta, 0.9999);
  const alpha = delta / Math.sqrt(1 - delta * delta);
  const b = delta * Math.sqrt(2 / Math.PI);
  const omega = sd > 0 ? sd / Math.sqrt(1 - b * b) : 1e-12;
  return { xi: mean - omega * b, omega, alpha };
}

export function skewNormalLogLikelihood(values: ArrayLike<number>, d: SkewNormal): number {
  let ll = 0;
  for (let i = 0; i < values.length; i++) ll += skewNormalLogPdf(values[i]!, d);
  return ll;
}

/**
 * Maximum-likelihood fit (as scipy.stats.skewnorm.fit, which the TF Privacy secret-sharer code
 * calls): Nelder-Mead on (xi, log omega, alpha) over standardized data, started from the
 * moment estimate and from the normal fit, keeping the better optimum. The skew-normal's
 * likelihood can increase without bound in alpha for nearly half-normal samples, so alpha is kept
 * within +-50 (beyond that the shape no longer changes visibly).
 */
export function fitSkewNormal(values: ArrayLike<number>): SkewNormal {
  const n = values.length;
  if (n < 3) throw new RangeError(`fitSkewNormal: need at least 3 values, got ${n}`);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i]!;
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (values[i]! - mean) ** 2;
  const sd = Math.sqrt(v / n);
  if (!(sd > 0) || !Number.isFinite(sd)) throw new RangeError('fitSkewNormal: values must be finite and not all equal');
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) z[i] = (values[i]! - mean) / sd;

  const ALPHA_MAX = 50;
  const negLogLik = (p: readonly number[]): number => {
    const [xi, logOmega, alpha] = p as [number, number, number];
    if (Math.abs(alpha) > ALPHA_MAX || Math.abs(logOmega) > 20) return Infinity;
    const ll = skewNormalLogLikelihood(z, { xi, omega: Math.exp(logOmega), alpha });
    return Number.isFinite(ll) ? -ll : Infinity;
  };
  const mom = skewNormalMomentEstimate(z);
  const starts = [
    [mom.xi, Math.log(mom.omega), Math.max(-ALPHA_MAX + 1, Math.min(ALPHA_MAX - 1, mom.alpha))],
    [0, 0, 0],
  ];
  let best: { x: number[]; f: number } | undefined;
  for (const start of starts) {
    const r = nelderMead(negLogLik, start, 0.5);
    if (!best || r.f < best.f) best = r;
  }
  // A restart from the optimum guards against Nelder-Mead's premature collapse.
  const restart = nelderMead(negLogLik, best!.x, 0.1);
  if (restart.f < best!.f) best = restart;
  const [xi, logOmega, alpha] = best!.x as [number, number, number];
  return { xi: mean + sd * xi, omega: sd * Math.exp(logOmega), alpha };
}

/**
 * Nelder-Mead simplex minimization (Nelder & Mead 1965; standard coefficients 1, 2, 0.5, 0.5),
 * stopping when the simplex's function values agree to 1e-9 (relative) and its vertices to 1e-7.
 */
function nelderMead(f: (x: readonly number[]) => number, start: readonly number[], size: number, maxIter = 5000): { x: number[]; f: number } {
  const dim = start.length;
  let simplex: { x: number[]; f: number }[] = [{ x: [...start], f: f(start) }];
  for (let i = 0; i < dim; i++) {
    const x = [...start];
    x[i] = x[i]! + size;
    simplex.push({ x, f: f(x) });
  }
  const combine = (a: number[], b: number[], t: number) => a.map((ai, i) => ai + t * (b[i]! - ai));
  for (let iter = 0; iter < maxIter; iter++) {
    simplex.sort((a, b) => a.f - b.f);
    const bestV = simplex[0]!;
    const worst = simplex[dim]!;
    const spread = Math.abs(worst.f - bestV.f);
    const extent = Math.max(...simplex.slice(1).map((s) => Math.max(...s.x.map((xi, i) => Math.abs(xi - bestV.x[i]!)))));
    if (spread <= 1e-9 * (1 + Math.abs(bestV.f)) && extent <= 1e-7) break;
    const centroid = new Array<number>(dim).fill(0);
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) centroid[j]! += simplex[i]!.x[j]! / dim;
    const reflected = combine(centroid, worst.x, -1);
    const fr = f(reflected);
    if (fr < bestV.f) {
      const expanded = combine(centroid, worst.x, -2);
      const fe = f(expanded);
      simplex[dim] = fe < fr ? { x: expanded, f: fe } : { x: reflected, f: fr };
    } else if (fr < simplex[dim - 1]!.f) {
      simplex[dim] = { x: reflected, f: fr };
    } else {
      const outside = fr < worst.f;
      const contracted = combine(centroid, outside ? reflected : worst.x, 0.5);
      const fc = f(contracted);
      if (fc < Math.min(fr, worst.f)) {
        simplex[dim] = { x: contracted, f: fc };
      } else {
        simplex = simplex.map((s, i) => {
          if (i === 0) return s;
          const x = combine(bestV.x, s.x, 0.5);
          return { x, f: f(x) };
        });
      }
    }
  }
  simplex.sort((a, b) => a.f - b.f);
  return simplex[0]!;
}
