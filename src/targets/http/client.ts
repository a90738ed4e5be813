/**
 * The HTTP client every API target uses: bounded concurrency, a timeout per attempt, retries with
 * exponential backoff and jitter on 429/5xx/timeouts/truncated responses (honouring Retry-After),
 * a request budget (`--max-requests`), and the encrypted on-disk response cache.
 *
 * Secret headers (the API key) are sent but are never part of a cache key, an error message or a
 * log line. Error messages name the URL with any user:password part removed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { InconclusiveError, InputError } from '../../core/errors.js';
import type { ResponseCache } from './cache.js';
import { backoffDelay, isRetryableStatus, parseRetryAfter } from './retry.js';

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
}

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

/** The URL as shown to users: no user:password. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

/** A short, single-line message from an error response body ({"error": ...} in OpenAI, KServe, TF Serving, TGI). */
export function serverMessageOf(text: string): string {
  let message = text;
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown; detail?: unknown };
    const error = body.error ?? body.message ?? body.detail;
    if (typeof error === 'string') message = error;
    else if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') {
      message = (error as { message: string }).message;
    }
  } catch {
    // not JSON: keep the text
  }
  message = message.replace(/\s+/g, ' ').trim();
  return message.length > 200 ? `${message.slice(0, 200)}...` : message;
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
    const key = { method, url: displayUrl(url), body };
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
      const failure = await this.attempt(method, url, payload, timeoutMs);
      if ('text' in failure) return failure;
      if (!failure.retryable) throw new InputError(`cannot reach ${shown}: ${failure.reason}`);
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

  /** One network attempt: the response text and its parsed value when it is a complete 2xx JSON body, else why not. */
  private async attempt(method: string, url: string, payload: string | undefined, timeoutMs: number): Promise<{ text: string; value: unknown } | AttemptFailure> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.options.secretHeaders };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    // fetch refuses URLs with credentials (and would quote them in its error): send them as Basic auth.
    const parsed = new URL(url);
    if ((parsed.username || parsed.password) && headers.authorization === undefined) {
      const user = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
      headers.authorization = `Basic ${Buffer.from(user).toString('base64')}`;
    }
    parsed.username = '';
    parsed.password = '';
    let response: Response;
    let text: string;
    try {
      response = await fetch(parsed, { method, headers, body: payload, signal: AbortSignal.timeout(timeoutMs) });
      text = await response.text();
    } catch (e) {
      return describeFetchError(e, timeoutMs);
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
