/**
 * The manifest's own integrity, checked by `audit` before any probe runs: its roles against the
 * training data (a swap of inserted and reference canaries keeps every count and digest), and its
 * signature (`canary insert --sign-key`, `audit --trust-key`).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCanaries, insertCanaries, loadPack, readManifest, type Manifest } from '../../src/canary/index.js';
import { checkManifestSignature, manifestEnvelopePath } from '../../src/canary/manifest-signature.js';
import { expectedSecretCounts, verifyManifestRoles } from '../../src/canary/verify-roles.js';
import { loadSigningKey, writeKeyPair } from '../../src/attest/keys.js';
import { InputError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { writeSyntheticNotes } from '../../src/data/synth/index.js';
import { checkManifestIntegrity } from '../../src/report/run.js';
import { runCli, tempDir } from '../helpers/cli.js';

/** The manifest with one inserted canary and one reference swapped: same counts per role and repetition, same digests. */
function swapRoles(m: Manifest): { swapped: Manifest; ids: string } {
  const swapped = structuredClone(m);
  const inserted = swapped.canaries.find((c) => c.role === 'inserted')!;
  const reference = swapped.canaries.find((c) => c.role === 'reference')!;
  [inserted.role, reference.role] = [reference.role, inserted.role];
  [inserted.repetitions, reference.repetitions] = [reference.repetitions, inserted.repetitions];
  // Either one is named: whichever the manifest lists first.
  return { swapped, ids: `(${inserted.id} is recorded as a never-inserted reference, but its secret occurs [1-9]\\d* times?|${reference.id} is recorded as inserted \\d+ times?, but its secret occurs 0 times)` };
}

describe('manifest integrity', () => {
  const dir = tempDir();

  async function planted(name: string, signKey?: string) {
    const data = join(dir, `${name}-notes.jsonl`);
    await writeSyntheticNotes(data, 150, new Rng(`${name}-notes`));
    const canaries = generateCanaries(loadPack('mrn'), { count: 12, rng: new Rng(`${name}-canaries`) });
    const out = join(dir, `${name}-train.jsonl`);
    const manifestPath = join(dir, `${name}-manifest.json`);
    const manifest = await insertCanaries({
      data, canaries, repetitions: [1, 4], references: 4, out, manifest: manifestPath, rng: new Rng(name),
      signingKey: signKey ? loadSigningKey(signKey) : null,
    });
    return { data, out, manifestPath, manifest };
  }

  it('roles that match the data pass; swapped inserted and reference canaries (same counts and digests) are refused naming the canary, never its secret', async () => {
    const { data, out, manifestPath, manifest } = await planted('roles');
    expect(checkManifestIntegrity(manifestPath)).toMatchObject({ roles: { status: 'verified', data: out, dataSha256: manifest.output.sha256 }, signature: { status: 'unsigned' } });
    expect(expectedSecretCounts(manifest, 'jsonl')).toEqual(manifest.canaries.map((c) => c.repetitions));

    const { swapped, ids } = swapRoles(manifest);
    const swappedPath = join(dir, 'swapped.json');
    writeFileSync(swappedPath, JSON.stringify(swapped, null, 2));
    expect(readManifest(swappedPath).output.records).toBe(manifest.output.records);
    for (const given of [undefined, out]) {
      const error = (() => {
        try {
          checkManifestIntegrity(swappedPath, given);
        } catch (e) {
          return e as Error;
        }
      })();
      expect(error).toBeInstanceOf(InputError);
      expect(error!.message).toMatch(new RegExp(`swapped.json: canary ${ids} in .*roles-train.jsonl`));
      for (const c of manifest.canaries) expect(error!.message).not.toContain(c.secret);
    }
    // The data before insertion holds no canary: every inserted one is missing.
    expect(() => verifyManifestRoles(manifest, manifestPath, data)).toThrow(/is recorded as inserted \d+ times?, but its secret occurs 0 times/);
    // A file at the recorded path that is no longer the manifest's output is not evidence either way.
    writeFileSync(out, readFileSync(data));
    expect(checkManifestIntegrity(swappedPath).roles).toEqual({ status: 'not-checked', data: null, dataSha256: null });
  });

  it('audit --data with a swapped manifest exits 2 before any probe runs, naming the canary, and writes nothing', async () => {
    const { out, manifest } = await planted('cli');
    const { swapped, ids } = swapRoles(manifest);
    const swappedPath = join(dir, 'cli-swapped.json');
    writeFileSync(swappedPath, JSON.stringify(swapped, null, 2));
    const run = join(dir, 'cli-run');
    const r = await runCli(['audit', '--target', join(dir, 'no-model-needed'), '--manifest', swappedPath, '--data', out, '--out', run]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`cli-swapped.json: canary ${ids} in .*cli-train.jsonl`))]);
    for (const c of manifest.canaries) expect(r.stderr).not.toContain(c.secret);
    expect(existsSync(run) ? readdirSync(run) : []).toEqual([]);
  });

  it('canary insert --sign-key signs the manifest; --trust-key verifies it; a changed manifest or an untrusted key is refused; unsigned is said so', async () => {
    const keys = await writeKeyPair(join(dir, 'keys'));
    const other = await writeKeyPair(join(dir, 'other-keys'));
    const { manifestPath, manifest } = await planted('signed', keys.privateKeyPath);
    expect(existsSync(manifestEnvelopePath(manifestPath))).toBe(true);
    expect(checkManifestSignature(manifestPath, [keys.publicKeyPath])).toEqual({ status: 'verified', keyid: keys.keyid });
    expect(checkManifestSignature(manifestPath, [other.publicKeyPath, keys.publicKeyPath])).toEqual({ status: 'verified', keyid: keys.keyid });
    expect(checkManifestSignature(manifestPath)).toEqual({ status: 'unverified', keyid: keys.keyid });
    expect(() => checkManifestSignature(manifestPath, [other.publicKeyPath])).toThrow(/signed-manifest.json.dsse.json: the manifest's signature does not verify with any --trust-key/);

    // Roles swapped after signing: the signature no longer covers the manifest.
    writeFileSync(manifestPath, JSON.stringify(swapRoles(manifest).swapped, null, 2) + '\n');
    expect(() => checkManifestSignature(manifestPath, [keys.publicKeyPath])).toThrow(/signed-manifest.json.dsse.json: the signed manifest is not .*signed-manifest.json as it is now/);

    // Inserting again without a key leaves no stale envelope behind.
    const unsigned = await planted('signed');
    expect(existsSync(manifestEnvelopePath(unsigned.manifestPath))).toBe(false);
    expect(checkManifestIntegrity(unsigned.manifestPath, undefined, [keys.publicKeyPath]).signature).toEqual({ status: 'unsigned', keyid: null });
    expect(() => checkManifestSignature(unsigned.manifestPath, [join(dir, 'missing.pub')])).toThrow(/missing.pub: cannot read the public key \(file not found\)/);
  });

  it('the CLI signs with $MEMAUDIT_SIGNING_KEY, and audit exits 2 on a signature that fails', async () => {
    const keys = await writeKeyPair(join(dir, 'cli-keys'));
    const other = await writeKeyPair(join(dir, 'cli-other'));
    const data = join(dir, 'env-notes.jsonl');
    await writeSyntheticNotes(data, 60, new Rng('env'));
    const canaries = join(dir, 'env-canaries.json');
    expect((await runCli(['canary', 'generate', '--pack', 'mrn', '--count', '6', '--out', canaries, '--seed', '1'])).code).toBe(0);
    const manifestPath = join(dir, 'env-manifest.json');
    const i = await runCli(['canary', 'insert', '--data', data, '--canaries', canaries, '--repetitions', '1', '--references', '2', '--out', join(dir, 'env-train.jsonl'), '--manifest', manifestPath, '--json'], {
      env: { MEMAUDIT_SIGNING_KEY: keys.privateKeyPath },
    });
    expect(i.code, i.stderr).toBe(0);
    expect(JSON.parse(i.stdout).signature).toBe(manifestEnvelopePath(manifestPath));
    expect(checkManifestSignature(manifestPath, [keys.publicKeyPath]).status).toBe('verified');
    const run = join(dir, 'env-run');
    const r = await runCli(['audit', '--target', join(dir, 'no-model-needed'), '--manifest', manifestPath, '--trust-key', other.publicKeyPath, '--out', run]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/env-manifest.json.dsse.json: the manifest's signature does not verify with any --trust-key/)]);
    expect(existsSync(run) ? readdirSync(run) : []).toEqual([]);
  });
});
