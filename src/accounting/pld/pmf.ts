/**
 * A discrete privacy loss distribution: P-mass `probs[k]` at loss (offset + k) * h, plus mass at
 * +Infinity (outcomes that break privacy outright, and every mass cut off pessimistically).
 * delta(eps) = infinityMass + sum_{l_k > eps} probs[k] (1 - e^{eps - l_k}).
 */
export interface LossPmf {
  /** Grid step of the privacy loss (value discretization interval). */
  h: number;
  /** Loss index of probs[0]. */
  offset: number;
  probs: Float64Array;
  infinityMass: number;
}

/** delta(eps) of a discrete PLD. */
export function pmfDeltaForEpsilon(pmf: LossPmf, epsilon: number): number {
  const { h, offset, probs } = pmf;
  let delta = pmf.infinityMass;
  const first = Math.max(0, Math.floor(epsilon / h) - offset);
  for (let k = probs.length - 1; k >= first; k--) {
    const loss = (offset + k) * h;
    if (loss > epsilon) delta += probs[k]! * -Math.expm1(epsilon - loss);
  }
  return Math.min(1, delta);
}

/**
 * Smallest eps >= 0 with delta(eps) <= delta. delta(eps) is piecewise of the form
 * a - b e^eps between grid points, so scanning down from the top with running sums gives the
 * exact crossing: S = sum_{i>j} p_i, D_j = sum_{i>j} p_i e^{l_j - l_i}, delta(l_j) = inf + S - D_j.
 */
export function pmfEpsilonForDelta(pmf: LossPmf, delta: number): number {
  const { h, offset, probs } = pmf;
  if (pmf.infinityMass > delta) return Infinity;
  const decay = Math.exp(-h);
  let tail = 0; // S: P-mass strictly above the current grid point
  let weighted = 0; // D_j
  for (let k = probs.length - 1; k >= 0; k--) {
    // Move from grid point k + 1 to k: D_k = e^{-h} (D_{k+1} + p_{k+1}); here p_{k+1} is already in `tail`.
    const dAtK = k === probs.length - 1 ? 0 : weighted;
    const deltaAtK = pmf.infinityMass + tail - dAtK;
    if (deltaAtK > delta) {
      // The crossing lies in [l_k, l_{k+1}): delta(eps) = inf + S - e^{eps - l_k} D_k.
      const eps = (offset + k) * h + Math.log((pmf.infinityMass + tail - delta) / dAtK);
      return Math.max(0, eps);
    }
    weighted = decay * (dAtK + probs[k]!);
    tail += probs[k]!;
  }
  // Below the lowest grid point every mass is above eps: delta(eps) = inf + S - e^{eps - l_0} D_{-1}.
  if (tail === 0) return 0;
  const l0 = offset * h;
  const eps = l0 - h + Math.log((pmf.infinityMass + tail - delta) / weighted);
  return Math.max(0, Number.isFinite(eps) ? eps : 0);
}
