/**
 * A benchmark suite reports ratios measured side by side in one run (never absolute timings
 * compared against fixed numbers), so figures are comparable across machines.
 */
export interface BenchRow {
  /** The area, e.g. "accounting", "trainer". */
  area: string;
  /** What was measured, e.g. "DP step / non-private step (mlp, batch 256)". */
  figure: string;
  value: number;
  /** "x" for ratios, "ms", "texts/s", ... */
  unit: string;
  /** The goal from the issue, e.g. "<= 1.2". */
  target?: string;
  /** Whether `value` meets `target` (undefined when there is no target). */
  pass?: boolean;
}

export interface BenchSuite {
  name: string;
  run(): Promise<BenchRow[]>;
}

/** Median of repeated timings (ms) of `fn`, after `warmup` untimed runs. */
export async function timeMedian(fn: () => unknown | Promise<unknown>, repeats = 5, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
