/**
 * `memaudit serve`: a local LM behind the OpenAI-compatible completions API, so API probing can
 * be tested end to end and a memaudit-trained model can sit behind the same interface as a hosted
 * one. Routes: `GET /v1/models`, `POST /v1/completions`, `GET /health`.
 *
 * Nothing of a request (prompts hold training records during membership tests) is logged. Binds
 * to 127.0.0.1 unless told otherwise, and refuses another interface without an API key (the model
 * may hold PHI) unless told it may serve anyone; with a key, requests must carry it as a Bearer token.
 *
 * Every request is bounded: its body size, the work it asks for (tokens), and its time. Work stops
 * when the client disconnects or the time is up, and decoding yields to the event loop between
 * steps, so /health and other clients are answered while a long request runs.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { isMemauditError, UsageError } from '../../core/errors.js';
import type { DetailedToken, LocalLmTarget } from '../local/lm.js';
import { MicroBatcher } from './batcher.js';
import { ApiRequestError, checkRequestTokens, complete, parseCompletionRequest } from './completions.js';

export interface ServeOptions {
  target: LocalLmTarget;
  /** The model id clients name in requests (`openai:URL#MODEL`). */
  modelName: string;
  port: number;
  host?: string;
  /** When set, requests must send `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** Texts scored per model call at most. */
  maxBatchTexts?: number;
  /** Largest request body accepted, bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Most work one request may ask for: prompts x choices x (prompt + max_tokens) characters (default 65536). */
  maxRequestTokens?: number;
  /** Longest one request may take, ms (default 60 s). */
  requestTimeoutMs?: number;
  /** Serve a non-loopback interface without an API key (refused otherwise). */
  insecureNoAuth?: boolean;
}

export const serveLimits = { maxBodyBytes: 2 ** 20, maxRequestTokens: 65_536, requestTimeoutMs: 60_000 } as const;

/** Whether `host` is a loopback address: only this machine can reach a server bound to it. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** A server reachable from other machines must ask for a key, unless the user says it may serve anyone. */
export function checkBindSafety(host: string, apiKey: string | undefined, insecureNoAuth: boolean): void {
  if (isLoopbackHost(host) || apiKey !== undefined || insecureNoAuth) return;
  throw new UsageError(
    `--host ${host}: not a loopback address, and the model may hold PHI; give --api-key-env so clients must send a key, or --insecure-no-auth to serve it to anyone who can reach ${host}`,
  );
}

export interface RunningServer {
  url: string;
  port: number;
  host: string;
  /** Requests answered so far (counts only; nothing of their content is kept). */
  stats: { requests: number; errors: number; cancelled: number };
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string, param?: string): void {
  const type = status === 401 ? 'authentication_error' : status === 404 ? 'not_found_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
  sendJson(res, status, { error: { message, type, param: param ?? null, code: null } });
}

function tooLarge(limit: number): ApiRequestError {
  return new ApiRequestError(413, `request body larger than this server's limit of ${limit} bytes (--max-request-mb)`);
}

/** Bytes of an oversized body read and dropped (never kept) so the client gets its 413; past this the connection is cut. */
const maxDiscardBytes = 64 * 2 ** 20;

/** Reads the rest of a refused body into nothing: closing with unread data would reset the connection before the 413 arrives. */
function discardRest(req: IncomingMessage): void {
  let discarded = 0;
  req.removeAllListeners('data');
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > maxDiscardBytes) req.destroy();
  });
  req.resume();
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  if (Number(req.headers['content-length']) > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function authorized(req: IncomingMessage, apiKey: string | undefined): boolean {
  if (apiKey === undefined) return true;
  const given = req.headers.authorization ?? '';
  const expected = `Bearer ${apiKey}`;
  // Compare digests so the comparison takes the same time whatever the length.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * One line describing an internal error without the data it may quote: JavaScript and tfjs
 * messages put values in quotes (V8's JSON.parse quotes the start of its input: `Unexpected token
 * 'P', "Patient Ja"... is not valid JSON`) and record numbers in digits, so quoted parts and digit
 * runs are dropped and the rest is cut short. The error's name and what is left locate the bug.
 */
export function internalErrorLine(e: unknown): string {
  const name = e instanceof Error ? e.name : 'Error';
  const message = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
  const safe = message
    .replace(/"[^"]*"|'[^']*'|`[^`]*`/g, '…')
    .replace(/\d{2,}/g, '#')
    .slice(0, 120);
  return `${name}: ${safe}`;
}

/** Work abandoned because the client closed the connection: nothing to answer. */
class ClientGone extends Error {}

/**
 * Runs `work` with a signal aborted when the client disconnects (ClientGone) or after `timeoutMs`
 * (a 503 naming the limit), so a request nobody waits for, or one that runs too long, stops.
 */
async function bounded<T>(res: ServerResponse, timeoutMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new ApiRequestError(503, `the request took longer than this server's limit of ${timeoutMs / 1000} s (--request-timeout)`)), timeoutMs);
  const onClose = () => {
    if (!res.writableFinished) controller.abort(new ClientGone('client disconnected'));
  };
  res.once('close', onClose);
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
    res.off('close', onClose);
  }
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const { target, modelName } = options;
  const host = options.host ?? '127.0.0.1';
  checkBindSafety(host, options.apiKey, options.insecureNoAuth === true);
  const maxBody = options.maxBodyBytes ?? serveLimits.maxBodyBytes;
  const maxTokens = options.maxRequestTokens ?? serveLimits.maxRequestTokens;
  const timeoutMs = options.requestTimeoutMs ?? serveLimits.requestTimeoutMs;
  const descriptor = await target.describe();
  const fingerprint = `memaudit-${descriptor.digest.slice(0, 12)}`;
  const stats = { requests: 0, errors: 0, cancelled: 0 };
  const batcher = new MicroBatcher<{ text: string; topK: number }, DetailedToken[]>(async (jobs) => {
    const topK = Math.max(...jobs.map((j) => j.topK));
    return target.scoreDetailed(
      jobs.map((j) => j.text),
      { topK },
    );
  }, options.maxBatchTexts ?? 256);

  const models = {
    object: 'list',
    data: [
      {
        id: modelName,
        object: 'model',
        created: Math.floor(Date.now() / 1000),
        owned_by: 'memaudit',
        memaudit: { task: 'lm', tokenizer: 'char', vocabSize: target.vocabSize, beamSearch: true, maxLogprobs: target.vocabSize, digest: descriptor.digest },
      },
    ],
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++;
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '');
    if (path === '/health') return sendJson(res, 200, { status: 'ok' });
    if (!authorized(req, options.apiKey)) return sendError(res, 401, 'missing or wrong API key');
    if (path === '/v1/models' && req.method === 'GET') return sendJson(res, 200, models);
    if (path === `/v1/models/${encodeURIComponent(modelName)}` && req.method === 'GET') return sendJson(res, 200, models.data[0]);
    if (path === '/v1/completions') {
      if (req.method !== 'POST') return sendError(res, 405, 'use POST');
      const text = await readBody(req, maxBody);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new ApiRequestError(400, 'the request body is not valid JSON');
      }
      const request = parseCompletionRequest(body, target.vocabSize);
      if (request.model !== modelName) throw new ApiRequestError(404, `model "${request.model}" not found; this server serves "${modelName}"`, 'model');
      checkRequestTokens(request, maxTokens);
      const response = await bounded(res, timeoutMs, (signal) => complete(target, modelName, fingerprint, request, (t, k) => batcher.submit({ text: t, topK: k }), signal));
      return sendJson(res, 200, response);
    }
    return sendError(res, 404, `no route ${req.method} ${path}`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (e instanceof ClientGone) return void stats.cancelled++;
      stats.errors++;
      if (res.headersSent || res.destroyed) return void res.destroy();
      if (e instanceof ApiRequestError && e.status === 413) discardRest(req);
      if (e instanceof ApiRequestError) return sendError(res, e.status, e.message, e.param);
      if (isMemauditError(e)) return sendError(res, 400, e.message);
      // The shape of a bug, never the request (it may hold a training record).
      process.stderr.write(`memaudit serve: internal error answering a request: ${internalErrorLine(e)}\n`);
      sendError(res, 500, 'internal error');
    });
  });
  server.keepAliveTimeout = 30_000;
  // A client trickling its request in (slowloris) is cut off within the same time limit.
  server.requestTimeout = timeoutMs;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}/v1`,
    port: address.port,
    host: address.address,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
