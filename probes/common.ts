/**
 * What every probe run shares, whichever probe and whoever runs it (`memaudit probe <name>`,
 * `memaudit audit`): open the target, read and digest the manifest, build each probe's
 * ProbeContext (its own random stream forked by probe name), stamp the run info, check the
 * target can do what the probe needs, validate the result against its schema, write it
 * atomically, and render the short terminal table.
 */
import { manifestBinding, modelTrainingData } from './binding.js';
import type { ManifestBinding } from '../src/policy/evidence.js';
import { readManifest } from '../src/canary/index.js';
import type { Manifest } from '../src/canary/types.js';
import { initBackend, type BackendPreference } from '../src/core/backend.js';
import { CapabilityError, UsageError } from '../src/core/errors.js';
import { sha256File } from '../src/core/hash.js';
import { silentProgress, type Progress } from '../src/core/progress.js';
import { rngFromSeed, type Rng } from '../src/core/rng.js';
import { validate } from '../src/core/schema.js';
import { writeJsonAtomic } from '../src/core/atomic.js';
import { toolVersion } from '../src/core/version.js';
import { parseNumber } from '../src/core/flags.js';
import { fmt, jsonReplacer, renderTable } from '../src/core/format.js';
import { openTarget, type OpenTargetOptions } from '../src/targets/index.js';
import type { Target, TargetDescriptor } from '../src/targets/target.js';
import type { ProbeContext, ProbeModule, ProbeOptionSpec } from './registry.js';
import { probeRunInfoSchema } from './schemas.js';
import type { ProbeName, ProbeResult, ProbeRunInfo } from './types.js';

/** In probes/schemas.ts (no heavy imports) so report readers can check results without the probes. */
export { probeRunInfoSchema };

// ---- manifest ---------------------------------------------------------------------------------

export interface LoadedManifest {
  path: string;
  manifest: Manifest;
  /** sha256 of the manifest file's bytes. */
  digest: string;
}

/** Reads (schema-validated, by src/canary) and digests an insertion manifest. */
export async function loadManifest(path: string): Promise<LoadedManifest> {
  const manifest = readManifest(path);
  return { path, manifest, digest: await sha256File(path) };
}

// ---- session ----------------------------------------------------------------------------------

export interface ProbeSessionOptions {
  /** Target string: a model directory or an API spec. */
  target: string;
  targetOptions?: OpenTargetOptions;
  manifestPath: string;
  /** The run's seed; a random one (recorded in the result) when absent. */
  seed?: string;
  backend?: BackendPreference;
  progress?: Progress;
}

/** An open target and manifest from which any number of probes can be run. */
export interface ProbeSession {
  target: Target;
  targetDescriptor: TargetDescriptor;
  manifest: LoadedManifest;
  /** The manifest's dataset against the model's recorded training data (checked at open). */
  binding: ManifestBinding;
  seed: string;
  backend: string;
  progress: Progress;
  /** The context for one probe: its random stream is forked from the run's seed by probe name. */
  contextFor(probe: ProbeModule, options?: Record<string, unknown>): ProbeContext;
  close(): Promise<void>;
}

export async function openProbeSession(options: ProbeSessionOptions): Promise<ProbeSession> {
  // The manifest is read first: a bad manifest should not cost a model load or API calls.
  const manifest = await loadManifest(options.manifestPath);
  const binding = manifestBinding(options.manifestPath, manifest.manifest, modelTrainingData(options.target));
  const info = await initBackend(options.backend ?? 'auto');
  const target = await openTarget(options.target, options.targetOptions ?? {});
  let targetDescriptor: TargetDescriptor;
  try {
    targetDescriptor = await target.describe();
  } catch (e) {
    await target.close();
    throw e;
  }
  const root: Rng = rngFromSeed(options.seed);
  const progress = options.progress ?? silentProgress;
  return {
    target,
    targetDescriptor,
    manifest,
    binding,
    seed: root.seed,
    backend: info.backend,
    progress,
    contextFor(probe, raw = {}) {
      return {
        target,
        targetDescriptor,
        manifest: manifest.manifest,
        manifestDigest: manifest.digest,
        manifestPath: manifest.path,
        rng: root.fork(`probe/${probe.name}`),
        seed: root.seed,
        backend: info.backend,
        progress,
        options: resolveProbeOptions(probe, raw),
      };
    },
    close: () => target.close(),
  };
}

// ---- options ------------------------------------------------------------------------------------

function flagName(name: string): string {
  return '--' + name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/**
 * Fills defaults and checks each probe option against its spec (numbers by their rule, choices),
 * so options from a policy file get the same one-line errors as flags. Unknown keys pass through.
 */
export function resolveProbeOptions(probe: ProbeModule, raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw };
  for (const spec of probe.options ?? []) {
    const value = raw[spec.name];
    if (value === undefined || value === null) {
      if (spec.default !== undefined) out[spec.name] = spec.default;
      else delete out[spec.name];
      continue;
    }
    out[spec.name] = checkOption(spec, value);
  }
  return out;
}

function checkOption(spec: ProbeOptionSpec, value: unknown): unknown {
  const flag = flagName(spec.name);
  switch (spec.type) {
    case 'number':
      return parseNumber(flag, value, spec.rule ?? {});
    case 'boolean':
      if (typeof value === 'boolean') return value;
      throw new UsageError(`${flag} must be true or false, got "${String(value)}"`);
    case 'string': {
      const text = String(value);
      if (spec.choices && !spec.choices.includes(text)) throw new UsageError(`${flag} must be one of ${spec.choices.join(', ')}, got "${text}"`);
      return text;
    }
  }
}

// ---- running ------------------------------------------------------------------------------------

/** The fields every result carries (ProbeRunInfo), for a probe that started at `startedAt`. */
export function probeRunInfo<N extends ProbeName>(ctx: ProbeContext, probe: N, startedAt: Date): ProbeRunInfo & { probe: N } {
  return {
    probe,
    version: 1,
    toolVersion,
    backend: ctx.backend,
    target: ctx.targetDescriptor,
    manifestDigest: ctx.manifestDigest,
    seed: ctx.seed,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
  };
}

/**
 * Runs one probe: refuses with a CapabilityError (exit 3, INCONCLUSIVE in a verdict) when the
 * target cannot do what the probe needs, and checks the result against its schema (a mismatch is
 * a bug in the probe, never written).
 */
export async function runProbe<R extends ProbeResult>(probe: ProbeModule<R>, ctx: ProbeContext): Promise<R> {
  const missing = probe.needs(ctx.targetDescriptor.capabilities);
  if (missing !== null) throw new CapabilityError(`probe:${probe.name}`, `probe ${probe.name}: ${missing}`);
  const result = await probe.run(ctx);
  checkProbeResult(probe, result);
  return result;
}

/** Validates a result against the run-info schema and the probe's own schema. */
export function checkProbeResult(probe: ProbeModule, result: unknown): void {
  const where = `probe ${probe.name} result`;
  // Round trip through JSON first: what is checked is exactly what will be written.
  const data = JSON.parse(JSON.stringify(result, jsonReplacer)) as unknown;
  validate(probeRunInfoSchema, data, where);
  if (probe.resultSchema) validate(probe.resultSchema, data, where);
}

/** Validates and writes a result atomically (nothing partial on failure). */
export function writeProbeResult(path: string, probe: ProbeModule, result: ProbeResult): void {
  checkProbeResult(probe, result);
  writeJsonAtomic(path, JSON.parse(JSON.stringify(result, jsonReplacer)));
}

/** The short terminal table: the run's identity, then the probe's own rows. */
export function probeSummaryText(probe: ProbeModule, result: ProbeResult): string {
  const head = renderTable([
    ['probe', 'target', 'backend', 'manifest', 'seconds'],
    [
      result.probe,
      result.target.target,
      result.backend,
      result.manifestDigest.slice(0, 12),
      fmt((Date.parse(result.finishedAt) - Date.parse(result.startedAt)) / 1000, 3),
    ],
  ]);
  const rows = probe.summary?.(result);
  return rows && rows.length > 1 ? head + renderTable(rows) : head;
}
