/** SHA-256 digests of files, streams, strings and canonical JSON. Hex, lower case. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function sha256Stream(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function sha256File(path: string): Promise<string> {
  return sha256Stream(createReadStream(path));
}

/**
 * JSON with object keys sorted recursively (RFC 8785-style for the values we write: no floats
 * needing special formatting beyond JS's shortest round-trip form), so a digest of a document does
 * not depend on key order.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** Digest of a JSON value, independent of key order. */
export function sha256Json(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

/** Hashes a stream's bytes while passing them on: for digests of data a command is reading anyway. */
export class RunningDigest {
  private readonly hash = createHash('sha256');
  bytes = 0;
  update(chunk: Uint8Array | string): void {
    this.hash.update(chunk);
    this.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
  }
  hex(): string {
    return this.hash.digest('hex');
  }
}
