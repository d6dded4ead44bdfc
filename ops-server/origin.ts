/*
 * Which browser origins may use a session cookie here. Browsers send `Origin` on every WebSocket
 * handshake (RFC 6455 §4.1, item 8) and on every cross-origin or non-GET fetch (Fetch standard,
 * "append a request `Origin` header"), and cookies ride along cross-site whatever the origin. So a
 * request whose Origin is neither this server's own nor a configured one is another site's page
 * acting with the user's cookie (cross-site WebSocket hijacking, CSRF), and is refused. A request
 * without Origin comes from no browser page (curl, scripts, node clients) and carries no ambient
 * credential, so it stays allowed: the session or token check that follows still applies.
 */

/** `scheme://host[:port]` as browsers serialize an origin (default ports dropped), or undefined. */
export function normalizeOrigin(origin: string): string | undefined {
  try {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return u.origin;
  } catch {
    return undefined;
  }
}

/** The origins configured as trusted (the public URL, `http.corsOrigins`), normalized. */
export function trustedOrigins(origins: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const o of origins) {
    const n = normalizeOrigin(o);
    if (n) out.add(n);
  }
  return out;
}

/**
 * True when a request with this `Origin` and `Host` may act with its cookie: no Origin at all, a
 * trusted origin, or the server's own origin (same host and port as the request was sent to; the
 * scheme is not compared so that a TLS-terminating proxy that keeps Host still works).
 */
export function originAllowed(origin: string | undefined, host: string | undefined, trusted: ReadonlySet<string>): boolean {
  if (origin === undefined) return true;
  const o = normalizeOrigin(origin);
  // "null" (sandboxed frames, file: pages, some redirects) and anything unparsable is nobody we know.
  if (!o) return false;
  if (trusted.has(o)) return true;
  if (!host) return false;
  try {
    const u = new URL(o);
    return new URL(`${u.protocol}//${host}`).host === u.host;
  } catch {
    return false;
  }
}
