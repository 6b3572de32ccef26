import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { userRoutes } from '../../src/routes/users';
import { createTenant } from '../helpers/fixtures';
import { call } from '../helpers/http';
import { mintToken } from '../helpers/tokens';
import { checked, d1Stats } from './check';
import { setPlan, uniqueEmail, uniqueSub } from './setup';

type User = {
  id: string;
  email: string;
  role: string;
  kind: string;
  name: string | null;
  deleted_at: string | null;
  updated_at: string;
};
type Page = { data: User[]; next_cursor: string | null };
const { listUsers, createUser, getUser, updateUser, deleteUser } = userRoutes;

const create = async (token: string, body: Record<string, unknown>) =>
  call('/v1/users', {
    method: 'POST',
    token,
    json: { auth0_id: uniqueSub(), email: uniqueEmail(), role: 'member', ...body },
  });

describe('POST /v1/users', () => {
  it('creates a service with Location and ETag, one round trip, with its audit row', async () => {
    const { owner, tenant } = await createTenant();
    const sub = uniqueSub();
    const res = await create(await owner.token(), {
      auth0_id: sub,
      email: 'Ada@Example.com',
      role: 'admin',
      name: 'Ada',
    });
    expect(d1Stats(res).roundTrips).toBe(1);
    const location = res.headers.get('location');
    const etag = res.headers.get('etag');
    const user = await checked<User>(createUser, res, 201);
    expect(user).toMatchObject({
      email: 'Ada@Example.com',
      role: 'admin',
      kind: 'service',
      name: 'Ada',
      deleted_at: null,
      tenant_id: tenant.id,
    });
    expect(location).toBe(`/v1/users/${user.id}`);
    expect(etag).toBe(`"${user.id}-v${Date.parse(user.updated_at)}"`);
    const audit = await env.DB.prepare(
      "SELECT user_id, new_values FROM audit_logs WHERE tenant_id = ?1 AND action = 'user.create' AND resource_id = ?2",
    )
      .bind(tenant.id, user.id)
      .first<{ user_id: string; new_values: string }>();
    expect(audit?.user_id).toBe(owner.id);
    expect(JSON.parse(audit!.new_values)).toMatchObject({ auth0_id: sub, role: 'admin' });
    // The new user can call the API with their own token at once.
    const me = await call('/v1/me', { token: await mintToken({ sub }) });
    expect(await me.json()).toMatchObject({ user: { id: user.id, role: 'admin' }, tenant: { id: tenant.id } });
  });

  it('replays a retried creation with the same Idempotency-Key, and refuses the key for another body (422)', async () => {
    const { owner, tenant } = await createTenant();
    const token = await owner.token();
    const json = { auth0_id: uniqueSub(), email: uniqueEmail(), role: 'member' };
    const headers = { 'idempotency-key': crypto.randomUUID() };
    const first = await call('/v1/users', { method: 'POST', token, json, headers });
    const user = await checked<User>(createUser, first, 201);
    const again = await call('/v1/users', { method: 'POST', token, json, headers });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(d1Stats(again).rowsWritten).toBe(0);
    expect(await checked<User>(createUser, again, 201)).toEqual(user);
    const other = await call('/v1/users', { method: 'POST', token, json: { ...json, email: uniqueEmail() }, headers });
    expect(await checked(createUser, other, 422)).toMatchObject({ code: 'idempotency_key_reused' });
    const n = await env.DB.prepare(
      "SELECT (SELECT COUNT(*) FROM users WHERE tenant_id = ?1) AS users, (SELECT COUNT(*) FROM audit_logs WHERE tenant_id = ?1 AND action = 'user.create') AS audits",
    )
      .bind(tenant.id)
      .first();
    expect(n).toEqual({ users: 2, audits: 1 });
  });

  it('creates a service user for an Auth0 machine client, whose client-credentials token then works', async () => {
    const { owner } = await createTenant();
    const sub = `${crypto.randomUUID().replace(/-/g, '')}@clients`;
    const user = await checked<User>(
      createUser,
      await create(await owner.token(), { auth0_id: sub, kind: 'service' }),
      201,
    );
    expect(user.kind).toBe('service');
    const me = await call('/v1/me', { token: await mintToken({ sub }) });
    expect(await me.json()).toMatchObject({ user: { id: user.id, kind: 'service' } });
  });

  it.each([
    ['a bad email', { email: 'not-an-email' }, 'json.email'],
    ['an unknown role', { role: 'superuser' }, 'json.role'],
    ['a service without a @clients subject', { kind: 'service', auth0_id: 'auth0|someone' }, 'json.auth0_id'],
    ['a person (people join by invitation)', { kind: 'person', auth0_id: 'auth0|someone' }, 'json.kind'],
    ['an empty auth0_id', { auth0_id: '' }, 'json.auth0_id'],
    ['a 201-character name', { name: 'x'.repeat(201) }, 'json.name'],
  ])('refuses %s with 422 naming the field, writing nothing', async (_, body, path) => {
    const { owner, tenant } = await createTenant();
    const problem = await checked<{ code: string; errors: { path: string }[] }>(
      createUser,
      await create(await owner.token(), body),
      422,
    );
    expect(problem.code).toBe('validation_failed');
    expect(problem.errors.map((e) => e.path)).toContain(path);
    expect(
      (await env.DB.prepare('SELECT COUNT(*) AS n FROM users WHERE tenant_id = ?1')
        .bind(tenant.id)
        .first<{ n: number }>())!.n,
    ).toBe(1);
  });

  it('refuses a live email of the tenant, in any letter case (409 email_taken); another tenant may use it', async () => {
    const a = await createTenant();
    const b = await createTenant();
    const taken = await checked(
      createUser,
      await create(await a.owner.token(), { email: a.owner.email.toUpperCase() }),
      409,
    );
    expect(taken).toMatchObject({ code: 'email_taken' });
    await checked(createUser, await create(await b.owner.token(), { email: a.owner.email }), 201);
  });

  it('refuses an auth0_id that is already a live user anywhere (409 auth0_id_taken)', async () => {
    // Services only (people are invited): their ids come from the tenants' own Auth0 configuration.
    const a = await createTenant();
    const b = await createTenant();
    const bot = await a.addUser('member', 'service');
    expect(await checked(createUser, await create(await b.owner.token(), { auth0_id: bot.sub }), 409)).toMatchObject({
      code: 'auth0_id_taken',
    });
  });

  it("lets a removed user's email and identity be added again", async () => {
    const { owner } = await createTenant();
    const token = await owner.token();
    const body = { auth0_id: uniqueSub(), email: uniqueEmail() };
    const first = await checked<User>(createUser, await create(token, body), 201);
    await checked(deleteUser, await call(`/v1/users/${first.id}`, { method: 'DELETE', token }), 204);
    const again = await checked<User>(createUser, await create(token, body), 201);
    expect(again.id).not.toBe(first.id);
  });

  it("stops at the plan's user limit with 403 quota_exceeded, and allows more after an upgrade", async () => {
    const { owner, tenant } = await createTenant();
    const token = await owner.token();
    for (let i = 0; i < 4; i++) await checked(createUser, await create(token, {}), 201); // free: 5 users
    expect(await checked(createUser, await create(token, {}), 403)).toMatchObject({ code: 'quota_exceeded' });
    await setPlan(tenant.id, 'pro');
    await checked(createUser, await create(token, {}), 201);
  });
});

describe('GET /v1/users', () => {
  it("pages through the tenant's users with signed keyset cursors, never showing another tenant's", async () => {
    const t = await createTenant();
    await setPlan(t.tenant.id, 'pro');
    await createTenant(); // another tenant's users must not show up
    const token = await t.owner.token();
    for (let i = 0; i < 6; i++) await checked(createUser, await create(token, {}), 201);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call(`/v1/users?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
      expect(d1Stats(res)).toMatchObject({ roundTrips: 1, rowsWritten: 0 });
      const page: Page = await checked<Page>(listUsers, res, 200);
      expect(page.data.length).toBeLessThanOrEqual(3);
      seen.push(...page.data.map((u) => u.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    expect(seen).toEqual([...seen].sort()); // ids are time-sortable: oldest first
    const ids = (
      await env.DB.prepare('SELECT id FROM users WHERE tenant_id = ?1').bind(t.tenant.id).all<{ id: string }>()
    ).results.map((r) => r.id);
    expect(new Set(seen)).toEqual(new Set(ids));
  });

  it('refuses a tampered cursor and a cursor from another filter with 400 invalid_cursor', async () => {
    const t = await createTenant();
    const token = await t.owner.token();
    await checked(createUser, await create(token, {}), 201);
    const page = await checked<Page>(listUsers, await call('/v1/users?limit=1', { token }), 200);
    const cursor = page.next_cursor!;
    const tampered = cursor.slice(0, -2) + (cursor.endsWith('AA') ? 'BB' : 'AA');
    expect(await checked(listUsers, await call(`/v1/users?limit=1&cursor=${tampered}`, { token }), 400)).toMatchObject({
      code: 'invalid_cursor',
    });
    expect(
      await checked(listUsers, await call(`/v1/users?limit=1&role=member&cursor=${cursor}`, { token }), 400),
    ).toMatchObject({ code: 'invalid_cursor' });
  });

  it('filters by role and shows removed users only when asked', async () => {
    const t = await createTenant();
    const token = await t.owner.token();
    const gone = await t.addUser('member');
    await t.addUser('admin');
    await checked(deleteUser, await call(`/v1/users/${gone.id}`, { method: 'DELETE', token }), 204);
    const live = await checked<Page>(listUsers, await call('/v1/users', { token }), 200);
    expect(live.data.map((u) => u.id)).not.toContain(gone.id);
    const all = await checked<Page>(listUsers, await call('/v1/users?include_deleted=true', { token }), 200);
    expect(all.data.find((u) => u.id === gone.id)?.deleted_at).toMatch(/Z$/);
    const admins = await checked<Page>(listUsers, await call('/v1/users?role=admin', { token }), 200);
    expect(admins.data.map((u) => u.role)).toEqual(['admin']);
    expect(await checked(listUsers, await call('/v1/users?limit=0', { token }), 400)).toMatchObject({
      code: 'invalid_parameter',
    });
  });
});

describe('GET/PATCH/DELETE /v1/users/{id}', () => {
  it("answers 404 for another tenant's user and 400 for a malformed id", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const token = await a.owner.token();
    for (const [route, method, json] of [
      [getUser, 'GET'],
      [updateUser, 'PATCH', { name: 'x' }],
      [deleteUser, 'DELETE'],
    ] as const) {
      expect(await checked(route, await call(`/v1/users/${b.owner.id}`, { method, token, json }), 404)).toMatchObject({
        code: 'not_found',
      });
      expect(await checked(route, await call('/v1/users/usr_nope', { method, token, json }), 400)).toMatchObject({
        code: 'invalid_parameter',
      });
    }
    expect(
      await env.DB.prepare('SELECT role, deleted_at, name FROM users WHERE id = ?1').bind(b.owner.id).first(),
    ).toEqual({ role: 'owner', deleted_at: null, name: null });
  });

  it('honours If-Match: the current ETag applies, a stale one is 412 and changes nothing', async () => {
    const t = await createTenant();
    const token = await t.owner.token();
    const m = await t.addUser('member');
    const got = await call(`/v1/users/${m.id}`, { token });
    const etag = got.headers.get('etag')!;
    await checked(getUser, got, 200);
    const changed = await call(`/v1/users/${m.id}`, {
      method: 'PATCH',
      token,
      json: { name: 'One' },
      headers: { 'if-match': etag },
    });
    const newEtag = changed.headers.get('etag');
    expect((await checked<User>(updateUser, changed, 200)).name).toBe('One');
    expect(newEtag).not.toBe(etag);
    const stale = await call(`/v1/users/${m.id}`, {
      method: 'PATCH',
      token,
      json: { name: 'Two' },
      headers: { 'if-match': etag },
    });
    // Another user's ETag or a malformed one matches nothing; a list matches if any entry does.
    for (const bad of [`"${t.owner.id}-v${etag.split('-v')[1]}`, 'garbage']) {
      expect(
        (
          await call(`/v1/users/${m.id}`, {
            method: 'PATCH',
            token,
            json: { name: 'Two' },
            headers: { 'if-match': bad },
          })
        ).status,
      ).toBe(412);
    }
    expect(await checked(updateUser, stale, 412)).toMatchObject({ code: 'precondition_failed' });
    expect(
      await checked(
        deleteUser,
        await call(`/v1/users/${m.id}`, { method: 'DELETE', token, headers: { 'if-match': etag } }),
        412,
      ),
    ).toMatchObject({ code: 'precondition_failed' });
    expect((await checked<User>(getUser, await call(`/v1/users/${m.id}`, { token }), 200)).name).toBe('One');
    await checked(
      deleteUser,
      await call(`/v1/users/${m.id}`, { method: 'DELETE', token, headers: { 'if-match': `${etag}, ${newEtag}` } }),
      204,
    );
  });

  it('changes email (409 email_taken on a clash), clears the name, and audits old and new values', async () => {
    const t = await createTenant();
    const token = await t.owner.token();
    const m = await t.addUser('member');
    expect(
      await checked(
        updateUser,
        await call(`/v1/users/${m.id}`, { method: 'PATCH', token, json: { email: t.owner.email } }),
        409,
      ),
    ).toMatchObject({ code: 'email_taken' });
    await checked(updateUser, await call(`/v1/users/${m.id}`, { method: 'PATCH', token, json: { name: 'Bo' } }), 200);
    const user = await checked<User>(
      updateUser,
      await call(`/v1/users/${m.id}`, { method: 'PATCH', token, json: { email: 'new@example.com', name: null } }),
      200,
    );
    expect(user).toMatchObject({ email: 'new@example.com', name: null });
    const rows = (
      await env.DB.prepare(
        "SELECT old_values, new_values FROM audit_logs WHERE resource_id = ?1 AND action = 'user.update' ORDER BY id",
      )
        .bind(m.id)
        .all<{ old_values: string; new_values: string }>()
    ).results;
    expect(rows).toHaveLength(2);
    expect(JSON.parse(rows[1]!.old_values)).toEqual({ email: m.email, name: 'Bo', role: 'member' });
    expect(JSON.parse(rows[1]!.new_values)).toEqual({ email: 'new@example.com', name: null });
    expect(
      await checked(updateUser, await call(`/v1/users/${m.id}`, { method: 'PATCH', token, json: {} }), 422),
    ).toMatchObject({ code: 'validation_failed' });
  });
});

describe('last-owner protection', () => {
  it('refuses to demote or remove the only owner (409 last_owner), with no audit row', async () => {
    const t = await createTenant();
    const token = await t.owner.token();
    expect(
      await checked(
        updateUser,
        await call(`/v1/users/${t.owner.id}`, { method: 'PATCH', token, json: { role: 'admin' } }),
        409,
      ),
    ).toMatchObject({ code: 'last_owner' });
    expect(
      await checked(deleteUser, await call(`/v1/users/${t.owner.id}`, { method: 'DELETE', token }), 409),
    ).toMatchObject({ code: 'last_owner' });
    expect(await env.DB.prepare('SELECT role, deleted_at FROM users WHERE id = ?1').bind(t.owner.id).first()).toEqual({
      role: 'owner',
      deleted_at: null,
    });
    expect(
      (await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_logs WHERE tenant_id = ?1 AND action LIKE 'user.%'")
        .bind(t.tenant.id)
        .first<{ n: number }>())!.n,
    ).toBe(0);
  });

  it('lets an owner step down once there is another owner', async () => {
    const t = await createTenant();
    const other = await t.addUser('owner');
    const user = await checked<User>(
      updateUser,
      await call(`/v1/users/${t.owner.id}`, {
        method: 'PATCH',
        token: await t.owner.token(),
        json: { role: 'member' },
      }),
      200,
    );
    expect(user.role).toBe('member');
    expect(
      await checked(
        updateUser,
        await call(`/v1/users/${other.id}`, { method: 'PATCH', token: await other.token(), json: { role: 'admin' } }),
        409,
      ),
    ).toMatchObject({ code: 'last_owner' });
  });

  // Two owners acting at once: D1 serialises the two batches, and the rule is checked inside each
  // write, so the second sees the first's effect. Stepping down (or leaving) together must leave
  // one owner; acting on each other, the loser is no longer an owner (403) or no longer a user (403 not_provisioned).
  const demote = (id: string, token: string) =>
    call(`/v1/users/${id}`, { method: 'PATCH', token, json: { role: 'admin' } });
  const remove = (id: string, token: string) => call(`/v1/users/${id}`, { method: 'DELETE', token });
  for (const [what, request, self, loser] of [
    ['step down', demote, true, 409],
    ['leave', remove, true, 409],
    ['demote each other', demote, false, 403],
    ['remove each other', remove, false, 403],
  ] as const) {
    it(`two owners who ${what} at the same moment: exactly one succeeds, one owner remains`, async () => {
      for (let round = 0; round < 5; round++) {
        const t = await createTenant();
        const second = await t.addUser('owner');
        const [a, b] = await Promise.all([
          request(self ? t.owner.id : second.id, await t.owner.token()),
          request(self ? second.id : t.owner.id, await second.token()),
        ]);
        const statuses = [a.status, b.status].sort();
        expect(statuses).toEqual(request === demote ? [200, loser].sort() : [204, loser].sort());
        if (loser === 409) expect(await (a.status === 409 ? a : b).json()).toMatchObject({ code: 'last_owner' });
        const owners = await env.DB.prepare(
          "SELECT COUNT(*) AS n FROM users WHERE tenant_id = ?1 AND role = 'owner' AND deleted_at IS NULL",
        )
          .bind(t.tenant.id)
          .first<{ n: number }>();
        expect(owners!.n).toBe(1);
      }
    });
  }
});

describe('removed users are locked out at once', () => {
  it("a removed user's token is refused on the very next request, on every route", async () => {
    const t = await createTenant();
    const admin = await t.addUser('admin');
    const adminToken = await admin.token();
    expect((await call('/v1/users', { token: adminToken })).status).toBe(200);
    await checked(
      deleteUser,
      await call(`/v1/users/${admin.id}`, { method: 'DELETE', token: await t.owner.token() }),
      204,
    );
    for (const path of ['/v1/me', '/v1/users', '/v1/tenant', '/v1/usage']) {
      const res = await call(path, { token: adminToken });
      expect(res.status, path).toBe(403);
      expect(await res.json()).toMatchObject({ code: 'not_provisioned' });
    }
    const gone = await checked<User>(
      getUser,
      await call(`/v1/users/${admin.id}`, { token: await t.owner.token() }),
      200,
    );
    expect(gone.deleted_at).not.toBeNull();
  });
});

describe("a removed user's sessions end with them", () => {
  it("removing a user ends their live sessions (one session.end audit row each); they no longer count as live or hold the plan's session quota", async () => {
    const t = await createTenant();
    const member = await t.addUser('member');
    const token = await t.owner.token();
    const open = async (tok: string) =>
      (
        (await (
          await call('/v1/sessions', { method: 'POST', token: tok, json: { mcp_client_id: 'agent' } })
        ).json()) as { id: string }
      ).id;
    const [s1, s2] = [await open(await member.token()), await open(await member.token())];
    const ownSession = await open(token);
    const usage = async () =>
      ((await (await call('/v1/subscription', { token })).json()) as { usage: { sessions: number } }).usage.sessions;
    expect(await usage()).toBe(3);
    // A refused removal (stale If-Match) ends nothing.
    expect(
      (await call(`/v1/users/${member.id}`, { method: 'DELETE', token, headers: { 'if-match': `"${member.id}-v1"` } }))
        .status,
    ).toBe(412);
    expect(await usage()).toBe(3);

    const res = await call(`/v1/users/${member.id}`, { method: 'DELETE', token });
    expect(d1Stats(res).roundTrips).toBe(1);
    await checked(deleteUser, res, 204);
    expect(await usage()).toBe(1);
    const live = (await (await call('/v1/sessions', { token })).json()) as { data: { id: string }[] };
    expect(live.data.map((s) => s.id)).toEqual([ownSession]);
    const ended = await env.DB.prepare('SELECT id, expired_at FROM sessions WHERE user_id = ?1 ORDER BY id')
      .bind(member.id)
      .all<{ id: string; expired_at: number | null }>();
    expect(ended.results.map((s) => s.id)).toEqual([s1, s2].sort());
    expect(ended.results.every((s) => s.expired_at !== null)).toBe(true);
    const audits = await env.DB.prepare(
      "SELECT resource_id, user_id, new_values FROM audit_logs WHERE tenant_id = ?1 AND action = 'session.end' ORDER BY resource_id",
    )
      .bind(t.tenant.id)
      .all<{ resource_id: string; user_id: string; new_values: string }>();
    expect(audits.results).toEqual(
      [s1, s2].sort().map((id) => ({
        resource_id: id,
        user_id: t.owner.id,
        new_values: JSON.stringify({ reason: 'user_removed' }),
      })),
    );
  });
});
