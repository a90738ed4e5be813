/**
 * The HTTP client every API target uses: bounded concurrency, a timeout per attempt, retries with
 * exponential backoff and jitter on 429/5xx/timeouts/truncated responses (honouring Retry-After),
 * a request budget (`--max-requests`), and the encrypted on-disk response cache.
 *
 * Secret headers (the API key) are sent but are never part of a cache key, an error message or a
 * log line. Error messages name the URL with any user:password part removed, and carry nothing of
 * a server's error text but its error type and code from a fixed vocabulary (serverMessageOf).
 *
 * A server is not trusted either: response bodies are capped (`--max-response-mb`), and a redirect
 * to another origin is refused unless allowed (`--allow-redirects`), since the audit would then
 * measure, and send the prompts to, an endpoint other than the one named and attested.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { InconclusiveError, InputError } from '../../core/errors.js';
import type { ResponseCache } from './cache.js';
import { displayUrl, withoutCredentials } from '../redact.js';
import { backoffDelay, isRetryableStatus, parseRetryAfter } from './retry.js';
import { serverMessageOf } from './server-errors.js';

export { serverMessageOf };

export interface HttpClientOptions {
  /** Requests in flight at once. */
  concurrency?: number;
  /** Per-attempt timeout (headers and body), ms. */
  timeoutMs?: number;
  /** Network requests allowed in total (attempts, including retries; cache hits are free). */
  maxRequests?: number;
  /** Retries after the first attempt for retryable failures. */
  maxRetries?: number;
  /** Retries when the server cannot be reached at all (refused, unknown host). */
  maxConnectRetries?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** The longest Retry-After the client waits for; a longer one gives up with a clear line. */
  maxRetryAfterMs?: number;
  /** Headers sent with every request and never recorded anywhere (Authorization). */
  secretHeaders?: Record<string, string>;
  cache?: ResponseCache;
  /** Largest response body read, bytes; a larger one is an error (default 32 MiB). */
  maxResponseBytes?: number;
  /** Follow redirects to another origin (default: refuse them; same-origin redirects are followed). */
  allowRedirects?: boolean;
}

export const defaultMaxResponseBytes = 32 * 2 ** 20;
/** Redirect hops followed for one request at most. */
const maxRedirects = 5;
const redirectStatuses = new Set([301, 302, 303, 307, 308]);

export interface RequestOptions {
  /** Read and write the response cache (default true for POST, false for GET). */
  cache?: boolean;
}

export interface HttpStats {
  /** Network attempts made (what --max-requests counts). */
  requests: number;
  retries: number;
  cacheHits: number;
}

/** A non-retryable HTTP error status (4xx): the server understood and refused the request. */
export class HttpStatusError extends InputError {
  readonly status: number;
  readonly serverMessage: string;
  constructor(url: string, status: number, serverMessage: string) {
    super(`${url}: HTTP ${status}${serverMessage ? ` (${serverMessage})` : ''}`);
    this.status = status;
    this.serverMessage = serverMessage;
  }
}

/** 401/403: the server refused our credentials; capability detection must not read this as "unsupported". */
export function isAuthError(e: unknown): boolean {
  return e instanceof HttpStatusError && (e.status === 401 || e.status === 403);
}

/** The request budget ran out: the probe could not gather its evidence (exit 3, INCONCLUSIVE). */
export class RequestBudgetError extends InconclusiveError {
  constructor(limit: number) {
    super(`request budget exhausted: --max-requests ${limit} reached (rerun with the same --cache-dir to resume without repeating requests)`);
  }
}

export { displayUrl };

/** Percent-decodes a URL's user name or password; one with a stray "%" is taken as written. */
function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

class Semaphore {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(size: number) {
    this.free = size;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** Why one attempt failed, and whether to try again. */
interface AttemptFailure {
  retryable: boolean;
  connect?: boolean;
  reason: string;
  retryAfterMs?: number;
}

const connectCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function describeFetchError(e: unknown, timeoutMs: number): AttemptFailure {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return { retryable: true, reason: `no complete response within ${timeoutMs} ms` };
  const code = err.cause?.code;
  // fetch refuses some ports outright (the Fetch standard's "bad port" list): retrying cannot help.
  if (err.cause?.message === 'bad port') return { retryable: false, connect: true, reason: 'port blocked by fetch (use another port)' };
  if (code && connectCodes.has(code)) return { retryable: true, connect: true, reason: code };
  if (err.message === 'terminated' || code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') {
    return { retryable: true, reason: 'connection closed before the response was complete' };
  }
  return { retryable: true, reason: code ?? err.cause?.message ?? err.message };
}

export class HttpClient {
  readonly stats: HttpStats = { requests: 0, retries: 0, cacheHits: 0 };
  private readonly options: Required<Omit<HttpClientOptions, 'maxRequests' | 'cache' | 'secretHeaders'>> &
    Pick<HttpClientOptions, 'maxRequests' | 'cache' | 'secretHeaders'>;
  private readonly slots: Semaphore;

  constructor(options: HttpClientOptions = {}) {
    this.options = {
      concurrency: options.concurrency ?? 4,
      timeoutMs: options.timeoutMs ?? 60_000,
      maxRetries: options.maxRetries ?? 5,
      maxConnectRetries: options.maxConnectRetries ?? 2,
      retryBaseMs: options.retryBaseMs ?? 500,
      retryMaxMs: options.retryMaxMs ?? 30_000,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 300_000,
      maxResponseBytes: options.maxResponseBytes ?? defaultMaxResponseBytes,
      allowRedirects: options.allowRedirects ?? false,
      maxRequests: options.maxRequests,
      cache: options.cache,
      secretHeaders: options.secretHeaders,
    };
    this.slots = new Semaphore(this.options.concurrency);
  }

  postJson<T = unknown>(url: string, body: unknown, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('POST', url, body, options.cache ?? true);
  }

  getJson<T = unknown>(url: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('GET', url, undefined, options.cache ?? false);
  }

  private async request<T>(method: 'GET' | 'POST', url: string, body: unknown, useCache: boolean): Promise<T> {
    const cache = useCache ? this.options.cache : undefined;
    // Keyed by the URL without user:password: credentials never shape a cache entry.
    const key = { method, url: withoutCredentials(url), body };
    if (cache) {
      const cached = cache.get(key);
      if (cached !== undefined) {
        try {
          const value = JSON.parse(cached) as T;
          this.stats.cacheHits++;
          return value;
        } catch {
          // unreadable entry: fetch again
        }
      }
    }
    await this.slots.acquire();
    try {
      const { text, value } = await this.fetchWithRetries(method, url, body);
      cache?.set(key, text);
      return value as T;
    } finally {
      this.slots.release();
    }
  }

  private async fetchWithRetries(method: string, url: string, body: unknown): Promise<{ text: string; value: unknown }> {
    const shown = displayUrl(url);
    const { maxRequests, timeoutMs } = this.options;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let retries = 0;
    let connectRetries = 0;
    for (;;) {
      if (maxRequests !== undefined && this.stats.requests >= maxRequests) throw new RequestBudgetError(maxRequests);
      this.stats.requests++;
      const outcome = await this.attempt(method, url, payload, timeoutMs);
      if ('text' in outcome) return outcome;
      const failure = { ...outcome, reason: this.scrub(outcome.reason, url) };
      if (!failure.retryable) throw new InputError(failure.connect ? `cannot reach ${shown}: ${failure.reason}` : `${shown}: ${failure.reason}`);
      if (failure.connect) {
        if (connectRetries >= this.options.maxConnectRetries) throw new InputError(`cannot reach ${shown}: ${failure.reason}`);
        connectRetries++;
      } else if (retries >= this.options.maxRetries) {
        throw new InputError(`${shown}: gave up after ${retries + connectRetries + 1} attempts (last: ${failure.reason})`);
      } else {
        retries++;
      }
      this.stats.retries++;
      let delay = backoffDelay(retries + connectRetries - 1, { baseMs: this.options.retryBaseMs, maxMs: this.options.retryMaxMs });
      if (failure.retryAfterMs !== undefined) {
        if (failure.retryAfterMs > this.options.maxRetryAfterMs) {
          throw new InputError(`${shown}: ${failure.reason}; the server asks to wait ${Math.ceil(failure.retryAfterMs / 1000)} s, longer than allowed`);
        }
        // Honour the server's wait, plus a little jitter so parallel clients do not return in lockstep.
        delay = failure.retryAfterMs + Math.floor(Math.random() * Math.min(1000, failure.retryAfterMs * 0.1 + 1));
      }
      await sleep(delay);
    }
  }

  /** The credentials this client sends (the API key with and without its scheme, a URL password), 4 characters or longer. */
  private secrets(url?: string): string[] {
    const secrets: string[] = [];
    for (const value of Object.values(this.options.secretHeaders ?? {})) {
      secrets.push(value, value.replace(/^\S+\s+/, ''));
    }
    try {
      const u = new URL(url ?? '');
      if (u.password) secrets.push(u.password, safeDecode(u.password));
    } catch {
      // not a URL: nothing to add
    }
    return secrets.filter((v) => v.length >= 4).sort((a, b) => b.length - a.length);
  }

  /**
   * A failure reason with every credential we send replaced by `***`. The reasons built here hold
   * none; this guards against a network library quoting a header or the URL in its own message.
   */
  private scrub(reason: string, url: string): string {
    let out = reason;
    for (const secret of this.secrets(url)) out = out.split(secret).join('***');
    return out;
  }

  /**
   * A name a server reports (a model id, an input name) if it is safe to print and record: printable
   * ASCII without quotes or spaces, at most 200 characters, holding no credential this client sends
   * (a hostile server knows the key it received). Otherwise undefined.
   */
  serverName(value: unknown, url?: string): string | undefined {
    if (typeof value !== 'string' || !/^[\x21-\x7e]{1,200}$/.test(value) || /["'`\\]/.test(value)) return undefined;
    return this.secrets(url).some((secret) => value.includes(secret)) ? undefined : value;
  }

  /** One network attempt, following same-origin redirects: the response text and its parsed value when it is a complete 2xx JSON body, else why not. */
  private async attempt(method: string, url: string, payload: string | undefined, timeoutMs: number): Promise<{ text: string; value: unknown } | AttemptFailure> {
    const signal = AbortSignal.timeout(timeoutMs);
    const origin = new URL(url).origin;
    let current = { method, url, payload, secret: true };
    for (let hop = 0; ; hop++) {
      const request = this.buildRequest(current.method, current.url, current.payload, current.secret);
      if ('reason' in request) return request;
      let response: Response;
      try {
        response = await fetch(request, { signal, redirect: 'manual' });
      } catch (e) {
        return describeFetchError(e, timeoutMs);
      }
      if (!redirectStatuses.has(response.status)) return this.readResponse(response, url, signal, timeoutMs);
      await response.body?.cancel();
      const next = redirectTarget(response, current.url);
      if (next === undefined) return { retryable: false, reason: `HTTP ${response.status} redirect without a usable Location` };
      if (next.origin !== origin && !this.options.allowRedirects) {
        return { retryable: false, reason: `HTTP ${response.status} redirects to another origin (${next.origin}); the audit would measure an endpoint other than the target (--allow-redirects follows it)` };
      }
      if (hop >= maxRedirects) return { retryable: false, reason: `more than ${maxRedirects} redirects` };
      // As fetch does: 303 (and 301/302 after a POST) continue as GET without a body; credentials never cross origins.
      const asGet = response.status === 303 || ((response.status === 301 || response.status === 302) && current.method === 'POST');
      current = { method: asGet ? 'GET' : current.method, url: next.toString(), payload: asGet ? undefined : current.payload, secret: current.secret && next.origin === origin };
    }
  }

  private buildRequest(method: string, url: string, payload: string | undefined, withSecrets: boolean): Request | AttemptFailure {
    const headers: Record<string, string> = { accept: 'application/json', ...(withSecrets ? this.options.secretHeaders : {}) };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    // fetch refuses URLs with credentials (and would quote them in its error): send them as Basic auth.
    const parsed = new URL(url);
    if ((parsed.username || parsed.password) && headers.authorization === undefined) {
      const user = `${safeDecode(parsed.username)}:${safeDecode(parsed.password)}`;
      headers.authorization = `Basic ${Buffer.from(user).toString('base64')}`;
    }
    parsed.username = '';
    parsed.password = '';
    try {
      return new Request(parsed, { method, headers, body: payload });
    } catch {
      // A request fetch cannot build (a header value with a control character, say) fails with a
      // TypeError quoting the value, which may be the API key: say what failed, never the message.
      return { retryable: false, reason: 'the request could not be built (a header value, such as the API key, holds characters HTTP does not allow)' };
    }
  }

  private async readResponse(response: Response, url: string, signal: AbortSignal, timeoutMs: number): Promise<{ text: string; value: unknown } | AttemptFailure> {
    let text: string;
    try {
      const body = await readCapped(response, this.options.maxResponseBytes);
      if (body === undefined) {
        return { retryable: false, reason: `response body larger than the limit of ${this.options.maxResponseBytes} bytes (--max-response-mb)` };
      }
      text = body;
    } catch (e) {
      return describeFetchError(signal.aborted ? signal.reason : e, timeoutMs);
    }
    if (!response.ok) {
      const message = serverMessageOf(text);
      if (!isRetryableStatus(response.status)) throw new HttpStatusError(displayUrl(url), response.status, message);
      return {
        retryable: true,
        reason: `HTTP ${response.status}${message ? ` (${message})` : ''}`,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
      };
    }
    try {
      return { text, value: JSON.parse(text) };
    } catch {
      // A 2xx with a cut-off or garbled body (a proxy dropped the connection mid-stream).
      return { retryable: true, reason: `response is not complete JSON (${text.length} bytes)` };
    }
  }
}

/** Where a redirect points, resolved against the URL that answered; undefined without a parseable http(s) Location. */
function redirectTarget(response: Response, from: string): URL | undefined {
  const location = response.headers.get('location');
  if (!location) return undefined;
  try {
    const next = new URL(location, from);
    return next.protocol === 'http:' || next.protocol === 'https:' ? next : undefined;
  } catch {
    return undefined;
  }
}

/** The body as text, or undefined as soon as it exceeds `limit` bytes (the rest is never read). */
async function readCapped(response: Response, limit: number): Promise<string | undefined> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel();
    return undefined;
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
