/**
 * The signature of an insertion manifest: `canary insert --sign-key` writes a DSSE envelope over
 * the manifest's exact bytes beside it (MANIFEST.dsse.json); `audit --trust-key` verifies it, so a
 * manifest edited after insertion (roles swapped, canaries dropped) is refused.
 */
import { existsSync, readFileSync } from 'node:fs';
import { signEnvelope, verifyEnvelope, decodeBase64, type DsseEnvelope } from '../attest/dsse.js';
import { loadPublicKey, type LoadedPrivateKey } from '../attest/keys.js';
import { readEnvelope } from '../attest/verify.js';
import { InputError } from '../core/errors.js';

export const manifestPayloadType = 'application/vnd.memaudit.manifest+json';

/** Where the envelope of a manifest lives: beside it, e.g. manifest.json.dsse.json. */
export function manifestEnvelopePath(manifestPath: string): string {
  return `${manifestPath}.dsse.json`;
}

export function signManifest(manifestBytes: Uint8Array, key: LoadedPrivateKey): DsseEnvelope {
  return signEnvelope(manifestPayloadType, manifestBytes, key.key);
}

export interface ManifestSignature {
  /** verified: by a --trust-key; unverified: signed, but no --trust-key to check it with; unsigned: no envelope. */
  status: 'verified' | 'unverified' | 'unsigned';
  /** The verifying key's id; for an unverified signature, the envelope's unauthenticated hint. */
  keyid: string | null;
}

/**
 * The manifest's signature status; an envelope that is not over this manifest's bytes, or that no
 * trusted key verifies, is an InputError (a manifest that fails its signature is never used).
 */
export function checkManifestSignature(manifestPath: string, trustKeys: string[] = []): ManifestSignature {
  // Every --trust-key is read first: a bad one is an error even when the manifest is unsigned.
  const keys = trustKeys.map((path) => loadPublicKey(path));
  const envelopePath = manifestEnvelopePath(manifestPath);
  if (!existsSync(envelopePath)) return { status: 'unsigned', keyid: null };
  const envelope = readEnvelope(envelopePath);
  if (envelope.payloadType !== manifestPayloadType) throw new InputError(`${envelopePath}: payloadType is not ${manifestPayloadType}`);
  const payload = decodeBase64(envelope.payload);
  if (payload === null || !payload.equals(readFileSync(manifestPath))) {
    throw new InputError(`${envelopePath}: the signed manifest is not ${manifestPath} as it is now (it was changed after it was signed)`);
  }
  if (envelope.signatures.length === 0) return { status: 'unsigned', keyid: null };
  if (trustKeys.length === 0) {
    const hint = envelope.signatures[0]?.keyid;
    return { status: 'unverified', keyid: typeof hint === 'string' && /^[0-9a-f]{64}$/.test(hint) ? hint : null };
  }
  for (const key of keys) if (verifyEnvelope(envelope, key.key).ok) return { status: 'verified', keyid: key.keyid };
  throw new InputError(`${envelopePath}: the manifest's signature does not verify with any --trust-key (${trustKeys.join(', ')})`);
}
