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
import type { NumberRule } from '../src/core/flags.js';
import type { JsonSchema } from '../src/core/schema.js';
import type { ExitCode } from '../src/core/errors.js';
import { exposureProbe } from './exposure.js';
import { extractionProbe } from './extraction.js';
import { membershipProbe } from './membership/index.js';
import { dpAuditProbe } from './dp-audit.js';

export interface ProbeContext {
  target: Target;
  targetDescriptor: TargetDescriptor;
  manifest: Manifest;
  manifestDigest: string;
  /** Path of the manifest file, when the run read it from one (shadow-model jobs reference canaries through it). */
  manifestPath?: string;
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
  /** Probe-specific options: flags of `memaudit probe <name>` (kebab-case of `name`), also settable by `audit`. */
  options?: readonly ProbeOptionSpec[];
  /** JSON Schema of the result (the run-info fields are checked by probes/common.ts); validated before writing. */
  resultSchema?: JsonSchema;
  /** Exit code a result calls for when it is not a plain success (e.g. 1 for a refuted DP claim); undefined = 0. */
  exitCode?(result: R): ExitCode | undefined;
  /** Rows of the short terminal table after a run (first row is the header). */
  summary?(result: R): (string | number | null)[][];
}

/** One probe-specific option; ctx.options[name] holds its value (the default when not given). */
export interface ProbeOptionSpec {
  /** camelCase key, e.g. "beamWidth" (flag --beam-width). */
  name: string;
  type: 'number' | 'string' | 'boolean';
  describe: string;
  default?: number | string | boolean;
  /** Range rule for numbers (integer, bounds), enforced with a one-line error. */
  rule?: NumberRule;
  choices?: readonly string[];
  /** How the option bears on the evidence the policy asks for: in `audit` it may only make the run stricter (src/report/probe-options.ts). */
  policy?: PolicyBinding;
}

/**
 * An option's baseline in `audit` and which values are stricter than it. The baseline is the
 * policy's value at `field` (1 - it with `complement`), else the option's default.
 */
export interface PolicyBinding {
  /** Dotted path into the policy, e.g. "exposure.samples". */
  field?: string;
  complement?: boolean;
  /**
   * higher / lower: numbers at or beyond the baseline in that direction; superset: a comma-separated
   * list containing every baseline item (left to the probe's own default, which runs all, when not given);
   * fixed: the baseline only (no baseline: the option cannot be set in an audit).
   */
  stricter: 'higher' | 'lower' | 'superset' | 'fixed';
  /** Why a fixed option cannot be changed, for the error line. */
  why?: string;
}

export const probes: ProbeModule[] = [exposureProbe, extractionProbe, membershipProbe, dpAuditProbe];

export function findProbe(name: string): ProbeModule | undefined {
  return probes.find((p) => p.name === name);
}
