import { describe, expect, it } from 'vitest';
import { createTenant } from './helpers/fixtures';
import { call } from './helpers/http';
import { mintToken } from './helpers/tokens';

describe('GET /v1/me', () => {
  it("returns the caller's user, tenant, role and granted scopes", async () => {
    const { tenant, owner } = await createTenant('Acme');
    const res = await call('/v1/me', { token: await owner.token({ scopes: ['read:memories'] }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      user: { id: owner.id, email: owner.email, role: 'owner', kind: 'person' },
      tenant: { id: tenant.id, name: 'Acme', plan: 'free', memory_count: 0 },
      scopes: ['read:memories'],
    });
  });

  it('makes exactly one D1 round trip (caller lookup included)', async () => {
    const { owner } = await createTenant();
    const res = await call('/v1/me', { token: await owner.token() });
    expect(res.headers.get('server-timing')).toMatch(/round_trips=1 /);
  });

  it('refuses a valid token whose subject has no user', async () => {
    const res = await call('/v1/me', { token: await mintToken({ sub: 'auth0|nobody' }) });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'not_provisioned' });
  });

  it('refuses a request without a token', async () => {
    const res = await call('/v1/me');
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });
});
