/**
 * Flags shared by `probe membership` and `probe dp-audit` (the audit scores canaries with the
 * same attacks), and their translation into candidates and attack options.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, dirname, resolve } from 'node:path';
import { InconclusiveError, InputError, UsageError } from '../../src/core/errors.js';
import { readJsonFile } from '../../src/core/schema.js';
import { sha256File } from '../../src/core/hash.js';
import type { BackendPreference } from '../../src/core/backend.js';
import { readModelMeta } from '../../src/models/index.js';
import { openTarget, parseTargetSpec } from '../../src/targets/index.js';
import type { Json } from '../../src/jobs/index.js';
import type { ProbeContext } from '../registry.js';
import type { DatasetDigest } from '../../src/canary/types.js';
import { candidatesFromFiles, candidatesFromManifest, candidatesFromRecords, type CandidateSet, type VerifiedFile } from './candidates.js';
import { attackNames, type AttackName, type AttackOptions } from './attacks.js';
import type { ShadowPlan } from './shadows.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/**
 * Candidates from --members/--non-members files; else real records when the manifest has a
 * holdout (or `population` is "records"); else the manifest's canaries (or `population` "manifest").
 * `members` is a file with --non-members, or alone a number: the members to sample from the real records.
 */
export async function candidateSetFor(ctx: ProbeContext): Promise<CandidateSet> {
  const membersOption = str(ctx.options.members);
  const nonMembers = str(ctx.options.nonMembers);
  const memberCount = membersOption !== undefined && nonMembers === undefined && /^[0-9]+$/.test(membersOption) ? Number(membersOption) : undefined;
  const members = memberCount === undefined ? membersOption : undefined;
  if ((members === undefined) !== (nonMembers === undefined)) throw new UsageError('--members and --non-members go together');
  const population = str(ctx.options.population) ?? 'auto';
  const task = ctx.target.task;
  let set: CandidateSet;
  if (members && nonMembers) {
    if (population !== 'auto') throw new UsageError(`--population ${population} and --members/--non-members files are two different candidate sources: choose one`);
    set = await candidatesFromFiles(members, nonMembers, task, { textField: str(ctx.options.textField), labelColumn: str(ctx.options.labelColumn) });
  } else if (population === 'records' || (population === 'auto' && ctx.manifest.holdout)) {
    set = await candidatesFromRealRecords(ctx, memberCount);
  } else {
    if (memberCount !== undefined) throw new UsageError(`--members ${memberCount} samples real training records: it needs a manifest with a holdout (canary insert --holdout K)`);
    const moved = str(ctx.options.data) !== undefined ? '--data' : str(ctx.options.holdout) !== undefined ? '--holdout' : undefined;
    if (moved) throw new UsageError(`${moved} locates the real records of a manifest with a holdout; this membership test uses the manifest's canaries`);
    set = candidatesFromManifest(ctx.manifest, task);
  }
  const m = set.candidates.filter((c) => c.member).length;
  const n = set.candidates.length - m;
  if (m === 0 || n === 0) {
    throw new InconclusiveError(`membership needs members and non-members; ${set.population === 'files' ? 'the files' : `the manifest's ${set.population === 'records' ? 'records' : 'canaries'}`} give ${m} and ${n}`);
  }
  return set;
}

/** Members sampled from the manifest's training data, non-members from its holdout, both checked against their digests. */
async function candidatesFromRealRecords(ctx: ProbeContext, members: number | undefined): Promise<CandidateSet> {
  const holdout = ctx.manifest.holdout;
  if (!holdout) throw new UsageError('--population records needs a manifest with a holdout (canary insert --holdout K)');
  const training = await verifiedDataset(ctx, ctx.manifest.output, str(ctx.options.data), 'training data', '--data');
  const held = await verifiedDataset(ctx, holdout, str(ctx.options.holdout), 'holdout', '--holdout');
  return candidatesFromRecords(ctx.manifest, training, held, ctx.target.task, { ...(members !== undefined ? { members } : {}), rng: ctx.rng.fork('members') });
}

/**
 * A dataset the manifest describes (at `override`, else its recorded path): present, and with the
 * recorded sha256, or an InputError naming the file (a changed file would mislabel members).
 */
async function verifiedDataset(ctx: ProbeContext, recorded: DatasetDigest, override: string | undefined, what: string, flag: string): Promise<VerifiedFile> {
  const path = override ?? resolveManifestRelative(ctx, recorded.path);
  if (!existsSync(path)) throw new InputError(`${path}: ${what} not found${override ? '' : ` (the manifest's; pass ${flag} FILE if it moved)`}`);
  const sha256 = await sha256File(path);
  if (sha256 !== recorded.sha256) {
    throw new InputError(`${path}: sha256 ${sha256.slice(0, 16)}... is not the manifest's ${what} (${recorded.sha256.slice(0, 16)}...): the file changed since canary insert wrote it`);
  }
  return { path, sha256, records: recorded.records };
}

/** The manifest's own path, when the context knows it (shadow jobs read canaries from it by id). */
function manifestPathOf(ctx: ProbeContext): string | undefined {
  return str((ctx as ProbeContext & { manifestPath?: string }).manifestPath) ?? str(ctx.options.manifestPath);
}

function parseAttackList(raw: unknown): AttackName[] | undefined {
  const text = str(raw);
  if (text === undefined) return undefined;
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of names) {
    if (!attackNames.includes(name as AttackName)) throw new UsageError(`--attacks: unknown attack "${name}" (known: ${attackNames.join(', ')})`);
  }
  return names as AttackName[];
}

/** Fields of a recorded training configuration that describe the run, not how to train. */
const runOnlyFields = ['seed', 'steps', 'plannedSteps', 'preprocessingFromData'];

/**
 * The trainer configuration for shadows (without a seed: each job has its own) and the label
 * column: --shadow-config, else the target model's own, recorded in its memaudit.json.
 */
function shadowTrainConfig(ctx: ProbeContext, set: CandidateSet): { train: Json; labelColumn?: string } {
  const file = str(ctx.options.shadowConfig);
  const spec = parseTargetSpec(ctx.targetDescriptor.target);
  const meta = spec.kind === 'local' ? readModelMeta(spec.dir) : undefined;
  let config: Record<string, Json> | undefined;
  if (file) {
    const value = readJsonFile<Json>(file);
    if (value === null || typeof value !== 'object' || Array.isArray(value) || typeof value.model !== 'string') {
      throw new UsageError(`${file}: a shadow training configuration is a JSON object like the trainer's (with "model": "charlm" or "mlp")`);
    }
    config = value;
  } else if (meta?.training) {
    config = meta.training as Record<string, Json>;
  }
  if (!config) throw new UsageError('--shadows needs the training configuration of the target: pass --shadow-config FILE (the target does not record one)');
  const train = Object.fromEntries(Object.entries(config).filter(([k]) => !runOnlyFields.includes(k)));
  const labelColumn = str(ctx.options.labelColumn) ?? meta?.labelColumn ?? (set.population !== 'files' ? ctx.manifest.labelColumn : undefined);
  return { train, ...(labelColumn ? { labelColumn } : {}) };
}

async function baseDataFor(ctx: ProbeContext, set: CandidateSet): Promise<ShadowPlan['base']> {
  const explicit = str(ctx.options.shadowData);
  const path = explicit ?? (set.population === 'manifest' ? resolveManifestRelative(ctx, ctx.manifest.input.path) : undefined);
  if (!path) return undefined;
  if (!existsSync(path)) {
    throw new UsageError(`${path}: shadow training data not found${explicit ? '' : " (the manifest's input dataset; pass --shadow-data FILE)"}`);
  }
  // The manifest's dataset has its own text field; --text-field describes the user's files.
  const textField = explicit ? str(ctx.options.textField) : ctx.manifest.textField;
  return {
    path,
    sha256: await sha256File(path),
    ...(textField ? { textField } : {}),
    ...(ctx.manifest.labelColumn ? { labelColumn: ctx.manifest.labelColumn } : {}),
  };
}

/** A manifest's dataset paths are as given to `canary insert`; relative ones are tried from the cwd, then beside the manifest. */
function resolveManifestRelative(ctx: ProbeContext, path: string): string {
  if (isAbsolute(path) || existsSync(path)) return path;
  const manifestPath = manifestPathOf(ctx);
  return manifestPath ? join(dirname(resolve(manifestPath)), path) : path;
}

function mostCommonRepetitions(set: CandidateSet): number {
  const counts = new Map<number, number>();
  for (const c of set.candidates) if (c.member) counts.set(c.repetitions, (counts.get(c.repetitions) ?? 0) + 1);
  let best = 1;
  let bestCount = 0;
  for (const [r, n] of counts) if (n > bestCount || (n === bestCount && r < best)) [best, bestCount] = [r, n];
  return best;
}

/** Attack options from the probe's flags; opens the reference target (caller closes it). */
export async function attackOptionsFor(ctx: ProbeContext, set: CandidateSet, backend: BackendPreference = 'auto'): Promise<AttackOptions> {
  const options: AttackOptions = { k: num(ctx.options.minK), only: parseAttackList(ctx.options.attacks), log: (m) => ctx.progress.log(m) };
  const reference = str(ctx.options.reference);
  if (reference) options.reference = await openTarget(reference);
  const shadows = num(ctx.options.shadows) ?? 0;
  if (shadows > 0) {
    if (shadows < 2 || shadows % 2 !== 0) throw new UsageError(`--shadows must be an even number >= 2 (each candidate is IN half of them), got ${shadows}`);
    const manifestPath = manifestPathOf(ctx);
    if (set.population === 'manifest' && !manifestPath) throw new UsageError('LiRA on manifest canaries needs the manifest path');
    options.shadows = {
      count: shadows,
      workers: num(ctx.options.workers) ?? 1,
      cacheDir: str(ctx.options.shadowCache) ?? '.memaudit/shadows',
      backend,
      ...shadowTrainConfig(ctx, set),
      base: await baseDataFor(ctx, set),
      repetitions: num(ctx.options.shadowRepetitions) ?? mostCommonRepetitions(set),
      ...(set.population === 'manifest' ? { manifest: { path: manifestPath!, sha256: ctx.manifestDigest } } : {}),
      onProgress: (done, total, cached) => ctx.progress.step('shadow models', done, total, cached ? '(cached)' : ''),
    };
  }
  return options;
}
