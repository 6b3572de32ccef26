import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../env';

// Response headers that protect clients: no MIME sniffing anywhere, nothing authenticated in a
// cache, API responses not renderable as a page, and a strict CSP on the docs page.

/** The docs page's CSP: its one inline script runs by nonce; everything else is same-origin. */
export function docsCsp(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'self' 'nonce-${nonce}'`,
    // Scalar (Vue) sets inline styles at run time; styles cannot run code.
    "style-src 'self' 'unsafe-inline'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "worker-src 'self' blob:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

/** JSON responses are never a document: no scripts, no framing. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'";

export const securityHeaders = createMiddleware<AppEnv>(async (c, next) => {
  const isDocs = c.req.path === '/docs';
  if (isDocs) c.set('cspNonce', btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16)))));
  await next();
  const h = c.res.headers;
  h.set('X-Content-Type-Options', 'nosniff');
  h.set('Referrer-Policy', 'no-referrer');
  h.set('Content-Security-Policy', isDocs ? docsCsp(c.get('cspNonce')!) : API_CSP);
  if (!isDocs) h.set('X-Frame-Options', 'DENY');
  // Anything answered to a request bearing credentials (or under /v1) is per-caller: never cache.
  if (c.req.path.startsWith('/v1/') || c.req.header('authorization') !== undefined) h.set('Cache-Control', 'no-store');
});
