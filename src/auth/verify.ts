import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Env } from '../env';
import { ApiError } from '../lib/problem';

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

/** Refetch the remote JWKS for an unknown `kid` at most this often (a flood of kids is one fetch). */
export const JWKS_COOLDOWN_MS = 30_000;
const CLOCK_TOLERANCE_S = 60;
const TOKEN_CACHE_MAX = 1_000;

// Isolate-wide caches: key sets by source, verified tokens until their exp.
const keySets = new Map<string, JWTVerifyGetKey>();
const verifiedTokens = new Map<string, { token: VerifiedToken; expiresAtMs: number }>();

function notConfigured(detail: string): ApiError {
  return new ApiError(503, 'auth_not_configured', `Authentication is not configured: ${detail}`, {
    headers: { 'Retry-After': '60' },
  });
}

/** Reads auth settings from the environment; missing or bad settings fail closed with 503. */
export function authConfig(env: Env): AuthConfig {
  const audience = env.AUTH0_AUDIENCE?.trim();
  const domain = env.AUTH0_DOMAIN?.trim();
  if (!audience) throw notConfigured('AUTH0_AUDIENCE is not set.');
  if (!env.AUTH0_ISSUER && !domain) throw notConfigured('AUTH0_DOMAIN or AUTH0_ISSUER is not set.');
  const issuer = env.AUTH0_ISSUER?.trim() || `https://${domain}/`;

  let source: string;
  let keys: JWTVerifyGetKey | undefined;
  if (env.AUTH0_JWKS) {
    source = `inline:${env.AUTH0_JWKS}`;
    keys = keySets.get(source);
    if (!keys) {
      let jwks: unknown;
      try {
        jwks = JSON.parse(env.AUTH0_JWKS);
      } catch {
        throw notConfigured('AUTH0_JWKS is not valid JSON.');
      }
      if (!jwks || typeof jwks !== 'object' || !Array.isArray((jwks as { keys?: unknown }).keys)) {
        throw notConfigured('AUTH0_JWKS must be a JWKS object with a "keys" array.');
      }
      keys = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
    }
  } else {
    const url = env.AUTH0_JWKS_URL?.trim() || (domain ? `https://${domain}/.well-known/jwks.json` : '');
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw notConfigured('AUTH0_JWKS_URL is not a valid URL.');
    }
    source = `remote:${parsed.href}`;
    keys = keySets.get(source) ?? createRemoteJWKSet(parsed, { cooldownDuration: JWKS_COOLDOWN_MS, cacheMaxAge: 10 * 60_000 });
  }
  keySets.set(source, keys);
  return { issuer, audience, keys, cacheKey: `${issuer}|${audience}|${source}` };
}

/** Verifies an Auth0 RS256 access token. Throws on any failure; the caller maps that to 401. */
export async function verifyAccessToken(jwt: string, config: AuthConfig, nowMs = Date.now()): Promise<VerifiedToken> {
  const cacheKey = `${config.cacheKey}|${jwt}`;
  const cached = verifiedTokens.get(cacheKey);
  if (cached && cached.expiresAtMs > nowMs) return cached.token;

  const { payload } = await jwtVerify(jwt, config.keys, {
    algorithms: ['RS256'],
    issuer: config.issuer,
    audience: config.audience,
    clockTolerance: CLOCK_TOLERANCE_S,
    requiredClaims: ['exp', 'sub'],
  });
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw new Error('sub claim is empty');
  const token = payload as VerifiedToken;

  if (verifiedTokens.size >= TOKEN_CACHE_MAX) verifiedTokens.delete(verifiedTokens.keys().next().value!);
  verifiedTokens.set(cacheKey, { token, expiresAtMs: (payload.exp as number) * 1000 });
  return token;
}

/** Granted scopes: Auth0 RBAC `permissions` plus the space-separated `scope` claim. */
export function scopesOf(token: JWTPayload): Set<string> {
  const scopes = new Set<string>();
  if (Array.isArray(token.permissions)) for (const p of token.permissions) if (typeof p === 'string') scopes.add(p);
  if (typeof token.scope === 'string') for (const s of token.scope.split(' ')) if (s) scopes.add(s);
  return scopes;
}
