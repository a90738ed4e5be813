/**
 * Redacting credentials from target strings and URLs before they reach an error line, a log, a
 * report or an attestation. A `--target` may carry basic-auth `user:password@` and, against
 * advice, a key in the query string (`?api_key=...`); neither may be echoed back.
 */

/** The `user:password@` of a URL, read as URL parsers read it: up to the last "@" of the authority. */
const userinfo = /\/\/[^/?#\\]*@/g;
/** A query-string value: any of them may be a key (api_key, token, sig, ...), so all are hidden. */
const queryValue = /([?&][^=&#]*=)[^&#]*/g;

/**
 * A target string (or a URL) safe to show: user:password removed, query-string values replaced by
 * `***`. When the text holds an "@" that is not part of a well-formed URL authority (a password
 * with an unescaped "/", "?" or "#" breaks the URL apart; a URL without "//"; an "@" after "#",
 * which spec.ts refuses for that reason), everything from
 * the authority's start to the last "@" is hidden: a garbled URL must not leak the half of a
 * password it kept. (A user name before it may show; it is not the secret.)
 */
export function redactTarget(text: string): string {
  let out = text;
  if (out.includes('@')) {
    const precise = out.replace(userinfo, '//');
    // Still an "@" (before or after "#"), or a URL that does not parse: the authority is garbled.
    out = !precise.includes('@') && urlParses(text) ? precise : text.replace(/^((?:[a-zA-Z][a-zA-Z0-9+.-]*:)*(?:\/\/)?).*@/s, '$1***@');
  }
  return out.replace(queryValue, '$1***');
}

/** Whether the URL in a target string (from its URL scheme to the first "#") parses. */
function urlParses(text: string): boolean {
  const m = /[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^#]*/.exec(text);
  if (!m) return false;
  try {
    new URL(m[0]);
    return true;
  } catch {
    return false;
  }
}

/** A URL as shown to users: no user:password, query-string values replaced by `***`. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return redactTarget(u.toString());
  } catch {
    return redactTarget(url);
  }
}

/** A URL without user:password (query kept): what the response cache is keyed by. */
export function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(userinfo, '//');
  }
}
