import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';
import { attestStatement } from '../../src/attest/attestation.js';
import { loadPublicKey, loadSigningKey } from '../../src/attest/keys.js';
import { verifyAttestation } from '../../src/attest/verify.js';
import { privacyAuditStatement } from '../../src/attest/predicate.js';
import { sha256Hex } from '../../src/core/hash.js';
import { buildReport, serializeReport } from '../../src/report/assemble.js';
import { defaultPolicy } from '../../src/policy/load.js';
import { cleanEvidence, target } from '../policy/fixtures.js';

/** A model directory, a report about it, and its attestation signed with a fresh keygen key. */
async function signedRun(algorithm: 'ecdsa-p256' | 'ed25519') {
  const dir = tempDir();
  const keys = join(dir, 'keys');
  const keygen = await runCli(['attest', 'keygen', '--out', keys, '--algorithm', algorithm, '--json']);
  expect(keygen.code, keygen.stderr).toBe(0);
  const model = join(dir, 'model');
  mkdirSync(model);
  writeFileSync(join(model, 'model.json'), '{"format":"layers-model"}');
  writeFileSync(join(model, 'weights.bin'), Buffer.from([1, 2, 3, 4]));
  const files = ['model.json', 'weights.bin'].map((name) => ({ name, sha256: sha256Hex(readFileSync(join(model, name))) }));
  const { report } = buildReport(
    { ...cleanEvidence(), target: { ...target, target: model, files }, backend: 'wasm', seed: '1', startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:00:01.000Z' },
    defaultPolicy(),
  );
  const json = serializeReport(report);
  const att = attestStatement(privacyAuditStatement(report, sha256Hex(json), { seq: 3, hash: 'f'.repeat(64) }), loadSigningKey(join(keys, 'memaudit.key'), {}));
  const attPath = join(dir, 'attestation.dsse.json');
  writeFileSync(attPath, JSON.stringify(att.envelope));
  return { dir, keys, model, attPath, envelope: att.envelope, keygen: JSON.parse(keygen.stdout) as { keyid: string } };
}

describe('attest keygen / verify (CLI)', () => {
  it('keygen writes a 0600 private key and a public key, and refuses to overwrite', async () => {
    const dir = tempDir();
    const r = await runCli(['attest', 'keygen', '--out', dir]);
    expect(r.code).toBe(0);
    expect(statSync(join(dir, 'memaudit.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'memaudit.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(readFileSync(join(dir, 'memaudit.pub'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const again = await runCli(['attest', 'keygen', '--out', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(again.stderr).toMatch(/already exists/);
  });

  // The CLI path with the default algorithm; Ed25519 goes through the same verifier (library test below).
  for (const algorithm of ['ecdsa-p256'] as const) {
    it(`${algorithm}: a valid attestation verifies with --model; tampered payload, wrong key and a modified model file each fail`, async () => {
      const run = await signedRun(algorithm);
      const pub = join(run.keys, 'memaudit.pub');
      const ok = await runCli(['attest', 'verify', '--attestation', run.attPath, '--key', pub, '--model', run.model, '--json']);
      expect(ok.code, ok.stderr).toBe(0);
      const result = JSON.parse(ok.stdout);
      expect(result).toMatchObject({ ok: true, verdict: 'NOT_PHI', subjects: 2, keyid: run.keygen.keyid, predicateType: 'urn:memaudit:attestation:privacy-audit:v1' });

      // Tampered payload: the verdict flipped inside the signed statement.
      const statement = JSON.parse(Buffer.from(run.envelope.payload, 'base64').toString());
      statement.predicate.verdict = 'NOT_PHI_EDITED';
      const tampered = join(run.dir, 'tampered.json');
      writeFileSync(tampered, JSON.stringify({ ...run.envelope, payload: Buffer.from(JSON.stringify(statement)).toString('base64') }));
      const t = await runCli(['attest', 'verify', '--attestation', tampered, '--key', pub]);
      expect(t.code).toBe(1);
      expect(t.stderr).toMatch(/no signature verifies/);

      // Wrong key.
      const other = tempDir();
      await runCli(['attest', 'keygen', '--out', other, '--algorithm', algorithm]);
      const w = await runCli(['attest', 'verify', '--attestation', run.attPath, '--key', join(other, 'memaudit.pub')]);
      expect(w.code).toBe(1);

      // Modified model file.
      writeFileSync(join(run.model, 'weights.bin'), Buffer.from([1, 2, 3, 5]));
      const m = await runCli(['attest', 'verify', '--attestation', run.attPath, '--key', pub, '--model', run.model]);
      expect(m.code).toBe(1);
      expect(m.stderr).toMatch(/weights.bin was modified/);
      expect(m.stderr.trim().split('\n')).toHaveLength(1);
    });
  }

  it('ed25519: the same checks through the library verifier', async () => {
    const run = await signedRun('ed25519');
    const pub = loadPublicKey(join(run.keys, 'memaudit.pub')).key;
    expect(await verifyAttestation(run.envelope, pub, run.model)).toMatchObject({ ok: true, problem: null });
    const statement = JSON.parse(Buffer.from(run.envelope.payload, 'base64').toString());
    statement.subject[1].digest.sha256 = '0'.repeat(64);
    const tampered = { ...run.envelope, payload: Buffer.from(JSON.stringify(statement)).toString('base64') };
    expect((await verifyAttestation(tampered, pub)).ok).toBe(false);
    expect((await verifyAttestation(run.envelope, loadPublicKey(join((await signedRun('ed25519')).keys, 'memaudit.pub')).key)).ok).toBe(false);
    writeFileSync(join(run.model, 'model.json'), '{}');
    expect(await verifyAttestation(run.envelope, pub, run.model)).toMatchObject({ ok: false, problem: expect.stringMatching(/model.json was modified/) });
  });

  it('bad inputs are one line, exit 2', async () => {
    const run = await signedRun('ecdsa-p256');
    const notJson = join(run.dir, 'x.json');
    writeFileSync(notJson, '{');
    const a = await runCli(['attest', 'verify', '--attestation', notJson, '--key', join(run.keys, 'memaudit.pub')]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/x.json line 1 column \d+: not valid JSON/);
    const b = await runCli(['attest', 'verify', '--attestation', run.attPath, '--key', join(run.dir, 'missing.pub')]);
    expect(b.code).toBe(2);
    expect(b.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('attest show (CLI)', () => {
  it('prints the decoded statement: verdict, every reason with its numbers, subjects, policy, signer; --json gives the statement', async () => {
    const run = await signedRun('ecdsa-p256');
    const statement = JSON.parse(Buffer.from(run.envelope.payload, 'base64').toString('utf8'));
    const r = await runCli(['attest', 'show', run.attPath]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/signature +NOT CHECKED/);
    expect(r.stdout).toMatch(new RegExp(`signer keyid +${run.keygen.keyid}`));
    expect(r.stdout).toMatch(new RegExp(`verdict +${statement.predicate.verdict} \\(${statement.predicate.result}\\)`));
    expect(r.stdout).toMatch(/policy +memaudit-default, sha256 [0-9a-f]{16}/);
    expect(r.stdout).toMatch(/audit log +entry 3, head sha256 f{16}/);
    expect(r.stdout).toMatch(/Subjects \(2\):\n {2}model\.json {2}sha256 [0-9a-f]{16}\.\.\.\n {2}weights\.bin/);
    for (const reason of statement.predicate.reasons) expect(r.stdout).toContain(`${reason.probe} ${reason.metric}`);
    expect(r.stdout).toMatch(/PASS +canaries secretSpaceBits = [\d.]+ \(pass: >= \d+\)/);
    const json = await runCli(['attest', 'show', run.attPath, '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ signatureChecked: false, signatureValid: null, keyid: run.keygen.keyid, statement });
  });

  it('with --key says the signature is valid, and exits 1 on a tampered payload; a payload that is not base64 is one line, exit 2', async () => {
    const run = await signedRun('ed25519');
    const key = join(run.keys, 'memaudit.pub');
    const ok = await runCli(['attest', 'show', run.attPath, '--key', key]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/signature +valid under/);
    const statement = JSON.parse(Buffer.from(run.envelope.payload, 'base64').toString('utf8'));
    statement.predicate.verdict = 'NOT_PHI';
    statement.predicate.reasons = [];
    const forged = join(run.dir, 'forged.json');
    writeFileSync(forged, JSON.stringify({ ...run.envelope, payload: Buffer.from(JSON.stringify(statement)).toString('base64') }));
    const bad = await runCli(['attest', 'show', forged, '--key', key]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/signature +INVALID/);
    expect(bad.stderr.trim().split('\n')).toEqual([expect.stringMatching(/forged\.json: the signature does not verify/)]);
    const garbage = join(run.dir, 'garbage.json');
    writeFileSync(garbage, JSON.stringify({ ...run.envelope, payload: '%%%' }));
    const g = await runCli(['attest', 'show', garbage]);
    expect(g.code).toBe(2);
    expect(g.stderr.trim().split('\n')).toEqual([expect.stringMatching(/garbage\.json: the DSSE payload is not base64/)]);
  });

  it('attest verify prints the reasons with their numbers', async () => {
    const run = await signedRun('ecdsa-p256');
    const r = await runCli(['attest', 'verify', '--attestation', run.attPath, '--key', join(run.keys, 'memaudit.pub')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/PASS +exposure exceedingFraction@1x = [\d.]+ \(pass: <= [\d.]+\): /);
  });
});

