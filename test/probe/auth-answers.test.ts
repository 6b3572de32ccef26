// Actionable auth answers without weakening the auth: a valid token whose subject has no user is
// told how to get one (403 not_provisioned); an expired token says so in WWW-Authenticate; every
// other bad token keeps the one generic 401.
import { describe, expect, it } from 'vitest';
import { createTenant } from '../helpers/fixtures';
import { mintToken } from '../helpers/tokens';
import { call, expectProblem } from '../memories/helpers';

const GENERIC = 'Bearer realm="memoria", error="invalid_token"';

describe('auth answers', () => {
  it('a valid token whose subject has no user: 403 not_provisioned naming POST /v1/tenants and the invitation accept route', async () => {
    const token = await mintToken({ sub: `auth0|new-${crypto.randomUUID()}` });
    for (const path of ['/v1/me', '/v1/memories', '/v1/tenant']) {
      const body = await expectProblem(await call(path, { token }), 403, 'not_provisioned');
      expect(body.detail).toContain('POST /v1/tenants');
      expect(body.detail).toContain('POST /v1/invitations/{id}/accept');
    }
  });

  it('a removed user gets not_provisioned too (their token is valid; they have no user any more)', async () => {
    const t = await createTenant();
    const member = await t.addUser('member');
    const token = await member.token();
    expect((await call(`/v1/users/${member.id}`, { method: 'DELETE', token: await t.owner.token() })).status).toBe(204);
    await expectProblem(await call('/v1/me', { token }), 403, 'not_provisioned');
  });

  it('an expired token says so in error_description; forged, unknown-key, wrong issuer or audience tokens do not', async () => {
    const t = await createTenant();
    const expired = await call('/v1/me', { token: await t.owner.token({ expiresIn: -120 }) });
    const e = await expectProblem(expired, 401, 'invalid_token');
    expect(expired.headers.get('www-authenticate')).toBe(`${GENERIC}, error_description="The access token expired"`);
    for (const token of [
      await t.owner.token({ key: 'untrusted' }),
      await t.owner.token({ kid: 'unknown-kid' }),
      await t.owner.token({ issuer: 'https://evil.example/' }),
      await t.owner.token({ audience: 'https://other.example' }),
      'garbage',
    ]) {
      const res = await call('/v1/me', { token });
      const body = await expectProblem(res, 401, 'invalid_token');
      expect(res.headers.get('www-authenticate')).toBe(GENERIC);
      expect({ ...body, request_id: '' }).toEqual({ ...e, request_id: '' });
    }
  });
});
