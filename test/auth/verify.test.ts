// Verification details and configuration: leeway, audiences, scope claims, the verified-token
// cache, and fail-closed configuration (503, never an open door).
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { authConfig, verifyAccessToken } from '../../src/auth/verify';
import type { Env } from '../../src/env';
import { ApiError } from '../../src/lib/problem';
import { createTenant } from '../helpers/fixtures';
import { call } from '../helpers/http';
import { AUDIENCE, ISSUER } from '../helpers/tokens';
import { newKey } from './keys';

const inlineEnv = (jwk: object, extra: Partial<Env> = {}): Env => ({
  DB: env.DB,
  AUTH0_DOMAIN: 'inline.test',
  AUTH0_AUDIENCE: 'https://api.inline.test',
  AUTH0_JWKS: JSON.stringify({ keys: [jwk] }),
  ...extra,
});
const claims = { iss: 'https://inline.test/', aud: 'https://api.inline.test' };

describe('claims the API accepts', () => {
  it('accepts an aud array that contains the API audience (Auth0 adds /userinfo)', async () => {
    const { owner } = await createTenant();
    const res = await call('/v1/me', { token: await owner.token({ audience: [AUDIENCE, `${ISSUER}userinfo`] }) });
    expect(res.status).toBe(200);
  });

  it('reads scopes from the RBAC permissions array as well as from the scope claim', async () => {
    const { owner } = await createTenant();
    const asPermissions = await call('/v1/me', {
      token: await owner.token({ scopes: ['read:memories', 'manage:users'], asPermissions: true }),
    });
    expect(await asPermissions.json()).toMatchObject({ scopes: ['read:memories', 'manage:users'] });
    const asScope = await call('/v1/me', { token: await owner.token({ scopes: ['read:memories', 'manage:users'] }) });
    expect(await asScope.json()).toMatchObject({ scopes: ['read:memories', 'manage:users'] });
    // Both at once (Auth0 sends both when RBAC is on): the union; OIDC scopes and junk are not API scopes.
    const both = await call('/v1/me', {
      token: await owner.token({
        scopes: ['openid', 'profile', 'read:sessions'],
        claims: { permissions: ['write:sessions', 42] },
      }),
    });
    expect(await both.json()).toMatchObject({ scopes: ['read:sessions', 'write:sessions'] });
  });

  it('allows at most 60 s of clock skew: exp 30 s ago and nbf 30 s ahead pass, 120 s do not', async () => {
    const { owner } = await createTenant();
    expect((await call('/v1/me', { token: await owner.token({ expiresIn: -30 }) })).status).toBe(200);
    expect((await call('/v1/me', { token: await owner.token({ notBefore: 30 }) })).status).toBe(200);
    expect((await call('/v1/me', { token: await owner.token({ expiresIn: -120 }) })).status).toBe(401);
    expect((await call('/v1/me', { token: await owner.token({ notBefore: 120 }) })).status).toBe(401);
  });

  it('refuses a token without exp and a subject longer than any stored identity', async () => {
    const key = await newKey('strict');
    const config = authConfig(inlineEnv(key.jwk));
    await expect(verifyAccessToken(await key.sign(claims, { expiresIn: null }), config)).rejects.toThrow(/"exp"/);
    await expect(
      verifyAccessToken(await key.sign({ ...claims, sub: `auth0|${'x'.repeat(300)}` }), config),
    ).rejects.toThrow(/sub/);
    await expect(verifyAccessToken(await key.sign(claims), config)).resolves.toMatchObject({ sub: 'auth0|jwks-test' });
  });
});

describe('verified-token cache', () => {
  it('skips signature verification for a repeat token, and never serves it past exp', async () => {
    const key = await newKey('cache');
    const base = authConfig(inlineEnv(key.jwk));
    let keyLookups = 0;
    const config = {
      ...base,
      cacheKey: `counting-${crypto.randomUUID()}`,
      keys: ((...args: Parameters<typeof base.keys>) => {
        keyLookups++;
        return base.keys(...args);
      }) as typeof base.keys,
    };
    const token = await key.sign(claims, { expiresIn: 600 });
    await verifyAccessToken(token, config);
    await verifyAccessToken(token, config);
    await verifyAccessToken(token, config);
    expect(keyLookups).toBe(1);
    // Past exp + leeway the cached entry is not used and full verification refuses the token.
    await expect(verifyAccessToken(token, config, Date.now() + 600_000 + 61_000)).rejects.toThrow(/"exp"/);
    expect(keyLookups).toBe(2);
  });

  it('does not share entries between configurations (another audience re-verifies and refuses)', async () => {
    const key = await newKey('cache-2');
    const token = await key.sign(claims);
    await verifyAccessToken(token, authConfig(inlineEnv(key.jwk)));
    await expect(
      verifyAccessToken(token, authConfig(inlineEnv(key.jwk, { AUTH0_AUDIENCE: 'https://api.other.test' }))),
    ).rejects.toThrow(/"aud"/);
  });
});

describe('misconfiguration fails closed with 503', () => {
  const broken: [string, Partial<Env>, RegExp][] = [
    ['no audience', { AUTH0_AUDIENCE: undefined }, /AUTH0_AUDIENCE/],
    ['a blank audience', { AUTH0_AUDIENCE: '  ' }, /AUTH0_AUDIENCE/],
    ['neither domain nor issuer', { AUTH0_DOMAIN: undefined, AUTH0_ISSUER: undefined }, /AUTH0_DOMAIN or AUTH0_ISSUER/],
    ['a domain given as a URL', { AUTH0_DOMAIN: 'https://tenant.eu.auth0.com/' }, /host name/],
    ['AUTH0_JWKS that is not JSON', { AUTH0_JWKS: '{"keys": [' }, /not valid JSON/],
    ['AUTH0_JWKS without keys', { AUTH0_JWKS: '{"keys": []}' }, /non-empty "keys"/],
    [
      'AUTH0_JWKS holding a symmetric key',
      { AUTH0_JWKS: JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }) },
      /RSA keys/,
    ],
    ['an AUTH0_JWKS_URL that is not a URL', { AUTH0_JWKS: undefined, AUTH0_JWKS_URL: 'jwks.json' }, /not a valid URL/],
    [
      'a plain-http AUTH0_JWKS_URL',
      { AUTH0_JWKS: undefined, AUTH0_JWKS_URL: 'http://tenant.auth0.com/.well-known/jwks.json' },
      /https/,
    ],
    [
      'no key source at all',
      { AUTH0_JWKS: undefined, AUTH0_DOMAIN: undefined, AUTH0_ISSUER: 'https://issuer.test/' },
      /AUTH0_JWKS/,
    ],
  ];

  it.each(broken)('%s: authConfig throws a 503 problem', (_name, override, detail) => {
    const cfg = { ...env, ...override } as Env;
    try {
      authConfig(cfg);
      expect.unreachable('authConfig accepted a broken configuration');
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ status: 503, code: 'auth_not_configured', detail: expect.stringMatching(detail) });
    }
  });

  it('turns every authenticated request into a 503 problem, even with a valid token, while /health stays up', async () => {
    const { owner } = await createTenant();
    const app = createApp();
    const request = (path: string, bad: Partial<Env>, token?: string) =>
      app.request(path, { headers: token ? { authorization: `Bearer ${token}` } : {} }, { ...env, ...bad });
    for (const bad of [{ AUTH0_AUDIENCE: undefined }, { AUTH0_JWKS: 'not json' }]) {
      for (const token of [await owner.token(), undefined]) {
        const res = await request('/v1/me', bad, token);
        expect(res.status).toBe(503);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        expect(res.headers.get('retry-after')).toBe('60');
        expect(await res.json()).toMatchObject({ status: 503, code: 'auth_not_configured' });
      }
      expect((await request('/health', bad)).status).toBe(200);
    }
  });
});
