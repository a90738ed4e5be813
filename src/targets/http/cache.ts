/**
 * On-disk response cache for API targets, so an interrupted probe resumes without repeating paid
 * requests.
 *
 * Entries are encrypted with AES-256-GCM; the file name and the key of an entry are HMAC-SHA256 of
 * the request (method, URL, canonical JSON body) under a secret the user holds
 * (`MEMAUDIT_CACHE_KEY`), never under the request alone: the requests memaudit sends are guessable
 * (canary prompts are drawn from a known format, detection prompts are fixed), so a key derived from
 * the request only would let anyone with the cache folder decrypt entries by guessing requests.
 * Responses can hold echoed training records or generations, and "no PHI in caches" means a cache
 * folder without the secret reveals nothing but entry counts and sizes. Headers (the API key) are
 * never part of a key or an entry. The README states what this does and does not protect against.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/atomic.js';
import { canonicalJson } from '../../core/hash.js';
import { InputError, UsageError } from '../../core/errors.js';

export interface CacheableRequest {
  method: string;
  url: string;
  body?: unknown;
}

const format = 'memaudit-response-cache-v2';
/** The environment variable holding the cache secret. */
export const cacheKeyEnv = 'MEMAUDIT_CACHE_KEY';
const minSecretLength = 16;
/** IV and GCM tag before the ciphertext. */
const headerBytes = 28;

/** The cache secret from the environment, or a UsageError saying why caching cannot be done without it. */
export function cacheSecretFrom(env: NodeJS.ProcessEnv, cacheDir: string): string {
  const secret = env[cacheKeyEnv];
  if (secret === undefined || secret.length < minSecretLength) {
    throw new UsageError(
      `--cache-dir ${cacheDir}: set ${cacheKeyEnv} to a secret of at least ${minSecretLength} characters (e.g. openssl rand -hex 32); ` +
        'cached responses may hold training records and are encrypted under it',
    );
  }
  return secret;
}

export class ResponseCache {
  readonly dir: string;
  hits = 0;
  writes = 0;
  private readonly secret: Buffer;
  private readonly maxEntryBytes: number;

  /** `maxEntryBytes`: entries larger than this are misses, never read (the client caps responses at the same size). */
  constructor(dir: string, secret: string, maxEntryBytes = Infinity) {
    if (secret.length < minSecretLength) throw new UsageError(`the response cache needs a secret of at least ${minSecretLength} characters`);
    this.dir = dir;
    this.secret = Buffer.from(secret, 'utf8');
    this.maxEntryBytes = maxEntryBytes;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new InputError(`--cache-dir ${dir}: cannot create the cache folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }

  /** The file holding a request's entry: named by a digest, so the name reveals nothing either. */
  pathFor(request: CacheableRequest): string {
    const name = this.digest('name', request).toString('hex');
    return join(this.dir, name.slice(0, 2), `${name}.bin`);
  }

  /** The cached response body text, or undefined (missing, corrupt or written by another format). */
  get(request: CacheableRequest): string | undefined {
    const path = this.pathFor(request);
    let data: Buffer;
    try {
      if (statSync(path).size > this.maxEntryBytes + headerBytes) return undefined;
      data = readFileSync(path);
    } catch {
      return undefined;
    }
    if (data.length < headerBytes) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.digest('key', request), data.subarray(0, 12));
      decipher.setAuthTag(data.subarray(12, headerBytes));
      const text = Buffer.concat([decipher.update(data.subarray(headerBytes)), decipher.final()]).toString('utf8');
      this.hits++;
      return text;
    } catch {
      return undefined; // a damaged entry is a miss; the fresh response overwrites it
    }
  }

  set(request: CacheableRequest, body: string): void {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.digest('key', request), iv);
    const ciphertext = Buffer.concat([cipher.update(body, 'utf8'), cipher.final()]);
    writeFileAtomic(this.pathFor(request), Buffer.concat([iv, cipher.getAuthTag(), ciphertext]), { mode: 0o600 });
    this.writes++;
  }

  /** HMAC-SHA256 of the request under the user's secret, per purpose (the entry's file name, its key). */
  private digest(label: 'name' | 'key', request: CacheableRequest): Buffer {
    return createHmac('sha256', this.secret)
      .update(`${format}\0${label}\0`)
      .update(canonicalJson({ method: request.method.toUpperCase(), url: request.url, body: request.body ?? null }))
      .digest();
  }
}
