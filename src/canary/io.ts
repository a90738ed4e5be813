/**
 * Reading canary sets and manifests: schema validation, then the checks probes rely on (the
 * stored space rebuilds to the stored size, every secret is in it, texts are prefix + secret +
 * suffix, roles and counts agree), each failure one line naming the file and the place.
 */
import { InputError } from '../core/errors.js';
import { readJsonFile, validate } from '../core/schema.js';
import { writeJsonAtomic } from '../core/atomic.js';
import { secretSpaceFromSpec } from './secret-space.js';
import { canarySetSchema, manifestSchema } from './schemas.js';
import type { Canary, CanarySet, Manifest, SecretSpace } from './types.js';

function checkCanaries(canaries: Canary[], space: SecretSpace, kind: 'text' | 'tabular', source: string): void {
  const ids = new Set<string>();
  const secrets = new Set<string>();
  canaries.forEach((c, i) => {
    const where = `${source}: /canaries/${i}`;
    if (ids.has(c.id)) throw new InputError(`${where}/id: duplicate canary id "${c.id}"`);
    ids.add(c.id);
    if (secrets.has(c.secret)) throw new InputError(`${where}/secret: the same secret as an earlier canary`);
    secrets.add(c.secret);
    if (c.prefix + c.secret + c.suffix !== c.text) throw new InputError(`${where}/text: is not prefix + secret + suffix`);
    if (/[\r\n]/.test(c.text)) throw new InputError(`${where}/text: contains a line break`);
    if (space.indexOf(c.secret) === null) throw new InputError(`${where}/secret: not in the secret space`);
    if (kind === 'tabular' && (c.record === undefined || c.label === undefined)) throw new InputError(`${where}: a tabular canary needs "record" and "label"`);
  });
}

function checkSpace(doc: { secretSpace: CanarySet['secretSpace']; spaceSize: string; spaceSizeLog2: number }, source: string): SecretSpace {
  const space = secretSpaceFromSpec(doc.secretSpace, `${source}: /secretSpace`);
  if (space.size.toString() !== doc.spaceSize) throw new InputError(`${source}: /spaceSize: ${doc.spaceSize} but the secret space has ${space.size} secrets`);
  if (Math.abs(space.log2Size - doc.spaceSizeLog2) > 1e-6) throw new InputError(`${source}: /spaceSizeLog2: ${doc.spaceSizeLog2} but the secret space has log2 size ${space.log2Size}`);
  return space;
}

export function validateCanarySet(value: unknown, source: string): CanarySet {
  const set = validate<CanarySet>(canarySetSchema, value, source);
  checkCanaries(set.canaries, checkSpace(set, source), set.kind, source);
  return set;
}

export function readCanarySet(path: string): CanarySet {
  return validateCanarySet(readJsonFile(path), path);
}

export function validateManifest(value: unknown, source: string): Manifest {
  const m = validate<Manifest>(manifestSchema, value, source);
  checkCanaries(m.canaries, checkSpace(m, source), m.kind, source);
  let copies = 0;
  m.canaries.forEach((c, i) => {
    if (c.role === 'inserted' && c.repetitions < 1) throw new InputError(`${source}: /canaries/${i}/repetitions: an inserted canary needs at least 1`);
    if (c.role === 'reference' && c.repetitions !== 0) throw new InputError(`${source}: /canaries/${i}/repetitions: a reference canary is never inserted (must be 0)`);
    copies += c.repetitions;
  });
  const held = m.holdout?.records ?? 0;
  if (m.output.records !== m.input.records - held + copies) {
    throw new InputError(
      `${source}: /output/records: ${m.output.records}, but input records ${m.input.records}${m.holdout ? ` - holdout ${held}` : ''} + inserted copies ${copies} = ${m.input.records - held + copies}`,
    );
  }
  if (m.mode === 'bernoulli' && m.inclusionProbability === undefined) throw new InputError(`${source}: /inclusionProbability: required in bernoulli mode`);
  return m;
}

/** Reads and checks an insertion manifest. */
export function readManifest(path: string): Manifest {
  return validateManifest(readJsonFile(path), path);
}

/** The secret space a canary set or manifest was drawn from. */
export function spaceOf(doc: Pick<CanarySet, 'secretSpace'>): SecretSpace {
  return secretSpaceFromSpec(doc.secretSpace);
}

export function writeCanarySet(path: string, set: CanarySet): void {
  writeJsonAtomic(path, set);
}
