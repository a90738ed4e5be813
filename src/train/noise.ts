/**
 * Gaussian noise for DP-SGD. By default from the OS CSPRNG (node:crypto): tfjs's randomNormal
 * is seeded from Math.random and not cryptographic. With --seed the noise comes from the run's
 * seeded generator, reproducibly, and the ledger records noiseSource "seeded" (not for
 * production).
 */
import { randomFillSync } from 'node:crypto';
import type { Rng } from '../core/rng.js';

export type NoiseSourceKind = 'csprng' | 'seeded';

export interface GaussianSource {
  readonly kind: NoiseSourceKind;
  /** Fills `out` with independent N(0, std^2) samples. */
  fill(out: Float32Array, std: number): void;
}

const TWO_POW_53 = 2 ** 53;

/** Box-Muller on 53-bit uniforms drawn from the CSPRNG in 64 KiB chunks. */
export function csprngGaussian(): GaussianSource {
  const words = new Uint32Array(16384);
  let pos = words.length;
  const uniform = (): number => {
    if (pos + 2 > words.length) {
      randomFillSync(words);
      pos = 0;
    }
    const hi = words[pos++]! >>> 5; // 27 bits
    const lo = words[pos++]! >>> 6; // 26 bits
    return (hi * 67108864 + lo + 1) / TWO_POW_53; // (0, 1]
  };
  return {
    kind: 'csprng',
    fill(out, std) {
      for (let i = 0; i < out.length; i += 2) {
        const r = Math.sqrt(-2 * Math.log(uniform()));
        const theta = 2 * Math.PI * uniform();
        out[i] = std * r * Math.cos(theta);
        if (i + 1 < out.length) out[i + 1] = std * r * Math.sin(theta);
      }
    },
  };
}

export function seededGaussian(rng: Rng): GaussianSource {
  return {
    kind: 'seeded',
    fill(out, std) {
      for (let i = 0; i < out.length; i++) out[i] = std * rng.normal();
    },
  };
}
