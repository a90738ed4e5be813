/**
 * DP claims bound to the weights: `train --dp --sign-key` writes provenance.dsse.json; the ledger of
 * a real DP training run (seeded and CSPRNG noise) verifies; the provenance is trusted with the
 * signer's key, untrusted with another, invalid once a weight byte flips (and `attest verify`
 * then exits 1), and a statement that leaves a weight file out does not count.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicKey } from 'node:crypto';
import { computeEpsilon, readPrivacyLedger, type PrivacyLedgerFile } from '../../src/accounting/index.js';
import { attestStatement } from '../../src/attest/attestation.js';
import { loadSigningKey, writeKeyPair } from '../../src/attest/keys.js';
import { provenanceFileName, provenancePredicateType, provenanceStatement, verifyProvenance, writeProvenance, type TrainingProvenancePredicate } from '../../src/attest/provenance.js';
import { readEnvelope } from '../../src/attest/verify.js';
import { buildStatement } from '../../src/attest/statement.js';
import { dpClaimFor, verifyModelDirLedger } from '../../src/report/dp-claim.js';
import type { TargetDescriptor } from '../../src/targets/target.js';
import { runCli, tempDir } from '../helpers/cli.js';

let dir: string;
let data: string;
let signer: Awaited<ReturnType<typeof writeKeyPair>>;
let other: Awaited<ReturnType<typeof writeKeyPair>>;
let seeded: string;
let csprng: string;

const pub = (pem: string) => createPublicKey(pem);

function train(out: string, extra: string[], env: NodeJS.ProcessEnv = {}) {
  return runCli(['train', '--data', data, '--model', 'mlp', '--label-column', 'label', '--dp', '--noise-multiplier', '1', '--batch-size', '20', '--epochs', '1', '--hidden', '8', '--out', out, '--backend', 'wasm', '--json', ...extra], { env: { MEMAUDIT_SIGNING_KEY: '', ...env } });
}

beforeAll(async () => {
  dir = tempDir();
  signer = await writeKeyPair(join(dir, 'signer'));
  other = await writeKeyPair(join(dir, 'other'), 'ed25519');
  data = join(dir, 'rows.csv');
  const rows = Array.from({ length: 80 }, (_, i) => `${20 + (i % 50)},${i % 3 === 0 ? 'f' : 'm'},${i % 2 === 0 ? 'yes' : 'no'}`);
  writeFileSync(data, ['age,sex,label', ...rows].join('\n') + '\n');
  seeded = join(dir, 'seeded');
  csprng = join(dir, 'csprng');
  const [a, b] = await Promise.all([
    train(seeded, ['--seed', '7', '--sign-key', signer.privateKeyPath]),
    train(csprng, [], { MEMAUDIT_SIGNING_KEY: signer.privateKeyPath }), // the key from the environment, as audit reads it
  ]);
  expect(a.code, a.stderr).toBe(0);
  expect(b.code, b.stderr).toBe(0);
  expect(JSON.parse(a.stdout)).toMatchObject({ provenance: join(seeded, provenanceFileName), provenanceKeyid: signer.keyid, noiseSource: 'seeded' });
  expect(JSON.parse(b.stdout)).toMatchObject({ provenance: join(csprng, provenanceFileName), provenanceKeyid: signer.keyid, noiseSource: 'csprng' });
}, 120_000);

describe('train --dp --sign-key', () => {
  it('writes a ledger that recomputes and matches memaudit.json (seeded and CSPRNG noise)', () => {
    for (const model of [seeded, csprng]) {
      const ledger = readPrivacyLedger(join(model, 'privacy.json')) as PrivacyLedgerFile;
      const v = verifyModelDirLedger(model, ledger);
      expect(v.mismatches).toEqual([]);
      expect(v.ledgerVerified).toBe(true);
      expect(v.recomputedEpsilon).toBeCloseTo(ledger.epsilon.rdp, 6);
    }
  });

  it('signs a provenance statement covering the weight files, memaudit.json and privacy.json, with the ledger and data digest', () => {
    const envelope = readEnvelope(join(seeded, provenanceFileName));
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString()) as { subject: { name: string }[]; predicateType: string; predicate: TrainingProvenancePredicate };
    expect(statement.predicateType).toBe(provenancePredicateType);
    expect(statement.subject.map((s) => s.name)).toEqual(['memaudit.json', 'model.json', 'privacy.json', 'weights.bin']);
    const meta = JSON.parse(readFileSync(join(seeded, 'memaudit.json'), 'utf8'));
    expect(statement.predicate.trainingData).toEqual(meta.trainingData);
    expect(statement.predicate.config).toEqual(meta.training);
    expect(statement.predicate.ledger).toEqual(JSON.parse(readFileSync(join(seeded, 'privacy.json'), 'utf8')));
    expect(statement.predicate.noiseSource).toBe('seeded');
    expect(statement.predicate.signer.keyid).toBe(signer.keyid);
  });

  it('is trusted with the signer\'s key, untrusted with another key or none, unsigned when absent', async () => {
    expect(await verifyProvenance(seeded, [pub(signer.publicKeyPem)])).toMatchObject({ provenance: 'trusted', keyId: signer.keyid });
    expect(await verifyProvenance(csprng, [pub(other.publicKeyPem), pub(signer.publicKeyPem)])).toMatchObject({ provenance: 'trusted', keyId: signer.keyid });
    const untrusted = await verifyProvenance(seeded, [pub(other.publicKeyPem)]);
    expect(untrusted).toMatchObject({ provenance: 'untrusted', keyId: signer.keyid });
    expect(untrusted.problem).toMatch(/not a trusted key/);
    expect((await verifyProvenance(seeded, [])).provenance).toBe('untrusted');
    const bare = join(dir, 'bare');
    cpSync(seeded, bare, { recursive: true, filter: (p) => !p.endsWith(provenanceFileName) });
    expect((await verifyProvenance(bare, [pub(signer.publicKeyPem)])).provenance).toBe('unsigned');
  });

  it('attest show prints the training record of a provenance statement: data digest, ledger, signer, time', async () => {
    const r = await runCli(['attest', 'show', join(seeded, provenanceFileName), '--key', signer.publicKeyPath]);
    expect(r.code, r.stderr).toBe(0);
    const meta = JSON.parse(readFileSync(join(seeded, 'memaudit.json'), 'utf8'));
    expect(r.stdout).toMatch(/statement +training provenance/);
    expect(r.stdout).toMatch(new RegExp(`signature +valid under`));
    expect(r.stdout).toContain(`${meta.trainingData.records} records, sha256 ${meta.trainingData.sha256.slice(0, 16)}`);
    expect(r.stdout).toMatch(/DP ledger +epsilon [\d.]+ at delta [\d.e-]+ \((rdp|pld)\), 4 steps, noise multiplier 1, seeded noise/);
    expect(r.stdout).toMatch(new RegExp(`signer key +${signer.keyid}`));
    expect(r.stdout).toMatch(/Subjects \(4\):[\s\S]*weights\.bin {2}sha256 [0-9a-f]{16}/);
  });

  it('is invalid once a weight byte flips, and attest verify then exits 1 naming the file', async () => {
    const model = join(dir, 'flipped');
    cpSync(seeded, model, { recursive: true });
    const ok = await runCli(['attest', 'verify', '--attestation', join(model, provenanceFileName), '--key', signer.publicKeyPath, '--model', model, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, predicateType: provenancePredicateType, subjects: 4 });
    const weights = readFileSync(join(model, 'weights.bin'));
    weights[weights.length >> 1] ^= 0x01;
    writeFileSync(join(model, 'weights.bin'), weights);
    const v = await verifyProvenance(model, [pub(signer.publicKeyPem)]);
    expect(v.provenance).toBe('invalid');
    expect(v.problem).toMatch(/weights\.bin was modified/);
    // With an untrusted signer, a change is still invalid, not merely untrusted.
    expect((await verifyProvenance(model, [])).provenance).toBe('invalid');
    const bad = await runCli(['attest', 'verify', '--attestation', join(model, provenanceFileName), '--key', signer.publicKeyPath, '--model', model]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toEqual([expect.stringMatching(/weights\.bin was modified/)]);
  });

  it('a hand-edited privacy.json breaks the signature binding and the ledger check; re-signing it with another key is only untrusted', async () => {
    const model = join(dir, 'edited');
    cpSync(seeded, model, { recursive: true });
    const path = join(model, 'privacy.json');
    const ledger = JSON.parse(readFileSync(path, 'utf8')) as PrivacyLedgerFile;
    ledger.epsilon.rdp = 0.5;
    ledger.epsilonHistory[ledger.epsilonHistory.length - 1]!.epsilon = 0.5;
    writeFileSync(path, JSON.stringify(ledger));
    expect((await verifyProvenance(model, [pub(signer.publicKeyPem)])).provenance).toBe('invalid');
    expect(verifyModelDirLedger(model, ledger).mismatches.map((m) => m.field)).toEqual(['epsilon.rdp']);
    const forger = loadSigningKey(other.privateKeyPath)!;
    const { envelope } = attestStatement(await provenanceStatement(model, forger.key), forger);
    writeFileSync(join(model, provenanceFileName), JSON.stringify(envelope));
    expect(await verifyProvenance(model, [pub(signer.publicKeyPem)])).toMatchObject({ provenance: 'untrusted', keyId: other.keyid });
  });

  it('a trusted signature that leaves a weight file out does not vouch for the weights', async () => {
    const model = join(dir, 'partial');
    cpSync(seeded, model, { recursive: true });
    const key = loadSigningKey(signer.privateKeyPath)!;
    const full = await provenanceStatement(model, key.key);
    const partial = buildStatement(full.subject.filter((s) => s.name !== 'weights.bin'), provenancePredicateType, full.predicate);
    writeFileSync(join(model, provenanceFileName), JSON.stringify(attestStatement(partial, key).envelope));
    const v = await verifyProvenance(model, [pub(signer.publicKeyPem)]);
    expect(v.provenance).toBe('invalid');
    expect(v.problem).toMatch(/weights\.bin is read when the model loads but is not an attested subject/);
    const cli = await runCli(['attest', 'verify', '--attestation', join(model, provenanceFileName), '--key', signer.publicKeyPath, '--model', model]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/weights\.bin/);
  });

  it('a privacy.json rewritten consistently with q/10 (or another noise multiplier) is caught by memaudit.json', () => {
    const model = join(dir, 'q10');
    cpSync(seeded, model, { recursive: true });
    const path = join(model, 'privacy.json');
    const rewrite = (edit: (l: PrivacyLedgerFile) => void): string[] => {
      const l = JSON.parse(readFileSync(join(seeded, 'privacy.json'), 'utf8')) as PrivacyLedgerFile;
      edit(l);
      l.epsilon = { rdp: computeEpsilon(l.segments, l.delta).epsilon, pld: computeEpsilon(l.segments, l.delta, { accountant: 'pld' }).epsilon };
      l.epsilonHistory = [{ step: l.steps, epsilon: l.epsilon.rdp }];
      writeFileSync(path, JSON.stringify(l));
      return verifyModelDirLedger(model, readPrivacyLedger(path) as PrivacyLedgerFile).mismatches.map((m) => m.field);
    };
    expect(rewrite((l) => {
      l.samplingRate /= 10;
      l.expectedBatchSize = l.samplingRate * l.datasetSize;
      l.segments = l.segments.map((g) => ({ ...g, samplingRate: l.samplingRate }));
    })).toEqual(['samplingRate', 'expectedBatchSize', 'segments[0].samplingRate']);
    expect(rewrite((l) => {
      l.noiseMultiplier = 3;
      l.segments = l.segments.map((g) => ({ ...g, noiseMultiplier: 3 }));
    })).toEqual(['noiseMultiplier', 'segments[0].noiseMultiplier']);
  });

  it('carries the trainer\'s self-audit record into the provenance predicate and dpClaim', async () => {
    const model = join(dir, 'self-audit');
    cpSync(seeded, model, { recursive: true, filter: (p) => !p.endsWith(provenanceFileName) });
    const path = join(model, 'privacy.json');
    const ledger = JSON.parse(readFileSync(path, 'utf8')) as PrivacyLedgerFile;
    const selfAudit = { method: 'one-run-whitebox' as const, canaries: 100, guesses: 20, correct: 15, epsilonLowerBound: 0.4, confidence: 0.95, ceiling: 2.1, claimedEpsilon: ledger.epsilon.rdp, refuted: false };
    writeFileSync(path, JSON.stringify({ ...ledger, selfAudit }));
    const key = loadSigningKey(signer.privateKeyPath)!;
    await writeProvenance(model, key);
    expect((await provenanceStatement(model, key.key)).predicate.selfAudit).toEqual(selfAudit);
    const claim = await dpClaimFor({ kind: 'local', target: model } as TargetDescriptor, [pub(signer.publicKeyPem)]);
    expect(claim).toMatchObject({ provenance: 'trusted', selfAudit });
    // A self-audit record the training config never asked for (no --self-audit) is named, not trusted.
    expect(claim?.mismatches.map((m) => m.field)).toContain('selfAudit.canaries');
  });

  it('refuses a bad signing key before training: exit 2, one line, no model directory', async () => {
    const bogus = join(dir, 'bogus.key');
    writeFileSync(bogus, 'not a key\n');
    const out = join(dir, 'never');
    const r = await train(out, ['--sign-key', bogus]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/bogus\.key: not a PKCS#8 PEM private key/)]);
    expect(existsSync(out)).toBe(false);
  });
});
