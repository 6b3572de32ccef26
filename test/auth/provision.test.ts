import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { MeSchema } from '../../src/routes/me/schema';
import { createTenant } from '../helpers/fixtures';
import { call } from '../helpers/http';
import { mintToken } from '../helpers/tokens';

const newSub = () => `auth0|signup-${crypto.randomUUID()}`;

async function countRows(sub: string) {
  const row = await env.DB.prepare(
    `SELECT (SELECT count(*) FROM users WHERE auth0_id = ?1) AS users,
            (SELECT count(*) FROM tenants t JOIN users u ON u.tenant_id = t.id WHERE u.auth0_id = ?1) AS tenants`,
  )
    .bind(sub)
    .first<{ users: number; tenants: number }>();
  return row!;
}

describe('POST /v1/tenants (provisioning)', () => {
  it('creates a free tenant with the caller as owner, email from the token, and returns the caller', async () => {
    const sub = newSub();
    const token = await mintToken({ sub, scopes: [], claims: { email: 'founder@example.com' } });
    const before = await call('/v1/me', { token });
    expect(before.status).toBe(403);

    const res = await call('/v1/tenants', { method: 'POST', token, json: { name: '  Acme  ' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/v1/tenant');
    const body = MeSchema.parse(await res.json()); // the declared 201 schema
    expect(body).toMatchObject({
      user: { email: 'founder@example.com', role: 'owner', kind: 'person', name: null },
      tenant: { name: 'Acme', plan: 'free', memory_count: 0 },
      scopes: [],
    });
    expect(body.user.id).toMatch(/^usr_/);
    expect(body.tenant.id).toMatch(/^ten_/);

    // The new owner is a caller now: the same view through GET /v1/me.
    const me = await call('/v1/me', { token });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual(body);

    // Subscription and audit row were written in the same batch.
    const sub_ = await env.DB.prepare('SELECT plan, status FROM subscriptions WHERE tenant_id = ?')
      .bind(body.tenant.id)
      .first();
    expect(sub_).toEqual({ plan: 'free', status: 'active' });
    const audit = await env.DB.prepare('SELECT action, user_id FROM audit_logs WHERE tenant_id = ?')
      .bind(body.tenant.id)
      .all();
    expect(audit.results).toEqual([{ action: 'tenant.create', user_id: body.user.id }]);
  });

  it('takes the email from the body when the token has none, and makes a machine client a service user', async () => {
    const sub = `${crypto.randomUUID().replaceAll('-', '')}@clients`;
    const token = await mintToken({ sub, scopes: ['read:memories'] });
    const res = await call('/v1/tenants', {
      method: 'POST',
      token,
      json: { name: 'Bot corp', email: 'ops@example.com' },
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      user: { email: 'ops@example.com', kind: 'service', role: 'owner' },
      scopes: ['read:memories'],
    });
  });

  it("prefers the token's email claim over the body", async () => {
    const token = await mintToken({ sub: newSub(), claims: { email: 'verified@example.com' } });
    const res = await call('/v1/tenants', { method: 'POST', token, json: { name: 'X', email: 'typed@example.com' } });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ user: { email: 'verified@example.com' } });
  });

  it('answers 422 naming the field when neither token nor body has an email, and writes nothing', async () => {
    const sub = newSub();
    const res = await call('/v1/tenants', {
      method: 'POST',
      token: await mintToken({ sub }),
      json: { name: 'No mail' },
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'json.email' }] });
    expect(await countRows(sub)).toEqual({ users: 0, tenants: 0 });
  });

  it('validates the body (422) before writing anything', async () => {
    const sub = newSub();
    const token = await mintToken({ sub, claims: { email: 'a@example.com' } });
    for (const json of [
      {},
      { name: '' },
      { name: 'x'.repeat(201) },
      { name: 'ok', email: 'not-an-email' },
      { name: 42 },
    ]) {
      const res = await call('/v1/tenants', { method: 'POST', token, json });
      expect(res.status, JSON.stringify(json)).toBe(422);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    expect(await countRows(sub)).toEqual({ users: 0, tenants: 0 });
  });

  it('answers 409 when the caller already belongs to a tenant, and creates no second tenant', async () => {
    const { owner } = await createTenant();
    const member = await (await createTenant()).addUser('member');
    for (const user of [owner, member]) {
      const res = await call('/v1/tenants', {
        method: 'POST',
        token: await user.token({ claims: { email: 'x@example.com' } }),
        json: { name: 'Second' },
      });
      expect(res.status).toBe(409);
      expect(await res.json()).toMatchObject({ status: 409, code: 'already_provisioned' });
      expect((await countRows(user.sub)).users).toBe(1);
    }
    const tenants = await env.DB.prepare("SELECT count(*) AS n FROM tenants WHERE name = 'Second'").first<{
      n: number;
    }>();
    expect(tenants!.n).toBe(0);
  });

  it('provisions once when the same caller races itself', async () => {
    const sub = newSub();
    const token = await mintToken({ sub, claims: { email: 'race@example.com' } });
    const statuses = await Promise.all(
      [1, 2, 3].map(() => call('/v1/tenants', { method: 'POST', token, json: { name: 'Race' } }).then((r) => r.status)),
    );
    expect(statuses.sort()).toEqual([201, 409, 409]);
    expect(await countRows(sub)).toEqual({ users: 1, tenants: 1 });
  });

  it('answers malformed JSON with 400 and a non-JSON body with 415', async () => {
    const token = await mintToken({ sub: newSub(), claims: { email: 'a@example.com' } });
    const malformed = await call('/v1/tenants', {
      method: 'POST',
      token,
      body: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    const form = await call('/v1/tenants', {
      method: 'POST',
      token,
      body: 'name=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
  });

  it('refuses an invalid token with 401 before looking at the body', async () => {
    const res = await call('/v1/tenants', {
      method: 'POST',
      token: await mintToken({ sub: newSub(), key: 'untrusted' }),
      json: {},
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'invalid_token' });
  });
});
