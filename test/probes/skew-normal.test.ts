import { describe, expect, it } from 'vitest';
import {
  fitSkewNormal,
  skewNormalCdf,
  skewNormalLogCdf,
  skewNormalLogLikelihood,
  skewNormalMomentEstimate,
  skewNormalMoments,
} from '../../probes/skew-normal.js';
import { Rng } from '../../src/core/rng.js';

describe('skew-normal CDF', () => {
  // Golden values: mpmath quad of 2 phi(t) Phi(alpha t) at 50 digits, split at z - 2^k (scipy's skewnorm.logcdf
  // loses accuracy below about -300 and returns -inf at -20000).
  const golden: [number, number, number, number, number][] = [
    [0.5, 0, 1, 2, -0.89575000947333306],
    [-1, 0, 1, -3, -1.1480517337728094],
    [-3, 1, 2, 5, -59.426851146889709],
    [-6, 0, 1, 4, -314.95273170202898],
    [-8, 0, 1, -2, -34.320289979354605],
    [2, 0, 1, 0.5, -0.040822294436156585],
    [-20, 0, 1, 10, -20214.053974541278],
    [10, 5, 2, -1, -3.8560686911877933e-5],
  ];
  it.each(golden)('logcdf(%d; xi=%d, omega=%d, alpha=%d) matches high-precision quadrature', (x, xi, omega, alpha, expected) => {
    const got = skewNormalLogCdf(x, { xi, omega, alpha });
    expect(Math.abs(got - expected)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
  });

  it('reduces to the normal CDF at alpha 0 and is monotone', () => {
    expect(skewNormalCdf(0, { xi: 0, omega: 1, alpha: 0 })).toBeCloseTo(0.5, 12);
    let prev = -Infinity;
    for (let x = -10; x <= 10; x += 0.25) {
      const v = skewNormalLogCdf(x, { xi: 1, omega: 2, alpha: 3 });
      expect(v).toBeGreaterThanOrEqual(prev);
      prev = v;
    }
    expect(skewNormalCdf(50, { xi: 1, omega: 2, alpha: 3 })).toBeCloseTo(1, 12);
  });
});

describe('skew-normal fit', () => {
  // Samples drawn with scipy (skewnorm.rvs, seed 7); the reference log-likelihoods are those of
  // scipy.stats.skewnorm.fit's estimates on the same values.
  const right = [20.1514,20.5324,20.7053,23.4558,21.7448,23.0289,20.829,24.7339,22.3955,22.384,21.8963,19.589,19.9698,22.7788,19.1705,22.5252,24.1503,21.6,25.7154,22.6446,25.6717,20.9052,23.4323,20.7016,20.3127,21.3547,27.3332,21.8906,19.2927,20.805,24.4709,20.9041,23.0952,21.5885,23.0837,21.9258,21.0339,22.8262,22.9269,21.806,20.1,19.5308,23.4461,21.8549,23.3496,24.9568,22.6506,20.7061,21.9953,25.6722,22.7296,23.1122,19.4648,21.6208,20.5238,21.2203,20.0045,21.3177,24.894,21.8262];
  const left = [29.013,28.5596,28.6235,23.029,26.023,28.6855,20.3469,27.8667,22.9468,26.3523,28.9129,28.5175,30.9494,24.5014,26.1658,25.8065,28.5208,27.6139,30.0831,24.1278,24.0681,26.7036,29.0761,25.756,24.8834,23.0494,23.6301,31.9364,27.6262,28.4426,27.4395,27.5393,30.3613,26.8359,28.2211,28.8202,25.2453,26.9462,22.5786,29.7555,26.3328,27.3037,22.332,23.8487,29.3168,27.0487,24.9294,26.293,31.3971,28.4175,26.9157,27.1478,27.4681,28.9645,22.8755,27.5526,26.359,28.2496,28.8959,32.0284];

  it.each([
    ['right-skewed', right, -117.01657075224311, { xi: 19.9024024827864, omega: 2.832171060799944, alpha: 3.79174592235597 }],
    ['left-skewed', left, -139.4033106457841, { xi: 29.541511213694534, omega: 3.5778245562808917, alpha: -1.9858261595461202 }],
  ] as const)('%s sample: likelihood at least scipy\'s, parameters close to scipy\'s', (_name, data, scipyLogLik, scipyParams) => {
    const fit = fitSkewNormal(data);
    const ll = skewNormalLogLikelihood(data, fit);
    expect(ll).toBeGreaterThanOrEqual(scipyLogLik - 1e-6);
    expect(fit.xi).toBeCloseTo(scipyParams.xi, 2);
    expect(fit.omega).toBeCloseTo(scipyParams.omega, 2);
    expect(Math.abs(fit.alpha - scipyParams.alpha)).toBeLessThan(0.05 * Math.abs(scipyParams.alpha));
  });

  it('moment estimate recovers the parameters of a large sample', () => {
    // Azzalini's stochastic representation: xi + omega (delta |U0| + sqrt(1 - delta^2) U1).
    const d = { xi: 3, omega: 2, alpha: -4 };
    const delta = d.alpha / Math.sqrt(1 + d.alpha ** 2);
    const rng = new Rng('skew');
    const values = Float64Array.from({ length: 50000 }, () => d.xi + d.omega * (delta * Math.abs(rng.normal()) + Math.sqrt(1 - delta ** 2) * rng.normal()));
    const m = skewNormalMoments(d);
    const est = skewNormalMomentEstimate(values);
    expect(skewNormalMoments(est).mean).toBeCloseTo(m.mean, 1);
    expect(est.xi).toBeCloseTo(3, 1);
    expect(est.omega).toBeCloseTo(2, 1);
    expect(est.alpha).toBeLessThan(-2.5);
    expect(est.alpha).toBeGreaterThan(-8);
  });
});
