/**
 * The probe registry: each probe is a module with a name, the target capabilities it needs, and a
 * run function from a ProbeContext to its result. `memaudit probe <name>` and `memaudit audit`
 * both go through here, so a new probe is one module plus one line below.
 */
import type { Manifest } from '../src/canary/types.js';
import type { Progress } from '../src/core/progress.js';
import type { Rng } from '../src/core/rng.js';
import type { Target, TargetCapabilities, TargetDescriptor } from '../src/targets/target.js';
import type { ProbeName, ProbeResult } from './types.js';

export interface ProbeContext {
  target: Target;
  targetDescriptor: TargetDescriptor;
  manifest: Manifest;
  manifestDigest: string;
  /** The probe's own random stream (forked from the run's seed by probe name). */
  rng: Rng;
  seed: string;
  backend: string;
  progress: Progress;
  /** Probe-specific options from flags or the policy (e.g. beam width, sample count, shadow count). */
  options: Record<string, unknown>;
}

export interface ProbeModule<R extends ProbeResult = ProbeResult> {
  name: ProbeName;
  describe: string;
  /** Capabilities of which the probe needs at least one group; see `needs`. */
  needs: (capabilities: TargetCapabilities) => string | null;
  run(ctx: ProbeContext): Promise<R>;
}

export const probes: ProbeModule[] = [];

export function findProbe(name: string): ProbeModule | undefined {
  return probes.find((p) => p.name === name);
}
