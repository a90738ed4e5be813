/**
 * Retry timing: exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff
 * and Jitter", 2015), overridden by the server's Retry-After when it sends one (RFC 9110 §10.2.3).
 */

export interface BackoffOptions {
  /** First backoff ceiling in ms; attempt k waits uniform(0, min(maxMs, baseMs * 2^k)). */
  baseMs: number;
  maxMs: number;
}

/** Delay before retry number `attempt` (0-based), in ms. `random` is uniform in [0, 1). */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/**
 * Parses a Retry-After header: delay-seconds or an HTTP-date. Returns ms to wait, or undefined when
 * absent or unparseable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const when = Date.parse(text);
  if (Number.isNaN(when)) return undefined;
  return Math.max(0, when - now);
}

/** HTTP statuses worth retrying: rate limiting, request timeout and transient server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}
