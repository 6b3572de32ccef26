// Idempotency-Key for POST routes (DESIGN.md, API conventions). Usage in a handler:
//   const idem = await idempotencyKeyOf(c, body);              // null without the header
//   statements: idem && idempotencyLookup(...) first, writes guarded by keyIsFreshSql(b, idem),
//               idempotencyStore(...) last (src/db/idempotency.ts)
//   after the batch: const stored = storedResponse(lookupRow, idem)  → replay it if not null
// Same key + same request within 24 h → the stored response with `Idempotent-Replayed: true`;
// same key + a different request → 422 idempotency_key_reused. Keys are per tenant, and the
// request hash covers the caller's subject, method, path, query and body, so another user of the
// tenant reusing a key gets 422, never someone else's response.
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { IdempotencyKey, IdempotencyRow } from '../db/idempotency';
import type { AppEnv } from '../env';
import { IDEMPOTENCY_KEY_MAX } from './limits';
import { ApiError } from './problem';

export const REPLAYED_HEADER = 'Idempotent-Replayed';

/** The request header, for a route's `request.headers` schema (so the spec documents it). */
export const idempotencyKeyHeader = z
  .string()
  .min(1)
  .max(IDEMPOTENCY_KEY_MAX)
  .regex(/^[\x21-\x7e]+$/, 'visible ASCII characters only')
  .optional()
  .openapi({
    description:
      `Makes the POST safe to retry: the first successful response is stored for 24 hours and replayed (with header \`${REPLAYED_HEADER}: true\`) ` +
      'for a repeat with the same key and the same request; the same key with a different request is a 422 `idempotency_key_reused`. ' +
      `Keys are per tenant, 1–${IDEMPOTENCY_KEY_MAX} visible ASCII characters (a UUID is a good choice). Failed requests are not stored.`,
    example: '3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b',
  });

const hex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((x) => x.toString(16).padStart(2, '0')).join('');

/** The key and the request's hash, or null when the request carries no Idempotency-Key. */
export async function idempotencyKeyOf(c: Context<AppEnv>, body: unknown, now: number): Promise<IdempotencyKey | null> {
  const key = c.req.header('idempotency-key');
  if (!key) return null;
  const url = new URL(c.req.url);
  const query = [...url.searchParams.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonical = JSON.stringify([c.get('auth').sub, c.req.method, url.pathname, query, body ?? null]);
  const hash = hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical)));
  return { key, hash, now };
}

/** The stored response to replay, null for a fresh key; 422 when the key was used for another request. */
export function storedResponse(row: IdempotencyRow | undefined, k: IdempotencyKey | null): IdempotencyRow | null {
  if (!k || !row) return null;
  if (row.request_hash !== k.hash) {
    throw new ApiError(
      'idempotency_key_reused',
      'This Idempotency-Key was already used for a different request in the last 24 hours; use a new key.',
      {
        errors: [{ path: 'header.idempotency-key', message: 'key already used for a different request' }],
      },
    );
  }
  return row;
}

/** Replays a stored response verbatim (for routes that store the final body). */
export function replayResponse(row: IdempotencyRow): Response {
  const headers = new Headers(JSON.parse(row.headers) as Record<string, string>);
  headers.set('content-type', 'application/json');
  headers.set(REPLAYED_HEADER, 'true');
  return new Response(row.response_body, { status: row.status, headers });
}
