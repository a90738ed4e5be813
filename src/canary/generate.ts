/**
 * Canary generation (`canary generate`): seeded, distinct secrets drawn uniformly from a pack's
 * space, each canary split into prefix + secret + suffix so probes can score and complete the
 * secret given its prefix.
 */
import { UsageError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { FeatureRow } from '../targets/target.js';
import { expand } from './formats.js';
import { templateParts, type LoadedPack, type TabularPack, type TextPack } from './pack.js';
import { secretSpaceFromSlots } from './secret-space.js';
import type { Canary, CanarySet, SecretSpace } from './types.js';

export interface GenerateOptions {
  count: number;
  /** The run's generator; generation draws from its fork "canaries". */
  rng: Rng;
}

/** Above this many canaries the pairwise "no secret inside another canary's text" check is skipped. */
const crossCheckLimit = 5000;

function canaryId(pack: string, i: number, count: number): string {
  return `${pack}-${String(i + 1).padStart(Math.max(4, String(count).length), '0')}`;
}

/** Draws `count` distinct secrets; refuses counts the space cannot hold with room to spare. */
function distinctSecrets(space: SecretSpace, count: number, rng: Rng, pack: string): string[] {
  if (BigInt(count) > space.size) {
    throw new UsageError(`--count ${count}: the ${pack} space holds only ${space.size} distinct secrets`);
  }
  const seen = new Set<string>();
  const out: string[] = [];
  // Rejection sampling stays uniform over distinct sets; when count is near the size, drawing
  // indices without replacement from the enumerated space is exact too.
  if (space.size <= 4n * BigInt(count)) {
    for (const i of rng.sampleIndices(Number(space.size), count)) out.push(space.at(BigInt(i)));
    return out;
  }
  while (out.length < count) {
    const s = space.sample(rng);
    if (!seen.has(s)) {
      seen.add(s);
      out.push(s);
    }
  }
  return out;
}

function fieldSpaces(pack: TextPack): Map<string, SecretSpace> {
  const spaces = new Map<string, SecretSpace>();
  for (const [name, slots] of Object.entries(pack.fields ?? {})) {
    spaces.set(name, secretSpaceFromSlots(slots.flatMap((s, i) => expand(s, `pack ${pack.name}: /fields/${name}/${i}`))));
  }
  return spaces;
}

function textCanaries(pack: TextPack, secrets: string[], rng: Rng): Canary[] {
  const parts = templateParts(pack.template);
  const at = parts.findIndex((p) => 'field' in p && p.field === 'secret');
  const spaces = fieldSpaces(pack);
  const render = (ps: typeof parts) =>
    ps.map((p) => ('literal' in p ? p.literal : spaces.get(p.field)!.sample(rng))).join('');
  return secrets.map((secret, i) => {
    const prefix = render(parts.slice(0, at));
    const suffix = render(parts.slice(at + 1));
    return { id: canaryId(pack.name, i, secrets.length), text: prefix + secret + suffix, prefix, secret, suffix, format: pack.format };
  });
}

/** Splits a tabular secret "a=1;b=F" back into the row (the secret is built column by column). */
function tabularCanaries(pack: TabularPack, secrets: string[], rng: Rng): Canary[] {
  return secrets.map((secret, i) => {
    const values = secret.split(';').map((kv) => kv.slice(kv.indexOf('=') + 1));
    const record: FeatureRow = {};
    pack.columns.forEach((c, j) => {
      record[c.name] = c.type === 'number' ? Number(values[j]) : values[j]!;
    });
    const label = rng.pick(pack.label.values);
    const suffix = `;${pack.label.column}=${label}`;
    return { id: canaryId(pack.name, i, secrets.length), text: secret + suffix, prefix: '', secret, suffix, format: pack.format, record, label };
  });
}

/** Rejects secrets that occur inside another canary's text (a reference would then be "in the data"). */
function crossCollision(canaries: Canary[]): string | undefined {
  if (canaries.length > crossCheckLimit) return undefined;
  for (const a of canaries) for (const b of canaries) if (a !== b && b.text.includes(a.secret)) return a.id;
  return undefined;
}

export function generateCanaries(loaded: LoadedPack, options: GenerateOptions): CanarySet {
  const { pack, space } = loaded;
  if (!Number.isInteger(options.count) || options.count < 1) throw new UsageError(`--count must be a positive integer, got ${options.count}`);
  const rng = options.rng.fork(`canaries/${pack.name}`);
  let canaries: Canary[] = [];
  for (let attempt = 0; ; attempt++) {
    const secrets = distinctSecrets(space, options.count, rng, pack.name);
    canaries = pack.kind === 'text' ? textCanaries(pack, secrets, rng) : tabularCanaries(pack, secrets, rng);
    const clash = crossCollision(canaries);
    if (!clash) break;
    if (attempt === 20) throw new UsageError(`pack ${pack.name}: cannot draw ${options.count} canaries whose secrets do not occur in each other's text`);
  }
  return {
    version: 1,
    pack: pack.name,
    packDigest: loaded.digest,
    kind: pack.kind,
    secretSpace: loaded.spec,
    spaceSize: space.size.toString(),
    spaceSizeLog2: space.log2Size,
    seed: options.rng.seed,
    canaries,
    ...(pack.kind === 'tabular' ? { labelColumn: pack.label.column } : {}),
  };
}
