/**
 * DSSE (Dead Simple Signing Envelope, secure-systems-lab/dsse protocol.md v1.0):
 * SIGNATURE = Sign(PAE(UTF8(PAYLOAD_TYPE), SERIALIZED_BODY)) with
 * PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, LEN = decimal byte length.
 *
 * Verification follows the spec's order: decode, verify the signature over the exact received
 * bytes, and only then let the caller parse the payload. `keyid` is an unauthenticated hint and
 * never decides anything here.
 */
import { sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { keyAlgorithm, keyIdOf } from './keys.js';

export interface DsseSignature {
  keyid?: string;
  sig: string;
}

export interface DsseEnvelope {
  payload: string;
  payloadType: string;
  signatures: DsseSignature[];
}

/** The in-toto payload type (in-toto attestation spec v1, envelope.md). */
export const inTotoPayloadType = 'application/vnd.in-toto+json';

/** Pre-Authentication Encoding: the exact bytes that are signed. */
export function pae(payloadType: string, body: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'ascii'),
    type,
    Buffer.from(` ${body.length} `, 'ascii'),
    Buffer.from(body),
  ]);
}

/** Signs PAE bytes with a private key: ECDSA P-256/SHA-256 (DER, as cosign) or Ed25519 (pure). */
export function signBytes(message: Uint8Array, privateKey: KeyObject): Buffer {
  const alg = keyAlgorithm(privateKey);
  return alg === 'ed25519' ? cryptoSign(null, message, privateKey) : cryptoSign('sha256', message, { key: privateKey, dsaEncoding: 'der' });
}

/**
 * Verifies a signature over `message`. ECDSA signatures are accepted DER-encoded (cosign, ours)
 * or as raw r||s (the DSSE spec's own test vector uses that encoding).
 */
export function verifyBytes(message: Uint8Array, signature: Uint8Array, publicKey: KeyObject): boolean {
  const alg = keyAlgorithm(publicKey);
  try {
    if (alg === 'ed25519') return cryptoVerify(null, message, publicKey, signature);
    if (cryptoVerify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, signature)) return true;
  } catch {
    // not DER: try raw r||s below
  }
  if (alg === 'ecdsa-p256' && signature.length === 64) {
    try {
      return cryptoVerify('sha256', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
    } catch {
      return false;
    }
  }
  return false;
}

/** Builds a signed envelope around `body` (standard base64, keyid = sha256 of the PEM SPKI). */
export function signEnvelope(payloadType: string, body: Uint8Array, privateKey: KeyObject): DsseEnvelope {
  const sig = signBytes(pae(payloadType, body), privateKey);
  return {
    payload: Buffer.from(body).toString('base64'),
    payloadType,
    signatures: [{ keyid: keyIdOf(privateKey), sig: sig.toString('base64') }],
  };
}

/** An envelope with no signatures: what `audit` writes when no signing key was given. */
export function unsignedEnvelope(payloadType: string, body: Uint8Array): DsseEnvelope {
  return { payload: Buffer.from(body).toString('base64'), payloadType, signatures: [] };
}

/**
 * Strict base64 decoding accepting the standard and URL-safe alphabets (the spec requires
 * verifiers to accept both); anything else is null rather than silently skipped characters.
 */
export function decodeBase64(text: string): Buffer | null {
  if (typeof text !== 'string') return null;
  const standard = text.replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(standard)) return null;
  const unpadded = standard.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return null;
  return Buffer.from(unpadded, 'base64');
}

export type EnvelopeCheck =
  | { ok: true; body: Buffer; keyid?: string }
  | { ok: false; problem: string };

/** Checks that the envelope has the expected shape and a signature valid under `publicKey`. */
export function verifyEnvelope(envelope: DsseEnvelope, publicKey: KeyObject): EnvelopeCheck {
  const body = decodeBase64(envelope.payload);
  if (body === null) return { ok: false, problem: 'payload is not valid base64' };
  if (!Array.isArray(envelope.signatures) || envelope.signatures.length === 0) {
    return { ok: false, problem: 'the envelope is unsigned (it was written without a signing key)' };
  }
  const message = pae(envelope.payloadType, body);
  for (const s of envelope.signatures) {
    const sig = decodeBase64(s.sig);
    if (sig !== null && verifyBytes(message, sig, publicKey)) return { ok: true, body, keyid: s.keyid };
  }
  return { ok: false, problem: 'no signature verifies with this public key (wrong key, or the payload was altered)' };
}
