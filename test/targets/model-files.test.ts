/**
 * What is attested is what is loaded: a model.json's weight paths stay inside the model directory,
 * and the attestation's subjects are exactly the files the loader reads (sharded weights included).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../src/core/backend.js';
import { InputError } from '../../src/core/errors.js';
import { attestStatement } from '../../src/attest/attestation.js';
import { loadSigningKey } from '../../src/attest/keys.js';
import { privacyAuditStatement } from '../../src/attest/predicate.js';
import { sha256Hex } from '../../src/core/hash.js';
import { loadModelDir, modelFiles } from '../../src/models/model-dir.js';
import { buildReport, serializeReport } from '../../src/report/assemble.js';
import { defaultPolicy } from '../../src/policy/load.js';
import { openTarget } from '../../src/targets/index.js';
import { cleanEvidence, target as fixtureTarget } from '../policy/fixtures.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { makeCharLmDir } from './fixtures.js';

let work: string;
let lmDir: string;

beforeAll(async () => {
  await initBackend('wasm');
  work = tempDir();
  lmDir = await makeCharLmDir(work, { name: 'lm' });
});

/** A copy of the model whose model.json names `paths` instead of weights.bin. */
function withWeightPaths(name: string, paths: string[]): string {
  const dir = join(work, name);
  cpSync(lmDir, dir, { recursive: true });
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  json.weightsManifest[0].paths = paths;
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  return dir;
}

/** A copy of the model with its weights split into two shards, as tfjs converters write them. */
function sharded(name: string): string {
  const dir = withWeightPaths(name, ['group1-shard1of2.bin', 'group1-shard2of2.bin']);
  const weights = readFileSync(join(dir, 'weights.bin'));
  const half = Math.floor(weights.length / 2);
  writeFileSync(join(dir, 'group1-shard1of2.bin'), weights.subarray(0, half));
  writeFileSync(join(dir, 'group1-shard2of2.bin'), weights.subarray(half));
  rmSync(join(dir, 'weights.bin'));
  return dir;
}

async function refusal(dir: string): Promise<InputError> {
  const e = await openTarget(dir).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(InputError);
  return e as InputError;
}

/** An attestation signed over `files` as the subjects of a run on `model`. */
function attest(dir: string, model: string, files: { name: string; sha256: string }[], keyFile: string): string {
  const { report } = buildReport(
    { ...cleanEvidence(), target: { ...fixtureTarget, target: model, files }, backend: 'wasm', seed: '1', startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:00:01.000Z' },
    defaultPolicy(),
  );
  const att = attestStatement(privacyAuditStatement(report, sha256Hex(serializeReport(report)), { seq: 1, hash: 'f'.repeat(64) }), loadSigningKey(keyFile, {}));
  const path = join(dir, `${files.length}-attestation.dsse.json`);
  writeFileSync(path, JSON.stringify(att.envelope));
  return path;
}

describe('model files: confinement and attestation subjects', () => {
  it('refuses weight paths that leave the model directory (.., absolute, symlink out), naming the path', async () => {
    const outside = join(work, 'S');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'weights.bin'), readFileSync(join(lmDir, 'weights.bin')));
    const climbing = withWeightPaths('climb', ['../S/weights.bin']);
    expect((await refusal(climbing)).message).toMatch(/"\.\.\/S\/weights\.bin" climbs out/);
    const passwd = withWeightPaths('passwd', ['../../../../../../etc/passwd']);
    expect((await refusal(passwd)).message).toContain('"../../../../../../etc/passwd"');
    const absolute = withWeightPaths('absolute', [join(outside, 'weights.bin')]);
    expect((await refusal(absolute)).message).toMatch(/absolute/);
    const linked = withWeightPaths('linked', ['weights.bin']);
    rmSync(join(linked, 'weights.bin'));
    symlinkSync(join(outside, 'weights.bin'), join(linked, 'weights.bin'));
    expect((await refusal(linked)).message).toMatch(/"weights\.bin" is a symlink leading outside/);
    // The built CLI says the same in one line, exit 2.
    const r = await runCli(['serve', '--model', climbing, '--port', '0', '--backend', 'wasm']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('../S/weights.bin');
  });

  it('the subjects carry the digests of the bytes loaded, not of a later read; a symlinked memaudit.json is refused', async () => {
    const dir = withWeightPaths('reread', ['weights.bin']);
    const loaded = await loadModelDir(dir);
    loaded.model.dispose();
    expect(loaded.files).toEqual(modelFiles(dir));
    // Swapped after loading: the digest attested is still that of the weights that were loaded.
    const weights = readFileSync(join(dir, 'weights.bin'));
    writeFileSync(join(dir, 'weights.bin'), Buffer.from(weights.map((b) => b ^ 1)));
    expect(loaded.files.find((f) => f.name === 'weights.bin')!.sha256).toBe(sha256Hex(weights));
    expect(modelFiles(dir).find((f) => f.name === 'weights.bin')!.sha256).not.toBe(sha256Hex(weights));

    const linked = withWeightPaths('meta-linked', ['weights.bin']);
    mkdirSync(join(work, 'S'), { recursive: true });
    cpSync(join(linked, 'memaudit.json'), join(work, 'S', 'memaudit.json'));
    rmSync(join(linked, 'memaudit.json'));
    symlinkSync(join(work, 'S', 'memaudit.json'), join(linked, 'memaudit.json'));
    expect((await refusal(linked)).message).toMatch(/"memaudit\.json" is a symlink leading outside/);
  });

  it('a sharded model loads, its subjects are exactly the files read, and swapping a shard fails attest verify', async () => {
    const dir = sharded('sharded');
    const loaded = await openTarget(dir);
    const described = await loaded.describe();
    await loaded.close();
    expect(described.files!.map((f) => f.name)).toEqual(['group1-shard1of2.bin', 'group1-shard2of2.bin', 'memaudit.json', 'model.json', 'privacy.json']);
    expect(described.files).toEqual(modelFiles(dir));

    const keys = join(work, 'keys');
    const keygen = await runCli(['attest', 'keygen', '--out', keys]);
    expect(keygen.code, keygen.stderr).toBe(0);
    const pub = join(keys, 'memaudit.pub');
    const good = attest(work, dir, described.files!, join(keys, 'memaudit.key'));
    const ok = await runCli(['attest', 'verify', '--attestation', good, '--key', pub, '--model', dir]);
    expect(ok.code, ok.stderr).toBe(0);

    // An attestation over the four fixed names of a memaudit directory leaves the shards out: refused.
    const partial = attest(work, dir, described.files!.filter((f) => !f.name.startsWith('group1')), join(keys, 'memaudit.key'));
    const uncovered = await runCli(['attest', 'verify', '--attestation', partial, '--key', pub, '--model', dir]);
    expect(uncovered.code).toBe(1);
    expect(uncovered.stderr).toMatch(/group1-shard1of2\.bin is read when the model loads but is not an attested subject/);

    const shard = join(dir, 'group1-shard2of2.bin');
    const bytes = readFileSync(shard);
    bytes[0] = bytes[0]! ^ 0xff;
    writeFileSync(shard, bytes);
    const swapped = await runCli(['attest', 'verify', '--attestation', good, '--key', pub, '--model', dir]);
    expect(swapped.code).toBe(1);
    expect(swapped.stderr).toMatch(/group1-shard2of2\.bin was modified/);
  });
});
