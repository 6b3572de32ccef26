// Every way a token can be wrong gets the same 401: identical body (apart from request_id), the
// RFC 6750 challenge, and nothing that tells an attacker which check failed.
import { env } from 'cloudflare:test';
import { base64url, exportSPKI, importJWK, SignJWT } from 'jose';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createTenant, type TestUser } from '../helpers/fixtures';
import { call } from '../helpers/http';
import { AUDIENCE, ISSUER, mintToken } from '../helpers/tokens';

const enc = (v: unknown) => base64url.encode(JSON.stringify(v));
const now = () => Math.floor(Date.now() / 1000);

let owner: TestUser;
let valid: string;
let reference: Record<string, unknown>;

async function refused(res: Response) {
  expect(res.status).toBe(401);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.headers.get('www-authenticate')).toBe('Bearer realm="memoria", error="invalid_token"');
  const { request_id, ...rest } = await res.json<Record<string, unknown>>();
  expect(request_id).toBe(res.headers.get('x-request-id'));
  return rest;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  ({ owner } = await createTenant('Attack target'));
  valid = await owner.token();
  reference = await refused(await call('/v1/me'));
  expect(reference).toEqual({
    type: 'https://memoria.dev/problems/invalid_token',
    title: 'Unauthorized',
    status: 401,
    detail: 'The access token is missing or invalid.',
    code: 'invalid_token',
  });
});

// [attack, expected reason in the log, headers]
const attacks: [string, RegExp, () => Promise<Record<string, string>>][] = [
  ['no Authorization header', /no authorization header/, async () => ({})],
  ['not a Bearer credential', /not a bearer token/, async () => ({ authorization: `Basic ${btoa('user:pass')}` })],
  ['Bearer with the token missing', /not a bearer token/, async () => ({ authorization: 'Bearer ' })],
  ['garbage', /JWSInvalid/, async () => bearer('not-a-jwt-at-all')],
  ['three garbage segments', /JWSInvalid/, async () => bearer('aaa.bbb.ccc')],
  ['an oversized header', /not a bearer token/, async () => bearer('a'.repeat(20_000))],
  [
    'alg: none',
    /JOSEAlgNotAllowed/,
    async () => {
      const payload = valid.split('.')[1];
      return bearer(`${enc({ alg: 'none', typ: 'JWT' })}.${payload}.`);
    },
  ],
  [
    'HS256 signed with the RSA public key as the secret',
    /JOSEAlgNotAllowed/,
    async () => {
      const pub = JSON.parse(env.TEST_PUBLIC_JWK);
      const pem = await exportSPKI((await importJWK(pub, 'RS256', { extractable: true })) as CryptoKey);
      const forged = await new SignJWT({ scope: 'manage:tenant' })
        .setProtectedHeader({ alg: 'HS256', kid: pub.kid })
        .setSubject(owner.sub)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime(now() + 600)
        .sign(new TextEncoder().encode(pem));
      return bearer(forged);
    },
  ],
  [
    'RS256 signed by a key the API does not trust (same kid)',
    /JWSSignatureVerificationFailed/,
    async () => bearer(await owner.token({ key: 'untrusted' })),
  ],
  ['an unknown kid', /JWKSNoMatchingKey/, async () => bearer(await owner.token({ kid: 'no-such-key' }))],
  [
    'a tampered payload (signature of another token)',
    /JWSSignatureVerificationFailed/,
    async () => {
      const [header, payload, signature] = valid.split('.');
      const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload!)));
      return bearer(
        `${header}.${enc({ ...claims, scope: `${claims.scope} manage:tenant`, exp: now() + 86400 * 365 })}.${signature}`,
      );
    },
  ],
  ['nbf in the future (beyond the leeway)', /"nbf" claim/, async () => bearer(await owner.token({ notBefore: 300 }))],
  ['a wrong issuer', /"iss" claim/, async () => bearer(await owner.token({ issuer: 'https://evil.eu.auth0.com/' }))],
  [
    'the issuer without its trailing slash',
    /"iss" claim/,
    async () => bearer(await owner.token({ issuer: ISSUER.replace(/\/$/, '') })),
  ],
  [
    'a wrong audience',
    /"aud" claim/,
    async () => bearer(await owner.token({ audience: 'https://api.someone-else.test' })),
  ],
  [
    'an audience array without ours',
    /"aud" claim/,
    async () => bearer(await owner.token({ audience: ['https://a.test', `${ISSUER}userinfo`] })),
  ],
  ['no sub', /missing required "sub"/, async () => bearer(await mintToken({}))],
  ['an empty sub', /sub claim is empty/, async () => bearer(await mintToken({ sub: '' }))],
  [
    'an ID token (audience = a client id) for the same user',
    /"aud" claim/,
    async () =>
      bearer(
        await owner.token({
          audience: 'aBcD1234ClientIdOfTheSpa',
          scopes: [],
          claims: {
            nonce: 'n-0S6_WzA2Mj',
            email: owner.email,
            email_verified: true,
            name: 'Owner',
            at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q',
            sid: 's1',
          },
        }),
      ),
  ],
];

describe('attack suite: every bad token is the same 401', () => {
  it('accepts the untampered control token (so each refusal below is caused by the attack)', async () => {
    expect((await call('/v1/me', { headers: bearer(valid) })).status).toBe(200);
  });

  it.each(attacks)('%s', async (_name, reason, headers) => {
    const warn = vi.spyOn(console, 'warn');
    try {
      const res = await call('/v1/me', { headers: await headers() });
      expect(await refused(res)).toEqual(reference);
      // The client learns nothing; the operator's log says exactly which check failed.
      const logged = warn.mock.calls.map((args) => JSON.parse(String(args[0])) as { event: string; reason: string });
      expect(logged).toEqual([
        expect.objectContaining({ event: 'auth_failed', reason: expect.stringMatching(reason) }),
      ]);
    } finally {
      warn.mockRestore();
    }
  });

  it('gives the same 401 on a route that needs scopes and on a write with a body', async () => {
    const forged = await owner.token({ key: 'untrusted' });
    const res = await call('/v1/tenants', { method: 'POST', token: forged, json: { name: 'x' } });
    expect(await refused(res)).toEqual(reference);
  });

  it('expired (beyond the 60 s leeway): the same body; only the challenge says it expired, so the client refreshes', async () => {
    const res = await call('/v1/me', { headers: bearer(await owner.token({ expiresIn: -120 })) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="memoria", error="invalid_token", error_description="The access token expired"',
    );
    const { request_id: _id, ...rest } = await res.json<Record<string, unknown>>();
    expect(rest).toEqual(reference);
  });

  it('accepts the scheme name case-insensitively (RFC 7235)', async () => {
    expect((await call('/v1/me', { headers: { authorization: `bearer ${valid}` } })).status).toBe(200);
  });
});

/** A valid token whose subject is no live user: 403 not_provisioned (the caller proved who they are). */
async function notProvisioned(res: Response) {
  expect(res.status).toBe(403);
  expect(((await res.json()) as { code: string }).code).toBe('not_provisioned');
}

describe('deleted users and tenants are locked out at once', () => {
  it('a valid signature but a subject with no user', async () => {
    await notProvisioned(
      await call('/v1/me', { headers: bearer(await mintToken({ sub: `auth0|${crypto.randomUUID()}` })) }),
    );
  });

  it('refuses a user whose row is soft-deleted, even with a token that worked a moment ago', async () => {
    const { addUser } = await createTenant();
    const member = await addUser('member');
    const token = await member.token();
    expect((await call('/v1/me', { token })).status).toBe(200);
    await env.DB.prepare('UPDATE users SET deleted_at = ? WHERE id = ?').bind(Date.now(), member.id).run();
    await notProvisioned(await call('/v1/me', { token }));
  });

  it('refuses every user of a soft-deleted tenant', async () => {
    const { tenant, owner: tenantOwner, addUser } = await createTenant();
    const service = await addUser('member', 'service');
    const tokens = [await tenantOwner.token(), await service.token()];
    for (const token of tokens) expect((await call('/v1/me', { token })).status).toBe(200);
    await env.DB.prepare('UPDATE tenants SET deleted_at = ? WHERE id = ?').bind(Date.now(), tenant.id).run();
    for (const token of tokens) await notProvisioned(await call('/v1/me', { token }));
  });
});
