/**
 * A local HTTP server for client and API-target tests: each route answers from a script of
 * behaviours (ok, status with Retry-After, slow, truncated body), then falls back to a handler.
 * It records every request it received, headers included.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; body?: unknown; headers?: Record<string, string> }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'truncate' }
  | { kind: 'garbage' };

export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
  at: number;
}

export type Handler = (body: any, req: IncomingMessage) => unknown | Promise<unknown>;

export interface FaultServer {
  url: string;
  received: Received[];
  /** Faults answered, in order, before the route's handler (per "METHOD /path"). */
  faults: Map<string, Fault[]>;
  close(): Promise<void>;
}

export async function startFaultServer(routes: Record<string, Handler>): Promise<FaultServer> {
  const received: Received[] = [];
  const faults = new Map<string, Fault[]>();
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0]!;
    const key = `${req.method} ${path}`;
    let body: unknown = undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    received.push({ method: req.method!, path, headers: req.headers, body, at: Date.now() });
    const fault = faults.get(key)?.shift();
    const handler = routes[key];
    const send = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      const out = JSON.stringify(value);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out), ...headers });
      res.end(out);
    };
    if (fault?.kind === 'status') {
      return send(fault.status, fault.body ?? { error: { message: `injected ${fault.status}` } }, { ...fault.headers, ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}) });
    }
    if (!handler) return send(404, { error: `no route ${key}` });
    let value: unknown;
    try {
      value = await handler(body, req);
    } catch (e) {
      const status = (e as { status?: number }).status ?? 500;
      const body = (e as { body?: unknown }).body;
      if (typeof body === 'string') {
        res.writeHead(status, { 'content-type': 'text/html' });
        return res.end(body);
      }
      return send(status, body ?? { error: { message: (e as Error).message } });
    }
    if (fault?.kind === 'slow') {
      await new Promise((r) => setTimeout(r, fault.delayMs));
      if (res.destroyed) return;
      return send(200, value);
    }
    if (fault?.kind === 'truncate') {
      const out = JSON.stringify(value);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.write(out.slice(0, Math.floor(out.length / 2)));
      setTimeout(() => res.destroy(), 10);
      return;
    }
    if (fault?.kind === 'garbage') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"choices": [');
    }
    send(200, value);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * An error a route handler throws to answer with an HTTP status; `body` replaces the default
 * `{"error": {"message": ...}}` (a string is sent as is, like a proxy's HTML page).
 */
export function httpError(status: number, message: string, body?: unknown): Error {
  return Object.assign(new Error(message), { status, body });
}
