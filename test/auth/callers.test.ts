// Who a verified token maps to: users and machine-to-machine clients, by `sub` only.
import { describe, expect, it } from 'vitest';
import { MeSchema } from '../../src/routes/me/schema';
import { createTenant } from '../helpers/fixtures';
import { call } from '../helpers/http';
import { mintToken } from '../helpers/tokens';

describe('caller → tenant', () => {
  it('maps an M2M token (sub = <client_id>@clients) registered as a service user to its tenant', async () => {
    const { tenant, addUser } = await createTenant('Robots');
    const bot = await addUser('member', 'service');
    expect(bot.sub).toMatch(/@clients$/);
    // Auth0 client-credentials tokens carry gty and azp, and usually only a scope claim.
    const token = await mintToken({
      sub: bot.sub,
      scopes: ['read:memories'],
      claims: { gty: 'client-credentials', azp: bot.sub.replace('@clients', '') },
    });
    const res = await call('/v1/me', { token });
    expect(res.status).toBe(200);
    expect(MeSchema.parse(await res.json())).toMatchObject({
      user: { id: bot.id, kind: 'service', role: 'member' },
      tenant: { id: tenant.id },
      scopes: ['read:memories'],
    });
  });

  it('refuses an unregistered M2M client', async () => {
    const res = await call('/v1/me', { token: await mintToken({ sub: `${crypto.randomUUID()}@clients` }) });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe('not_provisioned');
  });

  it('takes the tenant from the token subject only, never from headers, query or claims', async () => {
    const { owner } = await createTenant('Mine');
    const { tenant: other } = await createTenant('Theirs');
    const token = await owner.token({ claims: { tenant_id: other.id, org_id: other.id } });
    const res = await call(`/v1/me?tenant_id=${other.id}`, { token, headers: { 'x-tenant-id': other.id } });
    expect(await res.json()).toMatchObject({ tenant: { id: owner.tenantId } });
  });

  it('GET /v1/me needs a valid token but no scope', async () => {
    const { owner } = await createTenant();
    const res = await call('/v1/me', { token: await owner.token({ scopes: [] }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ scopes: [] });
  });
});
