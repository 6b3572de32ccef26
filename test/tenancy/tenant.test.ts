import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { TENANT_RETENTION_MS } from '../../src/lib/limits';
import { tenantRoutes } from '../../src/routes/tenants/lifecycle';
import { createTenant } from '../helpers/fixtures';
import { call } from '../helpers/http';
import { mintToken } from '../helpers/tokens';
import { checked, d1Stats } from './check';

const { getTenant, updateTenant, deleteTenant, restoreTenant } = tenantRoutes;
type Tenant = { id: string; name: string; plan: string; memory_count: number; updated_at: string };

const insertMemory = (tenantId: string, userId: string) =>
  env.DB.prepare(
    "INSERT INTO memories (id, tenant_id, user_id, content, created_at, updated_at) VALUES ('mem_' || hex(randomblob(13)), ?1, ?2, 'hello', ?3, ?3)",
  )
    .bind(tenantId, userId, Date.now())
    .run();

describe('GET /v1/tenant', () => {
  it("shows the caller's tenant to any role, with no scope, in one round trip and no write", async () => {
    const t = await createTenant('Acme');
    await insertMemory(t.tenant.id, t.owner.id);
    const member = await t.addUser('member');
    const res = await call('/v1/tenant', { token: await member.token({ scopes: [] }) });
    expect(d1Stats(res)).toMatchObject({ roundTrips: 1, rowsWritten: 0 });
    expect(await checked<Tenant>(getTenant, res, 200)).toMatchObject({
      id: t.tenant.id,
      name: 'Acme',
      plan: 'free',
      memory_count: 1,
    });
  });
});

describe('PATCH /v1/tenant', () => {
  it('renames the tenant with an audit row holding the old and new name', async () => {
    const t = await createTenant('Old name');
    const res = await call('/v1/tenant', {
      method: 'PATCH',
      token: await t.owner.token(),
      json: { name: '  New name ' },
    });
    expect(d1Stats(res).roundTrips).toBe(1);
    expect((await checked<Tenant>(updateTenant, res, 200)).name).toBe('New name');
    const audit = await env.DB.prepare(
      "SELECT old_values, new_values FROM audit_logs WHERE tenant_id = ?1 AND action = 'tenant.update'",
    )
      .bind(t.tenant.id)
      .first<{ old_values: string; new_values: string }>();
    expect(JSON.parse(audit!.old_values)).toEqual({ name: 'Old name' });
    expect(JSON.parse(audit!.new_values)).toEqual({ name: 'New name' });
  });

  it.each([[''], ['   '], ['x'.repeat(201)]])('refuses the name %j with 422', async (name) => {
    const t = await createTenant('Kept');
    expect(
      await checked(
        updateTenant,
        await call('/v1/tenant', { method: 'PATCH', token: await t.owner.token(), json: { name } }),
        422,
      ),
    ).toMatchObject({ code: 'validation_failed' });
    expect(
      (await env.DB.prepare('SELECT name FROM tenants WHERE id = ?1').bind(t.tenant.id).first<{ name: string }>())!
        .name,
    ).toBe('Kept');
  });
});

describe('DELETE /v1/tenant and restore', () => {
  it('locks out every token of the tenant at once, leaves other tenants alone, and an owner restores it', async () => {
    const t = await createTenant();
    const other = await createTenant();
    const users = [t.owner, await t.addUser('admin'), await t.addUser('member'), await t.addUser('member', 'service')];
    const tokens = await Promise.all(users.map((u) => u.token()));
    for (const token of tokens) expect((await call('/v1/me', { token })).status).toBe(200);

    const res = await call('/v1/tenant', { method: 'DELETE', token: tokens[0] });
    expect(d1Stats(res).roundTrips).toBe(1);
    const deleted = await checked<{ id: string; deleted_at: string; restorable_until: string }>(deleteTenant, res, 200);
    expect(deleted.id).toBe(t.tenant.id);
    expect(Date.parse(deleted.restorable_until) - Date.parse(deleted.deleted_at)).toBe(TENANT_RETENTION_MS);

    for (const token of tokens) {
      for (const path of ['/v1/me', '/v1/tenant', '/v1/users', '/v1/subscription']) {
        const r = await call(path, { token });
        expect(r.status, path).toBe(403);
        expect(await r.json()).toMatchObject({ code: 'not_provisioned' });
      }
    }
    expect((await call('/v1/me', { token: await other.owner.token() })).status).toBe(200);

    // Admins and members of the deleted tenant cannot restore it; the owner can.
    expect(
      await checked(restoreTenant, await call('/v1/tenant/restore', { method: 'POST', token: tokens[1] }), 403),
    ).toMatchObject({ code: 'insufficient_role' });
    expect(
      await checked(restoreTenant, await call('/v1/tenant/restore', { method: 'POST', token: tokens[2] }), 403),
    ).toMatchObject({ code: 'insufficient_role' });
    const restoredRes = await call('/v1/tenant/restore', { method: 'POST', token: tokens[0] });
    expect(d1Stats(restoredRes).roundTrips).toBe(1);
    expect((await checked<Tenant>(restoreTenant, restoredRes, 200)).id).toBe(t.tenant.id);
    for (const token of tokens) expect((await call('/v1/me', { token })).status).toBe(200);

    const actions = (
      await env.DB.prepare(
        "SELECT action, user_id, resource_id FROM audit_logs WHERE tenant_id = ?1 AND action IN ('tenant.delete', 'tenant.restore') ORDER BY id",
      )
        .bind(t.tenant.id)
        .all()
    ).results;
    expect(actions).toEqual([
      { action: 'tenant.delete', user_id: t.owner.id, resource_id: t.tenant.id },
      { action: 'tenant.restore', user_id: t.owner.id, resource_id: t.tenant.id },
    ]);
  });

  it('cannot be restored once the retention period is over (410), and stays locked', async () => {
    const t = await createTenant();
    const token = await t.owner.token();
    await checked(deleteTenant, await call('/v1/tenant', { method: 'DELETE', token }), 200);
    await env.DB.prepare('UPDATE tenants SET deleted_at = ?2 WHERE id = ?1')
      .bind(t.tenant.id, Date.now() - TENANT_RETENTION_MS - 1000)
      .run();
    expect(
      await checked(restoreTenant, await call('/v1/tenant/restore', { method: 'POST', token }), 410),
    ).toMatchObject({ code: 'retention_expired' });
    expect((await call('/v1/me', { token })).status).toBe(403);
    expect(
      (await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_logs WHERE tenant_id = ?1 AND action = 'tenant.restore'")
        .bind(t.tenant.id)
        .first<{ n: number }>())!.n,
    ).toBe(0);
  });

  it('restore answers 409 for a live tenant and 403 not_provisioned for a subject with no user', async () => {
    const t = await createTenant();
    expect(
      await checked(
        restoreTenant,
        await call('/v1/tenant/restore', { method: 'POST', token: await t.owner.token() }),
        409,
      ),
    ).toMatchObject({ code: 'tenant_not_deleted' });
    expect(
      await checked(
        restoreTenant,
        await call('/v1/tenant/restore', { method: 'POST', token: await mintToken({ sub: 'auth0|nobody-here' }) }),
        403,
      ),
    ).toMatchObject({ code: 'not_provisioned' });
  });
});
