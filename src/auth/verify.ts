import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { Env } from '../env';
import { ApiError } from '../lib/problem';
import { type RemoteKeySetOptions, remoteKeySet } from './jwks';

export interface AuthConfig {
  issuer: string;
  audience: string;
  keys: JWTVerifyGetKey;
  /** Identifies the config in caches, so a changed config never reuses another's keys or tokens. */
  cacheKey: string;
}

export interface VerifiedToken extends JWTPayload {
  sub: string;
}

/** exp/nbf leeway for clock skew between Auth0 and the edge (the issue allows at most 60 s). */
export const CLOCK_TOLERANCE_S = 60;
/** users.auth0_id holds at most 255 characters; a longer subject can never be a caller. */
const MAX_SUB_LENGTH = 255;
const TOKEN_CACHE_MAX = 1_000;

// Isolate-wide caches: key sets by source, verified tokens until their exp.
const keySets = new Map<string, JWTVerifyGetKey>();
const verifiedTokens = new Map<string, { token: VerifiedToken; expiresAtMs: number }>();

function notConfigured(detail: string): ApiError {
  console.error(JSON.stringify({ event: 'auth_not_configured', detail }));
  return new ApiError('auth_not_configured', `Authentication is not configured: ${detail}`, {
    headers: { 'Retry-After': '60' },
  });
}

function parseJwks(json: string): JSONWebKeySet {
  let jwks: unknown;
  try {
    jwks = JSON.parse(json);
  } catch {
    throw notConfigured('AUTH0_JWKS is not valid JSON.');
  }
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (
    !Array.isArray(keys) ||
    keys.length === 0 ||
    !keys.every((k) => k && typeof k === 'object' && (k as { kty?: unknown }).kty === 'RSA')
  ) {
    throw notConfigured('AUTH0_JWKS must be a JWKS object with a non-empty "keys" array of RSA keys.');
  }
  return jwks as JSONWebKeySet;
}

/**
 * Reads auth settings from the environment; missing or bad settings fail closed with 503.
 * `jwks` options reach a remote key set when it is first created (tests shorten the cooldown).
 */
export function authConfig(env: Env, jwks: RemoteKeySetOptions = {}): AuthConfig {
  const audience = env.AUTH0_AUDIENCE?.trim();
  const domain = env.AUTH0_DOMAIN?.trim();
  if (!audience) throw notConfigured('AUTH0_AUDIENCE is not set.');
  if (domain !== undefined && domain !== '' && !/^[A-Za-z0-9.-]+(?::\d+)?$/.test(domain)) {
    throw notConfigured('AUTH0_DOMAIN must be a host name such as your-tenant.eu.auth0.com (no scheme, no path).');
  }
  const issuer = env.AUTH0_ISSUER?.trim() || (domain ? `https://${domain}/` : '');
  if (!issuer) throw notConfigured('AUTH0_DOMAIN or AUTH0_ISSUER is not set.');

  let source: string;
  let keys: JWTVerifyGetKey | undefined;
  if (env.AUTH0_JWKS?.trim()) {
    source = `inline:${env.AUTH0_JWKS}`;
    keys = keySets.get(source) ?? createLocalJWKSet(parseJwks(env.AUTH0_JWKS));
  } else {
    const url = env.AUTH0_JWKS_URL?.trim() || (domain ? `https://${domain}/.well-known/jwks.json` : '');
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw notConfigured(
        url ? 'AUTH0_JWKS_URL is not a valid URL.' : 'Set AUTH0_DOMAIN, AUTH0_JWKS_URL or AUTH0_JWKS.',
      );
    }
    if (parsed.protocol !== 'https:' && !['localhost', '127.0.0.1'].includes(parsed.hostname)) {
      throw notConfigured('AUTH0_JWKS_URL must use https.');
    }
    source = `remote:${parsed.href}`;
    keys = keySets.get(source) ?? remoteKeySet(parsed, jwks);
  }
  keySets.set(source, keys);
  return { issuer, audience, keys, cacheKey: `${issuer}|${audience}|${source}` };
}

/** Verifies an Auth0 RS256 access token. Throws on any failure; the middleware maps that to 401 (503 if keys are unavailable). */
export async function verifyAccessToken(jwt: string, config: AuthConfig, nowMs = Date.now()): Promise<VerifiedToken> {
  const cacheKey = `${config.cacheKey}|${jwt}`;
  const cached = verifiedTokens.get(cacheKey);
  if (cached && cached.expiresAtMs > nowMs) return cached.token;

  const { payload } = await jwtVerify(jwt, config.keys, {
    algorithms: ['RS256'], // an allowlist: the token's own `alg` is never trusted
    issuer: config.issuer,
    audience: config.audience,
    clockTolerance: CLOCK_TOLERANCE_S,
    currentDate: new Date(nowMs),
    requiredClaims: ['exp', 'sub'],
  });
  if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > MAX_SUB_LENGTH) {
    throw new Error('sub claim is empty or too long');
  }
  const token = payload as VerifiedToken;

  // Cached no longer than exp itself (the leeway is for clock skew, not for reuse).
  if (verifiedTokens.size >= TOKEN_CACHE_MAX) verifiedTokens.delete(verifiedTokens.keys().next().value!);
  verifiedTokens.set(cacheKey, { token, expiresAtMs: (payload.exp as number) * 1000 });
  return token;
}

/** Granted scopes: Auth0 RBAC `permissions` plus the space-separated `scope` claim. */
export function scopesOf(token: JWTPayload): Set<string> {
  const scopes = new Set<string>();
  if (Array.isArray(token.permissions)) for (const p of token.permissions) if (typeof p === 'string') scopes.add(p);
  if (typeof token.scope === 'string') for (const s of token.scope.split(/\s+/)) if (s) scopes.add(s);
  return scopes;
}
