import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../env';

// CORS is off unless CORS_ORIGINS lists origins (comma-separated, exact "scheme://host[:port]").
// Allowed origins get the CORS headers and a 204 preflight; any other origin gets no CORS header
// at all, so browsers keep it out. No credentials mode: the API takes bearer tokens, not cookies.

const ALLOW_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const ALLOW_HEADERS =
  'Authorization, Content-Type, Idempotency-Key, If-Match, If-None-Match, X-Request-Id, Memoria-Bookmark, Mcp-Session-Id, Mcp-Protocol-Version';
const EXPOSE_HEADERS =
  'ETag, Location, Retry-After, RateLimit, RateLimit-Policy, X-Request-Id, Server-Timing, Idempotent-Replayed, Content-Disposition, Memoria-Bookmark, Mcp-Session-Id, WWW-Authenticate';
const PREFLIGHT_MAX_AGE = '600';

const parsed = new Map<string, Set<string>>();
export function allowlist(value: string | undefined): Set<string> {
  const key = value ?? '';
  let set = parsed.get(key);
  if (!set) {
    set = new Set(
      key
        .split(',')
        .map((o) => o.trim().replace(/\/+$/, ''))
        .filter(Boolean),
    );
    parsed.set(key, set);
  }
  return set;
}

export const cors = createMiddleware<AppEnv>(async (c, next) => {
  const origins = allowlist(c.env.CORS_ORIGINS);
  const origin = c.req.header('origin');
  const allowed = origin !== undefined && origins.has(origin);

  if (c.req.method === 'OPTIONS') {
    const headers = new Headers({ Vary: 'Origin' });
    if (allowed && c.req.header('access-control-request-method')) {
      headers.set('Access-Control-Allow-Origin', origin);
      headers.set('Access-Control-Allow-Methods', ALLOW_METHODS);
      headers.set('Access-Control-Allow-Headers', ALLOW_HEADERS);
      headers.set('Access-Control-Max-Age', PREFLIGHT_MAX_AGE);
    }
    return c.body(null, { status: 204, headers: Object.fromEntries(headers) });
  }

  await next();
  if (origins.size > 0) c.res.headers.append('Vary', 'Origin');
  if (allowed) {
    c.res.headers.set('Access-Control-Allow-Origin', origin);
    c.res.headers.set('Access-Control-Expose-Headers', EXPOSE_HEADERS);
  }
});
