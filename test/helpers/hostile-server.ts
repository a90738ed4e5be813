/**
 * A hostile OpenAI-compatible server for tests: it answers /v1/models and /v1/completions the way a
 * compromised or broken endpoint might. It listens on 127.0.0.1 on a random port, reads at most
 * 1 MB of a request, and closes itself after `lifetimeMs` even if a test forgets to.
 *
 * Modes:
 * - `echo-key`: answers detection (the fixed prompts memaudit opens a target with) plausibly, then
 *   fails every other request with an error body whose message, type, code and nested fields carry
 *   the API key it received, and whose `param` carries the words of the prompt (a canary);
 * - `positive` / `zero` / `constant`: echo scoring with +0.5, 0 or -2 for every token;
 * - `inconsistent-topk`: plausible token logprobs, but top_logprobs give the scored token another
 *   value and list probabilities summing past 1;
 * - `huge`: a valid-looking JSON body of `hugeBytes` bytes;
 * - `redirect`: 307 to another local server (a different origin), which records what reaches it;
 * - `hang`: accepts the request and never answers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type HostileMode = 'echo-key' | 'positive' | 'zero' | 'constant' | 'inconsistent-topk' | 'huge' | 'redirect' | 'hang';

export interface HostileServerOptions {
  /** Body size in `huge` mode (default 4 MB). */
  hugeBytes?: number;
  /** The server closes itself after this long (default 60 s). */
  lifetimeMs?: number;
}

export interface HostileServer {
  /** Base URL, e.g. http://127.0.0.1:PORT/v1 */
  url: string;
  /** `openai:` target string for the model it lists. */
  target: string;
  /** Requests it received (method and path only). */
  received: string[];
  /** Requests that reached the redirect destination (`redirect` mode). */
  redirected: string[];
  close(): Promise<void>;
}

const maxRequestBytes = 2 ** 20;
const modelId = 'm';
/** What memaudit sends while detecting a server's capabilities (src/targets/api/openai.ts). */
const detectionPrompts = new Set(['The quick brown fox jumps over the lazy dog.', 'Hello there', 'Hello']);

async function readBody(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxRequestBytes) throw new Error('request too large for the hostile server');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Echo scoring of one prompt: word tokens with offsets, logprobs from `value(i)`, and optional top lists. */
function echoChoice(prompt: string, index: number, value: (i: number) => number, top?: (token: string, i: number) => Record<string, number>) {
  const tokens = prompt.match(/\s*\S+|\s+$/g) ?? [prompt];
  let at = 0;
  const text_offset = tokens.map((t) => ((at += t.length), at - t.length));
  return {
    index,
    text: prompt,
    logprobs: {
      tokens,
      token_logprobs: tokens.map((_, i) => (i === 0 ? null : value(i))),
      top_logprobs: tokens.map((t, i) => (i === 0 || !top ? null : top(t, i))),
      text_offset,
    },
    finish_reason: 'length',
  };
}

function completion(mode: HostileMode, body: any): unknown {
  const prompts: string[] = typeof body?.prompt === 'string' ? [body.prompt] : Array.isArray(body?.prompt) ? body.prompt : [''];
  const values: Partial<Record<HostileMode, (i: number) => number>> = { positive: () => 0.5, zero: () => 0, constant: () => -2 };
  const plausible = (i: number) => -1 - (i % 5) / 3;
  const choices = prompts.map((p, index) => {
    if (body?.echo !== true) return { index, text: ' x', logprobs: { tokens: [' x'], token_logprobs: [values[mode]?.(1) ?? -0.7], top_logprobs: null, text_offset: [p.length] } };
    if (mode === 'inconsistent-topk') return echoChoice(p, index, plausible, (token) => ({ [token]: -0.01, ' the': -0.05 }));
    return echoChoice(p, index, values[mode] ?? plausible);
  });
  return { object: 'text_completion', model: modelId, choices };
}

/** A valid JSON completion padded to `bytes` bytes. */
function hugeBody(bytes: number): string {
  const head = '{"object":"text_completion","choices":[{"index":0,"text":"';
  const tail = '"}]}';
  return head + 'x'.repeat(Math.max(0, bytes - head.length - tail.length)) + tail;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startHostileServer(mode: HostileMode, options: HostileServerOptions = {}): Promise<HostileServer> {
  const received: string[] = [];
  const redirected: string[] = [];
  const elsewhere = createServer((req, res) => {
    redirected.push(`${req.method} ${req.url}`);
    send(res, 200, { data: [{ id: modelId }] });
  });
  const elsewherePort = mode === 'redirect' ? await listen(elsewhere) : 0;

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    received.push(`${req.method} ${path}`);
    if (mode === 'hang') return; // never answers; close() destroys the socket
    if (mode === 'redirect') {
      res.writeHead(307, { location: `http://127.0.0.1:${elsewherePort}${req.url ?? '/'}` });
      return void res.end();
    }
    readBody(req)
      .then((body) => {
        const auth = String(req.headers.authorization ?? '');
        if (mode === 'echo-key' && path === '/v1/completions' && !detectionPrompts.has(body?.prompt)) {
          const words = typeof body?.prompt === 'string' ? body.prompt.replace(/[^A-Za-z0-9]+/g, '_') : 'prompt';
          const key = auth.replace(/^Bearer\s+/, '');
          return send(res, 400, {
            error: { message: `Incorrect API key provided: ${key}; prompt ${body?.prompt ?? ''}`, type: key, code: key, param: words, details: { key, auth } },
            type: key,
            code: key,
          });
        }
        if (path === '/v1/models') return send(res, 200, { object: 'list', data: [{ id: modelId, object: 'model' }] });
        if (path !== '/v1/completions') return send(res, 404, { error: { type: 'not_found_error' } });
        if (mode === 'huge') {
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end(hugeBody(options.hugeBytes ?? 4 * 2 ** 20));
        }
        return send(res, 200, completion(mode, body));
      })
      .catch(() => send(res, 400, { error: { type: 'invalid_request_error' } }));
  });
  const port = await listen(server);
  const close = async () => {
    clearTimeout(timer);
    for (const s of [server, elsewhere]) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()));
    }
  };
  const timer = setTimeout(() => void close(), options.lifetimeMs ?? 60_000);
  timer.unref();
  const url = `http://127.0.0.1:${port}/v1`;
  return { url, target: `openai:${url}#${modelId}`, received, redirected, close };
}
