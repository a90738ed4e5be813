/**
 * On-disk response cache for API targets, so an interrupted probe resumes without repeating paid
 * requests.
 *
 * Keyed by a digest of the request (method, URL, canonical JSON body) and never of its headers, so
 * the API key is not part of the key and never reaches disk. Entries are encrypted with AES-256-GCM
 * under a key derived from the request itself (convergent encryption): responses can contain echoed
 * training records or generations, and "no PHI in caches" (DESIGN.md) means a cache directory on its
 * own must not reveal them. Only a holder of the exact request can read its entry back.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/atomic.js';
import { canonicalJson } from '../../core/hash.js';
import { InputError } from '../../core/errors.js';

export interface CacheableRequest {
  method: string;
  url: string;
  body?: unknown;
}

const format = 'memaudit-response-cache-v1';

function digest(label: string, request: CacheableRequest): Buffer {
  return createHash('sha256')
    .update(`${format}\0${label}\0`)
    .update(canonicalJson({ method: request.method.toUpperCase(), url: request.url, body: request.body ?? null }))
    .digest();
}

export class ResponseCache {
  readonly dir: string;
  hits = 0;
  writes = 0;

  constructor(dir: string) {
    this.dir = dir;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new InputError(`--cache-dir ${dir}: cannot create the cache folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }

  /** The file holding a request's entry: named by a digest, so the name reveals nothing either. */
  pathFor(request: CacheableRequest): string {
    const name = digest('name', request).toString('hex');
    return join(this.dir, name.slice(0, 2), `${name}.bin`);
  }

  /** The cached response body text, or undefined (missing, corrupt or written by another format). */
  get(request: CacheableRequest): string | undefined {
    let data: Buffer;
    try {
      data = readFileSync(this.pathFor(request));
    } catch {
      return undefined;
    }
    if (data.length < 28) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', digest('key', request), data.subarray(0, 12));
      decipher.setAuthTag(data.subarray(12, 28));
      const text = Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]).toString('utf8');
      this.hits++;
      return text;
    } catch {
      return undefined; // a damaged entry is a miss; the fresh response overwrites it
    }
  }

  set(request: CacheableRequest, body: string): void {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', digest('key', request), iv);
    const ciphertext = Buffer.concat([cipher.update(body, 'utf8'), cipher.final()]);
    writeFileAtomic(this.pathFor(request), Buffer.concat([iv, cipher.getAuthTag(), ciphertext]), { mode: 0o600 });
    this.writes++;
  }
}
