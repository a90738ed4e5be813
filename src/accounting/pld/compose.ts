/**
 * Composition of discrete PLDs by FFT: the PLD of a composition is the convolution of the PLDs,
 * so each factor's spectrum is raised to its step count and the spectra are multiplied
 * (dp_accounting pld/common.py self_convolve; Koskela, Jalko, Honkela 2020).
 *
 * The composed support is far wider than where the mass is, so the FFT covers only a window
 * [lo, hi] outside which a Chernoff bound puts at most TAIL_MASS on each side. The window is
 * circular: mass below it wraps to the top (which only raises delta) and mass above it wraps to
 * the bottom; that upper tail's bound is added to the +Infinity mass, so the result stays an upper
 * bound on delta.
 */
import FFT from 'fft.js';
import type { LossPmf } from './pmf.js';

/** Bound on the truncated mass on each side (dp_accounting's tail_mass_truncation). */
const TAIL_MASS = 1e-15;

export interface PmfPower {
  pmf: LossPmf;
  times: number;
}

/**
 * log sum_k p_k e^{lambda l_k} over the finite part. The weights are a geometric sequence on the
 * grid, so a Horner pass from the far end (relative to the largest weight, no overflow) needs one
 * exp per lambda instead of one per grid point.
 */
function logMgf(pmf: LossPmf, lambda: number): number {
  const { probs, offset, h } = pmf;
  const n = probs.length;
  const ratio = Math.exp(-Math.abs(lambda) * h);
  let acc = 0;
  if (lambda >= 0) {
    for (let k = 0; k < n; k++) acc = acc * ratio + probs[k]!; // sum p_k e^{lambda (l_k - l_top)}
    return acc > 0 ? lambda * (offset + n - 1) * h + Math.log(acc) : -Infinity;
  }
  for (let k = n - 1; k >= 0; k--) acc = acc * ratio + probs[k]!; // sum p_k e^{lambda (l_k - l_bottom)}
  return acc > 0 ? lambda * offset * h + Math.log(acc) : -Infinity;
}

/** Chernoff exponents tried: lambda in [1e-2, 1e4], geometric. */
const LAMBDAS = Array.from({ length: 49 }, (_, i) => 1e-2 * 10 ** (i / 8));

/** Loss-index window [lo, hi] holding all but TAIL_MASS of the composed finite mass on each side. */
function chernoffWindow(factors: PmfPower[]): { lo: number; hi: number } {
  const h = factors[0]!.pmf.h;
  let minSupport = 0;
  let maxSupport = 0;
  for (const { pmf, times } of factors) {
    minSupport += times * pmf.offset;
    maxSupport += times * (pmf.offset + pmf.probs.length - 1);
  }
  const logTail = Math.log(TAIL_MASS);
  let hiLoss = Infinity;
  let loLoss = -Infinity;
  for (const lambda of LAMBDAS) {
    let up = 0;
    let down = 0;
    for (const { pmf, times } of factors) {
      up += times * logMgf(pmf, lambda);
      down += times * logMgf(pmf, -lambda);
    }
    // P(S >= t) <= e^{-lambda t} M(lambda)^T  and  P(S <= t) <= e^{lambda t} M(-lambda)^T.
    hiLoss = Math.min(hiLoss, (up - logTail) / lambda);
    loLoss = Math.max(loLoss, (logTail - down) / lambda);
  }
  const hi = Math.min(maxSupport, Math.ceil(hiLoss / h));
  const lo = Math.max(minSupport, Math.min(hi, Math.floor(loLoss / h)));
  return { lo, hi };
}

const fftCache = new Map<number, FFT>();
function fftOf(size: number): FFT {
  let f = fftCache.get(size);
  if (!f) {
    f = new FFT(size);
    fftCache.set(size, f);
    if (fftCache.size > 4) fftCache.delete(fftCache.keys().next().value!);
  }
  return f;
}

/** The PLD of the composition of every factor `pmf`, each `times` times. All factors share h. */
export function composePmfs(factors: PmfPower[]): LossPmf {
  const live = factors.filter((f) => f.times > 0);
  if (live.length === 0) throw new RangeError('composePmfs: nothing to compose');
  const h = live[0]!.pmf.h;
  if (live.some((f) => f.pmf.h !== h)) throw new RangeError('composePmfs: factors must share the discretization interval');

  let logFinite = 0; // log P(no factor hit +Infinity)
  for (const { pmf, times } of live) logFinite += times * Math.log1p(-pmf.infinityMass);
  const infinityMass = Math.min(1, -Math.expm1(logFinite) + TAIL_MASS);
  if (live.length === 1 && live[0]!.times === 1) return { ...live[0]!.pmf, infinityMass: live[0]!.pmf.infinityMass };

  const { lo, hi } = chernoffWindow(live);
  let size = 2;
  while (size < hi - lo + 1) size *= 2;
  const fft = fftOf(size);

  // Running product of the spectra, interleaved re/im.
  const acc = new Float64Array(2 * size);
  for (let i = 0; i < size; i++) acc[2 * i] = 1;
  const input = new Float64Array(size);
  const spectrum = new Float64Array(2 * size);
  let base = 0; // loss index of the composition's position 0
  for (const { pmf, times } of live) {
    base += times * pmf.offset;
    input.fill(0);
    // Circular convolution modulo `size` of the wrapped inputs is the wrapped linear convolution.
    for (let k = 0; k < pmf.probs.length; k++) input[k % size] += pmf.probs[k]!;
    fft.realTransform(spectrum, input);
    // Real input: only bins 0..size/2 are needed; the rest are their conjugates.
    for (let b = 0; b <= size / 2; b++) {
      const re = spectrum[2 * b]!;
      const im = spectrum[2 * b + 1]!;
      // z^T in polar form: |z|^T e^{i T arg z}.
      const r = Math.hypot(re, im);
      let pr: number;
      let pi: number;
      if (r === 0) {
        pr = 0;
        pi = 0;
      } else {
        const mag = Math.exp(times * Math.log(r));
        const ang = times * Math.atan2(im, re);
        pr = mag * Math.cos(ang);
        pi = mag * Math.sin(ang);
      }
      const ar = acc[2 * b]!;
      const ai = acc[2 * b + 1]!;
      acc[2 * b] = ar * pr - ai * pi;
      acc[2 * b + 1] = ar * pi + ai * pr;
    }
  }
  for (let b = size / 2 + 1; b < size; b++) {
    acc[2 * b] = acc[2 * (size - b)]!;
    acc[2 * b + 1] = -acc[2 * (size - b) + 1]!;
  }
  const out = new Float64Array(2 * size);
  fft.inverseTransform(out, acc);

  // Position m holds loss index base + m (mod size); read the window [lo, lo + size - 1].
  const probs = new Float64Array(size);
  const shift = (((lo - base) % size) + size) % size;
  for (let j = 0; j < size; j++) {
    const v = out[2 * ((j + shift) % size)]!;
    probs[j] = v > 0 ? v : 0; // FFT round-off can leave tiny negatives
  }
  return trimPmf({ h, offset: lo, probs, infinityMass });
}

/** Drops the all-zero ends of a PMF (no mass moves). */
function trimPmf(pmf: LossPmf): LossPmf {
  let a = 0;
  let b = pmf.probs.length - 1;
  while (a < b && pmf.probs[a] === 0) a++;
  while (b > a && pmf.probs[b] === 0) b--;
  if (a === 0 && b === pmf.probs.length - 1) return pmf;
  return { ...pmf, offset: pmf.offset + a, probs: pmf.probs.slice(a, b + 1) };
}
