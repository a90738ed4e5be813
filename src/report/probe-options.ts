/**
 * Probe options in `audit`: the policy is the contract. Each option that bears on the evidence
 * declares in its spec (probes/specs.ts, `policy`) its baseline (a policy field, else its default)
 * and which direction is stricter; an option may only make the run stricter than the baseline, an
 * unknown one is refused, and options the user left out take the policy's value.
 */
import { probeSpecs } from '../../probes/specs.js';
import type { PolicyBinding, ProbeOptionSpec } from '../../probes/registry.js';
import type { ProbeName } from '../../probes/types.js';
import { parseNumber } from '../core/flags.js';
import { UsageError } from '../core/errors.js';
import type { Policy } from '../policy/types.js';

export type ProbeOptionMap = Partial<Record<ProbeName, Record<string, unknown>>>;

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

function specsOf(probe: ProbeName): readonly ProbeOptionSpec[] {
  return probeSpecs.find((s) => s.name === probe)?.options ?? [];
}

function policyValue(policy: Policy, field: string): unknown {
  return field.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), policy);
}

interface Baseline {
  value: unknown;
  /** How the baseline is named in an error: "the policy's exposure.samples = 2000". */
  source: string;
}

function baselineOf(spec: ProbeOptionSpec, binding: PolicyBinding, policy: Policy): Baseline | undefined {
  const raw = binding.field === undefined ? undefined : policyValue(policy, binding.field);
  if (raw !== undefined) {
    const value = binding.complement ? 1 - (raw as number) : raw;
    const shown = Array.isArray(value) ? value.join(',') : String(value);
    return { value, source: `the policy's ${binding.complement ? `1 - ${binding.field}` : binding.field} = ${shown}` };
  }
  return spec.default === undefined ? undefined : { value: spec.default, source: `the default ${String(spec.default)} (the policy sets no value)` };
}

const listOf = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : String(v).split(',')).map((s) => s.trim()).filter(Boolean);

/** Throws a UsageError when `given` would weaken the evidence below the baseline; returns the value to run with. */
function checkDirection(label: string, spec: ProbeOptionSpec, binding: PolicyBinding, given: unknown, baseline: Baseline | undefined): unknown {
  if (binding.stricter === 'superset') {
    if (!baseline) return given;
    const missing = listOf(baseline.value).filter((a) => !listOf(given).includes(a));
    if (missing.length > 0) throw new UsageError(`${label} drops ${missing.join(', ')}, required by ${baseline.source}; add them to the list`);
    return given;
  }
  const value = spec.type === 'number' ? parseNumber(label, given, spec.rule ?? {}) : given;
  if (binding.stricter === 'fixed') {
    if (baseline && value === baseline.value) return value;
    const why = binding.why ? ` (${binding.why})` : '';
    throw new UsageError(baseline ? `${label} cannot change ${baseline.source} in an audit${why}` : `${label} cannot be set in an audit${why}`);
  }
  if (!baseline) return value;
  const weaker = binding.stricter === 'higher' ? (value as number) < (baseline.value as number) : (value as number) > (baseline.value as number);
  if (weaker) {
    throw new UsageError(`${label} would weaken the evidence below ${baseline.source}: only values ${binding.stricter === 'higher' ? '>=' : '<='} ${String(baseline.value)} are allowed`);
  }
  return value;
}

/**
 * A probe's options for this audit: every given option must be one of the probe's and at least as
 * strict as its baseline (else a UsageError naming it and the policy value); options not given take
 * the policy's value where the policy names one (superset lists excepted: the probe's default runs
 * every attack). Other defaults are filled by the probe's specs when it runs.
 */
export function probeOptionsFor(name: ProbeName, policy: Policy, given: Record<string, unknown> = {}): Record<string, unknown> {
  const specs = specsOf(name);
  for (const key of Object.keys(given)) {
    if (!specs.some((s) => s.name === key)) {
      throw new UsageError(`--probe-option ${name}.${kebab(key)}: probe ${name} has no such option (known: ${specs.map((s) => kebab(s.name)).join(', ')})`);
    }
  }
  const out: Record<string, unknown> = { ...given };
  for (const spec of specs) {
    const binding = spec.policy;
    if (!binding) continue;
    const baseline = baselineOf(spec, binding, policy);
    const value = given[spec.name];
    if (value !== undefined && value !== null) {
      out[spec.name] = checkDirection(`--probe-option ${name}.${kebab(spec.name)}=${String(value)}`, spec, binding, value, baseline);
    } else if (binding.field !== undefined && binding.stricter !== 'superset' && baseline && policyValue(policy, binding.field) !== undefined) {
      out[spec.name] = baseline.value;
    }
  }
  return out;
}

/** Checks every probe's given options against the policy, before any model loads or API call. */
export function checkProbeOptions(options: ProbeOptionMap, policy: Policy): void {
  for (const [name, given] of Object.entries(options)) probeOptionsFor(name as ProbeName, policy, given);
}
