import { createMiddleware } from 'hono/factory';
import { errors, type JWTPayload } from 'jose';
import type { AppEnv } from '../env';
import { ApiError } from '../lib/problem';
import { KeySetUnavailable } from './jwks';
import type { Scope } from './scopes';
import { authConfig, scopesOf, type VerifiedToken, verifyAccessToken } from './verify';

export interface AuthContext {
  sub: string;
  scopes: Set<string>;
  claims: JWTPayload;
}

/** RFC 6750 b64token after a case-insensitive "Bearer"; anything else is not a bearer credential. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
/** Far above any Auth0 access token; a bigger header is refused before any parsing. */
const MAX_TOKEN_LENGTH = 16 * 1024;

/**
 * One body for every authentication failure, so the response is no oracle; the reason is logged.
 * Only expiry is named (RFC 6750 `error_description`): it tells a client to refresh, and a token
 * reaches the expiry check only once its signature, issuer and audience are good.
 */
export function invalidToken(reason: string, requestId: string, description?: string): ApiError {
  console.warn(JSON.stringify({ event: 'auth_failed', reason, request_id: requestId }));
  const challenge = `Bearer realm="memoria", error="invalid_token"${description ? `, error_description="${description}"` : ''}`;
  return new ApiError('invalid_token', 'The access token is missing or invalid.', {
    headers: { 'WWW-Authenticate': challenge },
  });
}

/**
 * A valid token whose subject has no live user in a live tenant: the caller proved who they are,
 * so telling them they are not provisioned reveals nothing about anyone else.
 */
export function notProvisioned(requestId: string): ApiError {
  console.warn(JSON.stringify({ event: 'not_provisioned', request_id: requestId }));
  return new ApiError(
    'not_provisioned',
    'The access token is valid, but its subject is not a user of any live tenant. Create a tenant with POST /v1/tenants, ' +
      'or accept an invitation with POST /v1/invitations/{id}/accept (an owner of a deleted tenant restores it with POST /v1/tenant/restore).',
  );
}

/**
 * Verifies the bearer token and enforces the scopes a route declares in its OpenAPI `security`
 * (see lib/route.ts: the same list feeds both, so the spec and the check cannot disagree).
 * Runs before request validation, so an unauthenticated caller learns nothing about the input.
 */
export function requireAuth(required: readonly Scope[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const config = authConfig(c.env); // misconfiguration: 503 before anything else
    const header = c.req.header('authorization');
    const match = header && header.length <= MAX_TOKEN_LENGTH ? BEARER.exec(header) : null;
    if (!match) throw invalidToken(header ? 'not a bearer token' : 'no authorization header', c.get('requestId'));
    let token: VerifiedToken;
    try {
      token = await verifyAccessToken(match[1]!, config);
    } catch (err) {
      if (err instanceof KeySetUnavailable) {
        console.error(
          JSON.stringify({ event: 'jwks_unavailable', message: err.message, request_id: c.get('requestId') }),
        );
        throw new ApiError(
          'auth_unavailable',
          'The signing keys of the identity provider cannot be loaded right now; retry shortly.',
          {
            headers: { 'Retry-After': '30' },
          },
        );
      }
      throw invalidToken(
        err instanceof Error ? `${err.name}: ${err.message}` : 'verification failed',
        c.get('requestId'),
        err instanceof errors.JWTExpired ? 'The access token expired' : undefined,
      );
    }
    const scopes = scopesOf(token);
    const missing = required.filter((s) => !scopes.has(s));
    if (missing.length > 0) {
      throw new ApiError('insufficient_scope', `The access token lacks the required scope(s): ${missing.join(' ')}.`, {
        headers: {
          'WWW-Authenticate': `Bearer realm="memoria", error="insufficient_scope", scope="${required.join(' ')}"`,
        },
      });
    }
    c.set('auth', { sub: token.sub, scopes, claims: token });
    await next();
  });
}
