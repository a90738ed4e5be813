/**
 * The clip factors of DP-SGD's per-example clipping, shared by the clipping engine (records) and
 * the self-audit's gradient canaries, so both go through the same arithmetic.
 */

/** c_i = min(1, C / ||g_i||) * scale; an example whose norm is not finite contributes nothing (c_i = 0). */
export function clipFactors(norms: Float32Array, clipNorm: number, scale = 1): Float32Array {
  const c = new Float32Array(norms.length);
  for (let i = 0; i < norms.length; i++) {
    const n = norms[i]!;
    c[i] = Number.isFinite(n) ? Math.min(1, clipNorm / Math.max(n, 1e-12)) * scale : 0;
  }
  return c;
}
