import { env } from 'cloudflare:test';
import { importJWK, type JWTPayload, SignJWT } from 'jose';
import { ALL_SCOPES, type Scope } from '../../src/auth/scopes';

export const ISSUER = `https://${env.AUTH0_DOMAIN}/`;
export const AUDIENCE = env.AUTH0_AUDIENCE!;

export interface TokenOptions {
  sub?: string;
  scopes?: readonly (Scope | string)[];
  /** Put scopes in Auth0's RBAC `permissions` array instead of `scope`. */
  asPermissions?: boolean;
  issuer?: string;
  audience?: string | string[];
  expiresIn?: number;
  notBefore?: number;
  kid?: string;
  key?: 'trusted' | 'untrusted';
  claims?: JWTPayload;
}

/** Mints an RS256 access token like Auth0 would, signed by the test key the Worker trusts. */
export async function mintToken(opts: TokenOptions = {}): Promise<string> {
  const jwk = JSON.parse(opts.key === 'untrusted' ? env.TEST_UNTRUSTED_PRIVATE_JWK : env.TEST_PRIVATE_JWK);
  const key = await importJWK(jwk, 'RS256');
  const scopes = [...(opts.scopes ?? ALL_SCOPES)];
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({
    ...(opts.asPermissions ? { permissions: scopes } : { scope: scopes.join(' ') }),
    ...opts.claims,
  })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: opts.kid ?? jwk.kid })
    .setIssuer(opts.issuer ?? ISSUER)
    .setAudience(opts.audience ?? AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + (opts.expiresIn ?? 3600));
  if (opts.sub !== undefined) jwt.setSubject(opts.sub);
  if (opts.notBefore !== undefined) jwt.setNotBefore(now + opts.notBefore);
  return jwt.sign(key);
}
