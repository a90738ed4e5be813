/**
 * The queue's address: a `redis://` or `rediss://` (TLS) URL, optionally with Redis AUTH
 * (`rediss://user:password@host:6380/0`). The credentials are secret: every message names the queue
 * by `redactQueueUrl`, never by the URL as given.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { UsageError } from '../../core/errors.js';
import { redactTarget } from '../../targets/redact.js';

/** The BullMQ queue every memaudit submitter and worker shares. */
export const QUEUE_NAME = 'memaudit-jobs';

/** The URL as shown in messages: no user:password (a garbled URL hides everything up to its last "@"). */
export function redactQueueUrl(url: string): string {
  return redactTarget(url);
}

/** ioredis options for a queue URL; a malformed URL is a usage error (exit 2) naming the redacted URL. */
export function redisOptionsFor(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not echoed: a value that is no URL may be a misplaced password.
    throw new UsageError('--queue must be a redis://HOST:PORT or rediss://USER:PASSWORD@HOST:PORT URL (the value given is not a URL)');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new UsageError(`--queue must be a redis:// or rediss:// URL, got ${redactQueueUrl(url)}`);
  }
  if (!parsed.hostname) throw new UsageError(`--queue ${redactQueueUrl(url)} names no host`);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new UsageError(`--queue ${redactQueueUrl(url)}: the path must be a database number`);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    // BullMQ requires it: commands wait for a reconnect instead of failing after N retries; the
    // submitter bounds the wait itself (--queue-timeout).
    maxRetriesPerRequest: null,
    retryStrategy: (attempt: number) => Math.min(100 * attempt, 1000),
  };
}

/**
 * A connection to the queue's Redis. Connection errors are kept (the last one) instead of being
 * printed by ioredis, so the caller decides what to say and when.
 */
export function connectQueue(url: string): { redis: Redis; lastError: () => string | undefined } {
  const redis = new Redis(redisOptionsFor(url));
  let last: string | undefined;
  redis.on('error', (e: Error) => {
    last = e.message;
  });
  redis.on('ready', () => {
    last = undefined;
  });
  return { redis, lastError: () => last };
}
