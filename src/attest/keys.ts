/**
 * Signing keys for attestations, all through node:crypto: ECDSA P-256 (the default: cosign's
 * default algorithm and OpenSSF model signing's key mode) or Ed25519 (pure; cosign loads Ed25519
 * as Ed25519ph, so use P-256 where cosign must verify). Private keys are PKCS#8 PEM, public keys
 * SPKI PEM. Keys come from files or environment variables, never from the repository.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { abortAll, AtomicFileWriter, commitAll } from '../core/atomic.js';
import { InputError, UsageError } from '../core/errors.js';
import { sha256Hex } from '../core/hash.js';

export type SigningAlgorithm = 'ecdsa-p256' | 'ed25519';
export const signingAlgorithms: readonly SigningAlgorithm[] = ['ecdsa-p256', 'ed25519'];

/** Environment variable holding the signing key (a PEM, or the path of a PEM file). */
export const signingKeyEnv = 'MEMAUDIT_SIGNING_KEY';
/** Environment variable holding the passphrase of an encrypted PKCS#8 signing key. */
export const signingKeyPassphraseEnv = 'MEMAUDIT_SIGNING_KEY_PASSPHRASE';

export interface KeyPairPem {
  algorithm: SigningAlgorithm;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** SPKI PEM. */
  publicKeyPem: string;
  keyid: string;
}

export function generateSigningKeyPair(algorithm: SigningAlgorithm = 'ecdsa-p256'): KeyPairPem {
  const pair =
    algorithm === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const publicKeyPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    algorithm,
    privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem,
    keyid: sha256Hex(publicKeyPem),
  };
}

/** Where `writeKeyPair` puts a key pair: DIR/memaudit.key (private) and DIR/memaudit.pub (public). */
export function keyPairPaths(dir: string): { privateKey: string; publicKey: string } {
  return { privateKey: join(dir, 'memaudit.key'), publicKey: join(dir, 'memaudit.pub') };
}

/**
 * Generates a key pair and writes it atomically: the private key as PKCS#8 PEM with mode 0600,
 * the public key as SPKI PEM. Refuses to replace an existing pair unless `force`.
 */
export async function writeKeyPair(dir: string, algorithm: SigningAlgorithm = 'ecdsa-p256', force = false): Promise<KeyPairPem & { privateKeyPath: string; publicKeyPath: string }> {
  const paths = keyPairPaths(dir);
  for (const p of [paths.privateKey, paths.publicKey]) if (existsSync(p) && !force) throw new UsageError(`${p} already exists (use --force to replace the key pair)`);
  const pair = generateSigningKeyPair(algorithm);
  const key = new AtomicFileWriter(paths.privateKey, { mode: 0o600 });
  const pub = new AtomicFileWriter(paths.publicKey, { mode: 0o644 });
  try {
    await key.write(pair.privateKeyPem);
    await pub.write(pair.publicKeyPem);
    await commitAll([key, pub]);
  } catch (e) {
    await abortAll([key, pub]);
    throw e;
  }
  return { ...pair, privateKeyPath: paths.privateKey, publicKeyPath: paths.publicKey };
}

/** Which of our algorithms a key is for; anything else (RSA, P-384, ...) is refused. */
export function keyAlgorithm(key: KeyObject, source = 'key'): SigningAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ecdsa-p256';
  const what = key.asymmetricKeyType === 'ec' ? `EC curve ${key.asymmetricKeyDetails?.namedCurve}` : key.asymmetricKeyType;
  throw new InputError(`${source}: unsupported key type ${what}; use ECDSA P-256 or Ed25519 (memaudit attest keygen)`);
}

/** The SPKI PEM of a key's public half, exactly as written by keygen. */
export function publicKeyPemOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'pem' }).toString();
}

/** keyid: hex sha256 of the PEM SPKI (the `publicKey.hint` convention of OpenSSF model signing). */
export function keyIdOf(key: KeyObject): string {
  return sha256Hex(publicKeyPemOf(key));
}

function readKeyFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: cannot read the ${what} (${code === 'ENOENT' ? 'file not found' : code ?? (e as Error).message})`);
  }
}

export interface LoadedPrivateKey {
  key: KeyObject;
  algorithm: SigningAlgorithm;
  keyid: string;
  /** Where it came from, for messages: a path or the environment variable's name. Never the key. */
  source: string;
  /** A warning to print (e.g. a key file readable by others), or null. */
  warning: string | null;
}

/** Parses a PEM private key; the error names the source, never the key material. */
export function parsePrivateKey(pem: string, source: string, passphrase?: string): KeyObject {
  try {
    return createPrivateKey(passphrase === undefined ? { key: pem, format: 'pem' } : { key: pem, format: 'pem', passphrase });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const hint = /PASSPHRASE|BAD_DECRYPT/i.test(code + (e as Error).message)
      ? `encrypted key: set ${signingKeyPassphraseEnv} or the passphrase is wrong`
      : 'not a PKCS#8 PEM private key';
    throw new InputError(`${source}: ${hint}`);
  }
}

/**
 * The signing key from `--sign-key FILE`, else from MEMAUDIT_SIGNING_KEY (a PEM, or a path to
 * one), else null (the statement is then written unsigned and the command says so).
 */
export function loadSigningKey(file: string | undefined, env: NodeJS.ProcessEnv = process.env): LoadedPrivateKey | null {
  let pem: string;
  let source: string;
  let warning: string | null = null;
  if (file) {
    pem = readKeyFile(file, 'signing key');
    source = file;
    try {
      if ((statSync(file).mode & 0o077) !== 0) warning = `${file}: the private key is readable by other users (chmod 600 it)`;
    } catch {
      // unreadable stat: the read above already succeeded, nothing to warn about
    }
  } else {
    const value = env[signingKeyEnv];
    if (!value) return null;
    if (value.includes('-----BEGIN')) {
      pem = value;
      source = `$${signingKeyEnv}`;
    } else {
      pem = readKeyFile(value, `signing key named by $${signingKeyEnv}`);
      source = value;
    }
  }
  const key = parsePrivateKey(pem, source, env[signingKeyPassphraseEnv] || undefined);
  const algorithm = keyAlgorithm(key, source);
  return { key, algorithm, keyid: keyIdOf(key), source, warning };
}

/** A public key from a file: SPKI PEM (a private key file is accepted too; its public half is used). */
export function loadPublicKey(path: string): { key: KeyObject; algorithm: SigningAlgorithm; keyid: string } {
  const pem = readKeyFile(path, 'public key');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new InputError(`${path}: not a PEM public key (SPKI, as written by memaudit attest keygen)`);
  }
  const algorithm = keyAlgorithm(key, path);
  return { key, algorithm, keyid: keyIdOf(key) };
}
