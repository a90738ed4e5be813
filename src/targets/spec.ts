/**
 * Parsing a target string (DESIGN.md "Command surface"): a model directory path, or
 * `openai:BASE_URL#MODEL`, `tgi:URL`, `kserve:URL[#MODEL]`, `tfserving:URL`.
 */
import { UsageError } from '../core/errors.js';
import type { TargetKind } from './target.js';
import { redactTarget } from './redact.js';

export type TargetSpec =
  | { kind: 'local'; dir: string }
  | { kind: 'openai'; baseUrl: string; model?: string }
  | { kind: 'tgi'; url: string }
  | { kind: 'kserve'; url: string; model: string }
  | { kind: 'tfserving'; url: string; model: string };

const apiKinds: readonly TargetKind[] = ['openai', 'tgi', 'kserve', 'tfserving'];

const forms =
  'a model directory, openai:BASE_URL#MODEL, tgi:URL, kserve:URL#MODEL or tfserving:URL/v1/models/NAME';

/** `spec` is the target string as shown (redacted); `raw` the URL part as given, quoted only when `quotable`. */
function parseHttpUrl(spec: string, raw: string, quotable: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(quotable ? `--target ${spec}: "${raw}" is not a URL` : `--target ${spec}: the part after the kind is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--target ${spec}: the URL must start with http:// or https://`);
  }
  return url;
}

/** The URL without a trailing slash, search or hash. */
function base(url: URL): string {
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function userinfo(url: URL): string {
  return url.username || url.password ? `${url.username}:${url.password}@` : '';
}

export function parseTargetSpec(spec: string): TargetSpec {
  const text = spec.trim();
  // Every message names the target by `shown`: a user:password@ or ?api_key= in it must not be echoed.
  const shown = redactTarget(text);
  if (text === '') throw new UsageError(`--target is empty: give ${forms}`);
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):(?!\\)/.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined || scheme.length === 1 /* a Windows drive letter */) return { kind: 'local', dir: text };
  if (scheme === 'http' || scheme === 'https') {
    throw new UsageError(`--target ${shown}: say which API this is: openai:${shown}#MODEL, tgi:${shown}, kserve:${shown}#MODEL or tfserving:${shown}`);
  }
  if (!apiKinds.includes(scheme as TargetKind)) {
    throw new UsageError(`--target ${shown}: unknown target kind "${scheme}:"; give ${forms}`);
  }
  const rest = text.slice(scheme.length + 1);
  const hashAt = rest.indexOf('#');
  const rawUrl = hashAt >= 0 ? rest.slice(0, hashAt) : rest;
  const rawFragment = hashAt >= 0 ? rest.slice(hashAt + 1) : undefined;
  // An "@" after "#" is most likely a password holding an unescaped "#" (user:pa#ss@host): the URL
  // we would call is then the wrong host and the password's tail the "model". Refuse it; a model
  // name with "@" is written %40.
  if (rawFragment?.includes('@')) {
    throw new UsageError(`--target ${shown}: "@" after "#": percent-encode "#" and "@" in a password (%23, %40), and "@" in a model name (%40)`);
  }
  let fragment: string | undefined;
  try {
    fragment = rawFragment === undefined ? undefined : decodeURIComponent(rawFragment);
  } catch {
    throw new UsageError(`--target ${shown}: the model name after "#" has a malformed %-escape`);
  }
  if (fragment !== undefined && fragment === '') throw new UsageError(`--target ${shown}: the model name after "#" is empty`);
  // The URL part is quoted in an error only when the target holds no "@" (no password to leak).
  const url = parseHttpUrl(shown, rawUrl, !text.includes('@'));
  // Keep user:password (basic auth) in the URL we call; displayUrl strips it from every message.
  const full = (u: URL) => base(u).replace('://', `://${userinfo(u)}`);
  switch (scheme) {
    case 'openai':
      return { kind: 'openai', baseUrl: full(url), model: fragment };
    case 'tgi':
      if (fragment !== undefined) throw new UsageError(`--target ${shown}: a TGI server serves one model; drop "#${fragment}"`);
      return { kind: 'tgi', url: full(url) };
    case 'kserve': {
      // Either kserve:http://host/v2/models/NAME or kserve:http://host#NAME.
      const m = /^(.*?)\/v2\/models\/([^/]+)(?:\/versions\/[^/]+)?\/?(?:infer)?$/.exec(url.pathname);
      if (m) {
        const model = decodeURIComponent(m[2]!);
        if (fragment !== undefined && fragment !== model) throw new UsageError(`--target ${shown}: the URL names model "${model}" but "#" names "${fragment}"`);
        const root = new URL(url.toString());
        root.pathname = url.pathname.replace(/\/infer\/?$/, '');
        return { kind: 'kserve', url: full(root), model };
      }
      if (fragment === undefined) throw new UsageError(`--target ${shown}: name the model: kserve:URL#MODEL or kserve:URL/v2/models/MODEL`);
      const root = new URL(url.toString());
      root.pathname = `${url.pathname.replace(/\/+$/, '')}/v2/models/${encodeURIComponent(fragment)}`;
      return { kind: 'kserve', url: full(root), model: fragment };
    }
    case 'tfserving': {
      const m = /\/v1\/models\/([^/:]+)(?:\/(?:versions|labels)\/[^/:]+)?(?::predict)?\/?$/.exec(url.pathname);
      if (!m) throw new UsageError(`--target ${shown}: a TF Serving URL ends in /v1/models/NAME (optionally /versions/N)`);
      if (fragment !== undefined) throw new UsageError(`--target ${shown}: the model is named in the URL; drop "#${fragment}"`);
      const root = new URL(url.toString());
      root.pathname = url.pathname.replace(/:predict\/?$/, '').replace(/\/+$/, '');
      return { kind: 'tfserving', url: full(root), model: decodeURIComponent(m[1]!) };
    }
  }
  throw new UsageError(`--target ${shown}: unknown target kind`);
}
