import { describe, expect, it } from 'vitest';
import { createPublicKey, createPrivateKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeBase64, pae, signEnvelope, verifyEnvelope, type DsseEnvelope } from '../../src/attest/dsse.js';
import { generateSigningKeyPair, keyIdOf, loadSigningKey } from '../../src/attest/keys.js';
import { sha256Hex } from '../../src/core/hash.js';
import { tempDir } from '../helpers/cli.js';

/** 32-byte big-endian base64url of a decimal integer (JWK coordinates). */
function b64u(decimal: string): string {
  const hex = BigInt(decimal).toString(16).padStart(64, '0');
  return Buffer.from(hex, 'hex').toString('base64url');
}

// The DSSE spec's test vector (secure-systems-lab/dsse protocol.md, "Test Vectors").
const vector = {
  x: '46950820868899156662930047687818585632848591499744589407958293238635476079160',
  y: '5640078356564379163099075877009565129882514886557779369047442380624545832820',
  d: '97358161215184420915383655311931858321456579547487070936769975997791359926199',
  envelope: {
    payload: 'aGVsbG8gd29ybGQ=',
    payloadType: 'http://example.com/HelloWorld',
    signatures: [{ sig: 'A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==' }],
  } satisfies DsseEnvelope,
};
const vectorPublic = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64u(vector.x), y: b64u(vector.y) }, format: 'jwk' });

describe('DSSE', () => {
  it('PAE matches the spec test vector byte for byte', () => {
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString('latin1')).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
    // LEN counts bytes, not characters.
    expect(pae('t', Buffer.from('é', 'utf8')).toString('utf8')).toBe('DSSEv1 1 t 2 é');
  });

  it("accepts the spec's signed envelope (raw r||s ECDSA) and rejects it altered", () => {
    expect(verifyEnvelope(vector.envelope, vectorPublic).ok).toBe(true);
    const altered = { ...vector.envelope, payload: Buffer.from('hello world!').toString('base64') };
    expect(verifyEnvelope(altered, vectorPublic).ok).toBe(false);
    const retyped = { ...vector.envelope, payloadType: 'http://example.com/Other' };
    expect(verifyEnvelope(retyped, vectorPublic).ok).toBe(false);
  });

  it('signs with the spec key so that the result verifies (DER encoding, cosign style)', () => {
    const priv = createPrivateKey({ key: { kty: 'EC', crv: 'P-256', x: b64u(vector.x), y: b64u(vector.y), d: b64u(vector.d) }, format: 'jwk' });
    const env = signEnvelope('http://example.com/HelloWorld', Buffer.from('hello world'), priv);
    expect(env.payload).toBe(vector.envelope.payload);
    const der = Buffer.from(env.signatures[0]!.sig, 'base64');
    expect(der[0]).toBe(0x30); // ASN.1 SEQUENCE: DER, not raw r||s
    expect(verifyEnvelope(env, vectorPublic).ok).toBe(true);
  });

  for (const algorithm of ['ecdsa-p256', 'ed25519'] as const) {
    it(`${algorithm}: round trip; tampered payload and wrong key fail; URL-safe base64 accepted`, () => {
      const pair = generateSigningKeyPair(algorithm);
      const priv = createPrivateKey(pair.privateKeyPem);
      const pub = createPublicKey(pair.publicKeyPem);
      const env = signEnvelope('application/vnd.in-toto+json', Buffer.from('{"a":1}'), priv);
      expect(env.signatures[0]!.keyid).toBe(sha256Hex(pair.publicKeyPem));
      expect(keyIdOf(pub)).toBe(pair.keyid);
      expect(verifyEnvelope(env, pub)).toMatchObject({ ok: true });
      const tampered = { ...env, payload: Buffer.from('{"a":2}').toString('base64') };
      expect(verifyEnvelope(tampered, pub).ok).toBe(false);
      const other = createPublicKey(generateSigningKeyPair(algorithm).publicKeyPem);
      expect(verifyEnvelope(env, other).ok).toBe(false);
      const urlSafe = { ...env, signatures: [{ sig: Buffer.from(env.signatures[0]!.sig, 'base64').toString('base64url') }] };
      expect(verifyEnvelope(urlSafe, pub).ok).toBe(true);
      expect(verifyEnvelope({ ...env, signatures: [] }, pub)).toMatchObject({ ok: false, problem: expect.stringMatching(/unsigned/) });
    });
  }

  it('base64 decoding is strict', () => {
    expect(decodeBase64('aGVsbG8=')!.toString()).toBe('hello');
    expect(decodeBase64('aGVsbG8')!.toString()).toBe('hello');
    expect(decodeBase64('aGV$bG8=')).toBeNull();
  });

  it('an independent verifier (openssl) accepts our PAE bytes and DER signature', () => {
    const dir = tempDir();
    for (const algorithm of ['ecdsa-p256', 'ed25519'] as const) {
      const pair = generateSigningKeyPair(algorithm);
      const body = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', n: algorithm }));
      const env = signEnvelope('application/vnd.in-toto+json', body, createPrivateKey(pair.privateKeyPem));
      const paeFile = join(dir, `${algorithm}.pae`);
      const sigFile = join(dir, `${algorithm}.sig`);
      const pubFile = join(dir, `${algorithm}.pub`);
      // The verifier rebuilds PAE from the envelope fields, independently of our pae().
      const payload = Buffer.from(env.payload, 'base64');
      writeFileSync(paeFile, Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(env.payloadType)} ${env.payloadType} ${payload.length} `), payload]));
      writeFileSync(sigFile, Buffer.from(env.signatures[0]!.sig, 'base64'));
      writeFileSync(pubFile, pair.publicKeyPem);
      const args =
        algorithm === 'ed25519'
          ? ['pkeyutl', '-verify', '-pubin', '-inkey', pubFile, '-rawin', '-in', paeFile, '-sigfile', sigFile]
          : ['dgst', '-sha256', '-verify', pubFile, '-signature', sigFile, paeFile];
      expect(execFileSync('openssl', args, { encoding: 'utf8' })).toMatch(/Verified Successfully|Verified OK|Signature Verified Successfully/);
      // And openssl rejects a flipped payload byte.
      const paeBytes = Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(env.payloadType)} ${env.payloadType} ${payload.length} `), payload]);
      paeBytes[paeBytes.length - 2] ^= 1;
      writeFileSync(paeFile, paeBytes);
      expect(() => execFileSync('openssl', args, { stdio: 'pipe' })).toThrow();
    }
  });
});

describe('signing keys', () => {
  it('come from --sign-key or MEMAUDIT_SIGNING_KEY (PEM or path), with one-line errors naming the source', () => {
    const dir = tempDir();
    const pair = generateSigningKeyPair();
    const file = join(dir, 'k.pem');
    writeFileSync(file, pair.privateKeyPem, { mode: 0o600 });
    expect(loadSigningKey(file, {})!.keyid).toBe(pair.keyid);
    expect(loadSigningKey(undefined, { MEMAUDIT_SIGNING_KEY: pair.privateKeyPem })!.source).toBe('$MEMAUDIT_SIGNING_KEY');
    expect(loadSigningKey(undefined, { MEMAUDIT_SIGNING_KEY: file })!.keyid).toBe(pair.keyid);
    expect(loadSigningKey(undefined, {})).toBeNull();
    writeFileSync(file, 'not a key');
    expect(() => loadSigningKey(file, {})).toThrow(`${file}: not a PKCS#8 PEM private key`);
    expect(() => loadSigningKey(join(dir, 'nope.pem'), {})).toThrow(/nope.pem: cannot read the signing key \(file not found\)/);
    writeFileSync(file, pair.privateKeyPem);
    chmodSync(file, 0o644);
    expect(loadSigningKey(file, {})!.warning).toMatch(/readable by other users/);
  });
});
