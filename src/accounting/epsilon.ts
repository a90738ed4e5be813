/**
 * computeEpsilon: (epsilon, delta) of a composition of subsampled-Gaussian segments, by either
 * accountant. RDP composes by adding RDP curves; PLD by convolving loss distributions.
 */
import { DEFAULT_RDP_ORDERS } from './orders.js';
import { pldEpsilon, DEFAULT_VALUE_DISCRETIZATION } from './pld/index.js';
import { rdpCurve, rdpToEpsilon, type RdpOptions } from './rdp.js';
import type { EpsilonOptions, EpsilonResult, Segment } from './types.js';
import { checkDelta, checkOrders, checkSegments } from './validate.js';

/** The composed RDP curve sum_k steps_k * rdp(q_k, sigma_k) over `orders`. */
export function composedRdp(segments: readonly Segment[], orders: readonly number[], options: RdpOptions = {}): Float64Array {
  const total = new Float64Array(orders.length);
  const curves = new Map<string, Float64Array>();
  for (const s of segments) {
    if (s.steps === 0) continue;
    const key = `${s.samplingRate},${s.noiseMultiplier}`;
    let curve = curves.get(key);
    if (!curve) {
      curve = rdpCurve(s.samplingRate, s.noiseMultiplier, orders, options);
      curves.set(key, curve);
    }
    for (let k = 0; k < orders.length; k++) total[k] += s.steps * curve[k]!;
  }
  return total;
}

/** The stderr line when the best order is an end of the grid: a wider grid may give a smaller epsilon. */
export function edgeOrderWarning(optimalIndex: number, orders: readonly number[]): string | undefined {
  if (orders.length < 2 || optimalIndex < 0) return undefined;
  if (optimalIndex !== 0 && optimalIndex !== orders.length - 1) return undefined;
  const end = optimalIndex === 0 ? 'smallest' : 'largest';
  return (
    `the optimal RDP order ${orders[optimalIndex]} is the ${end} order in the grid: epsilon is still an upper bound, ` +
    `but a grid extending past ${orders[optimalIndex]} (--orders) may give a smaller one`
  );
}

export function computeEpsilon(segments: Segment[], delta: number, options: EpsilonOptions = {}): EpsilonResult {
  checkSegments(segments);
  checkDelta(delta);
  const accountant = options.accountant ?? 'rdp';
  const live = segments.filter((s) => s.steps > 0);
  if (accountant === 'pld') {
    const epsilon = live.length === 0 ? 0 : pldEpsilon(live, delta, { valueDiscretization: options.valueDiscretization ?? DEFAULT_VALUE_DISCRETIZATION });
    return { epsilon, delta, accountant };
  }
  const orders = options.orders ?? DEFAULT_RDP_ORDERS;
  checkOrders(orders);
  const rdp = composedRdp(live, orders, { fractionalSeries: options.fractionalSeries });
  const conv = rdpToEpsilon(rdp, orders, delta, options.conversion ?? 'improved');
  const result: EpsilonResult = { epsilon: conv.epsilon, delta, accountant, optimalOrder: conv.optimalOrder };
  const warning = live.length > 0 ? edgeOrderWarning(conv.optimalIndex, orders) : undefined;
  if (warning) result.warnings = [warning];
  return result;
}
