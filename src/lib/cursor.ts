import type { Env } from '../env';
import { ApiError } from './problem';

// Opaque, tamper-evident pagination cursors: base64url(JSON position) + "." + HMAC-SHA256.
// A cursor is bound to its query ("binding": caller subject + operation + canonical filters), so
// a cursor forged, edited, or taken from another caller or another query is a 400. The binding is
// signed, not carried: a cursor's size does not grow with the query (a 1,000-character search or
// 20 long tag filters would otherwise make cursors longer than the 2,048 characters `cursor` accepts).

/** Shorter keys are refused; GET /health names the setting when it is missing or short. */
export const CURSOR_SECRET_MIN_LENGTH = 16;

const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(env: Env): Promise<CryptoKey> {
  const secret = env.CURSOR_SECRET;
  if (!secret || secret.length < CURSOR_SECRET_MIN_LENGTH) {
    throw new ApiError('cursor_not_configured', 'Pagination is not configured (CURSOR_SECRET).', {
      headers: { 'Retry-After': '60' },
    });
  }
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ]);
    keys.set(secret, key);
  }
  return key;
}

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const unb64url = (s: string) =>
  Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0));

/** Canonical text of a query's filters, so the same query always binds the same way. */
export function cursorBinding(sub: string, operation: string, filters: Record<string, unknown>): string {
  const canonical = Object.keys(filters)
    .filter((k) => filters[k] !== undefined && k !== 'cursor' && k !== 'limit')
    .sort()
    .map((k) => [k, filters[k]]);
  return JSON.stringify([sub, operation, canonical]);
}

/** What the HMAC covers: the binding and the encoded position (JSON text never holds a raw newline). */
const signed = (binding: string, payloadPart: string) => new TextEncoder().encode(`${binding}\n${payloadPart}`);

export async function encodeCursor(env: Env, binding: string, position: unknown[]): Promise<string> {
  const payloadPart = b64url(new TextEncoder().encode(JSON.stringify({ p: position })));
  const sig = new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(env), signed(binding, payloadPart)));
  return `${payloadPart}.${b64url(sig)}`;
}

/** Returns the position stored in the cursor, or throws 400 invalid_cursor. */
export async function decodeCursor(env: Env, binding: string, cursor: string): Promise<unknown[]> {
  const invalid = new ApiError('invalid_cursor', 'The cursor is invalid, expired, or belongs to another query.', {
    errors: [{ path: 'query.cursor', message: 'invalid cursor' }],
  });
  const [payloadPart, sigPart, extra] = cursor.split('.');
  if (!payloadPart || !sigPart || extra !== undefined) throw invalid;
  let payload: Uint8Array, sig: Uint8Array;
  try {
    payload = unb64url(payloadPart);
    sig = unb64url(sigPart);
  } catch {
    throw invalid;
  }
  if (!(await crypto.subtle.verify('HMAC', await hmacKey(env), sig, signed(binding, payloadPart)))) throw invalid;
  const parsed = JSON.parse(new TextDecoder().decode(payload)) as { p?: unknown };
  if (!Array.isArray(parsed.p)) throw invalid;
  return parsed.p;
}
