import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { PLANS } from '../../src/lib/plans';
import { SessionPageSchema, SessionSchema } from '../../src/routes/sessions/schemas';
import { createTenant } from '../helpers/fixtures';
import { call } from '../helpers/http';
import { auditActions, expectBody, expectProblem, roundTrips, rowsWritten } from './helpers';

const open = async (token: string, json: unknown = { mcp_client_id: 'claude-desktop', metadata: { v: 1 } }) =>
  call('/v1/sessions', { method: 'POST', token, json });
const openOk = async (token: string, clientId = 'client') =>
  expectBody(await open(token, { mcp_client_id: clientId }), 201, SessionSchema);

describe('POST /v1/sessions', () => {
  it('opens a session for the caller with Location, audit row and one round trip', async () => {
    const { tenant, owner } = await createTenant();
    const res = await open(await owner.token());
    expect(roundTrips(res)).toBe(1);
    const location = res.headers.get('location');
    const s = await expectBody(res, 201, SessionSchema);
    expect(s).toMatchObject({
      user_id: owner.id,
      mcp_client_id: 'claude-desktop',
      metadata: { v: 1 },
      status: 'active',
      expired_at: null,
    });
    expect(s.last_activity_at).toBe(s.created_at);
    expect(location).toBe(`/v1/sessions/${s.id}`);
    expect(await auditActions(tenant.id, s.id)).toEqual(['session.create']);
    const got = await call(location!, { token: await owner.token() });
    expect(await expectBody(got, 200, SessionSchema)).toEqual(s);
  });

  it('rejects a bad body with 422 naming the field, and writes nothing', async () => {
    const { tenant, owner } = await createTenant();
    const token = await owner.token();
    for (const json of [
      {},
      { mcp_client_id: '' },
      { mcp_client_id: 'x'.repeat(201) },
      { mcp_client_id: 'a', metadata: [1] },
      { mcp_client_id: 'a', extra: 1 },
      { mcp_client_id: 'a', metadata: { big: 'x'.repeat(17_000) } },
    ]) {
      const body = await expectProblem(await open(token, json), 422, 'validation_failed');
      expect(body.errors?.length).toBeGreaterThan(0);
    }
    const n = await env.DB.prepare('SELECT count(*) AS n FROM sessions WHERE tenant_id = ?1')
      .bind(tenant.id)
      .first<{ n: number }>();
    expect(n!.n).toBe(0);
  });

  it('refuses metadata nested deeper than 20 levels with 422 naming json.metadata (as memories do), never a 500', async () => {
    const { tenant, owner } = await createTenant();
    const token = await owner.token();
    const nested = (depth: number) => JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown;
    // 21 levels: the memories API's rule; 1,500 levels: deeper than SQLite's JSON accepts (its CHECK was a 500), still under 16 KiB.
    for (const depth of [20, 1500]) {
      const body = await expectProblem(
        await open(token, { mcp_client_id: 'deep', metadata: { x: nested(depth) } }),
        422,
        'validation_failed',
      );
      expect(body.errors?.map((e) => e.path)).toContain('json.metadata');
    }
    expect(
      await expectBody(await open(token, { mcp_client_id: 'ok', metadata: { x: nested(19) } }), 201, SessionSchema),
    ).toMatchObject({ mcp_client_id: 'ok' });
    const n = await env.DB.prepare('SELECT count(*) AS n FROM sessions WHERE tenant_id = ?1')
      .bind(tenant.id)
      .first<{ n: number }>();
    expect(n!.n).toBe(1);
  });

  it("refuses a session beyond the plan's live-session limit (403 quota_exceeded, nothing written), and allows one after ending another", async () => {
    const { tenant, owner } = await createTenant();
    const token = await owner.token();
    const limit = PLANS.free.sessions;
    const opened = [];
    for (let i = 0; i < limit; i++) opened.push(await openOk(token, `c${i}`));
    const refused = await open(token);
    await expectProblem(refused, 403, 'quota_exceeded');
    const count = await env.DB.prepare('SELECT count(*) AS n FROM sessions WHERE tenant_id = ?1')
      .bind(tenant.id)
      .first<{ n: number }>();
    expect(count!.n).toBe(limit);
    const audits = await env.DB.prepare(
      "SELECT count(*) AS n FROM audit_logs WHERE tenant_id = ?1 AND action = 'session.create'",
    )
      .bind(tenant.id)
      .first<{ n: number }>();
    expect(audits!.n).toBe(limit);

    expect((await call(`/v1/sessions/${opened[0]!.id}`, { method: 'DELETE', token })).status).toBe(204);
    await openOk(token);
  });

  it('replays a retried open with the same Idempotency-Key (one session, one audit row); another body with the key is 422', async () => {
    const { tenant, owner } = await createTenant();
    const token = await owner.token();
    const headers = { 'idempotency-key': crypto.randomUUID() };
    const json = { mcp_client_id: 'retrying-client' };
    const first = await call('/v1/sessions', { method: 'POST', token, json, headers });
    const a = await expectBody(first, 201, SessionSchema);
    const again = await call('/v1/sessions', { method: 'POST', token, json, headers });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('location')).toBe(`/v1/sessions/${a.id}`);
    expect(await expectBody(again, 201, SessionSchema)).toEqual(a);
    expect(roundTrips(again)).toBe(1);
    await expectProblem(
      await call('/v1/sessions', { method: 'POST', token, json: { mcp_client_id: 'other' }, headers }),
      422,
      'idempotency_key_reused',
    );
    expect(
      await env.DB.prepare('SELECT count(*) AS n FROM sessions WHERE tenant_id = ?1').bind(tenant.id).first('n'),
    ).toBe(1);
    expect(await auditActions(tenant.id, a.id)).toEqual(['session.create']);
  });

  it('needs the write:sessions scope', async () => {
    const { owner } = await createTenant();
    await expectProblem(await open(await owner.token({ scopes: ['read:sessions'] })), 403, 'insufficient_scope');
  });
});

describe('GET /v1/sessions', () => {
  it('lists live sessions by default, expired or all on request, newest first, without writing', async () => {
    const { owner } = await createTenant();
    const token = await owner.token();
    const a = await openOk(token, 'a');
    const b = await openOk(token, 'b');
    const c = await openOk(token, 'c');
    await call(`/v1/sessions/${b.id}`, { method: 'DELETE', token });

    const res = await call('/v1/sessions', { token });
    expect(roundTrips(res)).toBe(1);
    expect(rowsWritten(res)).toBe(0);
    const active = await expectBody(res, 200, SessionPageSchema);
    expect(active.data.map((s) => s.id)).toEqual([c.id, a.id]);
    expect(active.next_cursor).toBeNull();

    const expired = await expectBody(await call('/v1/sessions?status=expired', { token }), 200, SessionPageSchema);
    expect(expired.data.map((s) => [s.id, s.status])).toEqual([[b.id, 'expired']]);
    expect(expired.data[0]!.expired_at).not.toBeNull();

    const all = await expectBody(await call('/v1/sessions?status=all', { token }), 200, SessionPageSchema);
    expect(all.data.map((s) => s.id)).toEqual([c.id, b.id, a.id]);
  });

  it('pages with signed keyset cursors and refuses a tampered or foreign cursor', async () => {
    const { owner } = await createTenant();
    const token = await owner.token();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await openOk(token, `p${i}`)).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { data: { id: string }[]; next_cursor: string | null } = await expectBody(
        await call(`/v1/sessions?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token }),
        200,
        SessionPageSchema,
      );
      seen.push(...page.data.map((s) => s.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());

    const first = await expectBody(await call('/v1/sessions?limit=2', { token }), 200, SessionPageSchema);
    const c = first.next_cursor!;
    await expectProblem(
      await call(`/v1/sessions?limit=2&cursor=${encodeURIComponent(`${c.slice(0, -2)}AA`)}`, { token }),
      400,
      'invalid_cursor',
    );
    await expectProblem(
      await call(`/v1/sessions?limit=2&status=all&cursor=${encodeURIComponent(c)}`, { token }),
      400,
      'invalid_cursor',
    );
    await expectProblem(await call('/v1/sessions?status=open', { token }), 400, 'invalid_parameter');
  });

  it('shows members only their own sessions and owners/admins every session of the tenant', async () => {
    const t = await createTenant();
    const member = await t.addUser('member');
    const admin = await t.addUser('admin');
    const mine = await openOk(await member.token(), 'member-client');
    const owners = await openOk(await t.owner.token(), 'owner-client');

    const asMember = await expectBody(
      await call('/v1/sessions', { token: await member.token() }),
      200,
      SessionPageSchema,
    );
    expect(asMember.data.map((s) => s.id)).toEqual([mine.id]);
    const filtered = await expectBody(
      await call(`/v1/sessions?user_id=${t.owner.id}`, { token: await member.token() }),
      200,
      SessionPageSchema,
    );
    expect(filtered.data).toEqual([]);

    const asAdmin = await expectBody(
      await call('/v1/sessions', { token: await admin.token() }),
      200,
      SessionPageSchema,
    );
    expect(asAdmin.data.map((s) => s.id)).toEqual([owners.id, mine.id]);
    const byUser = await expectBody(
      await call(`/v1/sessions?user_id=${member.id}`, { token: await admin.token() }),
      200,
      SessionPageSchema,
    );
    expect(byUser.data.map((s) => s.id)).toEqual([mine.id]);

    // another tenant sees none of them
    const other = await createTenant();
    const theirs = await expectBody(
      await call('/v1/sessions?status=all', { token: await other.owner.token() }),
      200,
      SessionPageSchema,
    );
    expect(theirs.data).toEqual([]);
  });
});

describe('GET /v1/sessions/{id}', () => {
  it("is 404 for another member's session and for another tenant, 200 for an admin, 400 for a malformed id", async () => {
    const t = await createTenant();
    const member = await t.addUser('member');
    const otherMember = await t.addUser('member');
    const admin = await t.addUser('admin');
    const s = await openOk(await member.token());
    await expectProblem(await call(`/v1/sessions/${s.id}`, { token: await otherMember.token() }), 404, 'not_found');
    await expectBody(await call(`/v1/sessions/${s.id}`, { token: await admin.token() }), 200, SessionSchema);
    const other = await createTenant();
    await expectProblem(await call(`/v1/sessions/${s.id}`, { token: await other.owner.token() }), 404, 'not_found');
    await expectProblem(
      await call('/v1/sessions/not-an-id', { token: await member.token() }),
      400,
      'invalid_parameter',
    );
  });
});

describe('POST /v1/sessions/{id}/heartbeat', () => {
  it('moves last_activity_at forward with an audit row in one round trip', async () => {
    const { tenant, owner } = await createTenant();
    const token = await owner.token();
    const s = await openOk(token);
    await env.DB.prepare(
      'UPDATE sessions SET created_at = created_at - 60000, last_activity_at = last_activity_at - 60000 WHERE id = ?1',
    )
      .bind(s.id)
      .run();
    const res = await call(`/v1/sessions/${s.id}/heartbeat`, { method: 'POST', token });
    expect(roundTrips(res)).toBe(1);
    const beat = await expectBody(res, 200, SessionSchema);
    expect(Date.parse(beat.last_activity_at)).toBeGreaterThanOrEqual(Date.parse(s.last_activity_at));
    expect(Date.parse(beat.last_activity_at) - Date.parse(beat.created_at)).toBeGreaterThanOrEqual(60_000);
    expect(await auditActions(tenant.id, s.id)).toEqual(['session.create', 'session.heartbeat']);
  });

  it('is 409 session_expired on an ended session and writes nothing', async () => {
    const { tenant, owner } = await createTenant();
    const token = await owner.token();
    const s = await openOk(token);
    await call(`/v1/sessions/${s.id}`, { method: 'DELETE', token });
    const res = await call(`/v1/sessions/${s.id}/heartbeat`, { method: 'POST', token });
    await expectProblem(res, 409, 'session_expired');
    expect(rowsWritten(res)).toBe(0);
    expect(await auditActions(tenant.id, s.id)).toEqual(['session.create', 'session.end']);
  });

  it('expires a session idle past the timeout instead of reviving it (409, audit session.expire)', async () => {
    const { tenant, owner } = await createTenant();
    const token = await owner.token();
    const s = await openOk(token);
    const idle = (Number(env.SESSION_IDLE_TIMEOUT_MINUTES ?? 60) + 1) * 60_000;
    await env.DB.prepare(
      'UPDATE sessions SET created_at = created_at - ?2, last_activity_at = last_activity_at - ?2 WHERE id = ?1',
    )
      .bind(s.id, idle)
      .run();
    await expectProblem(
      await call(`/v1/sessions/${s.id}/heartbeat`, { method: 'POST', token }),
      409,
      'session_expired',
    );
    const after = await expectBody(await call(`/v1/sessions/${s.id}`, { token }), 200, SessionSchema);
    expect(after.status).toBe('expired');
    expect(await auditActions(tenant.id, s.id)).toEqual(['session.create', 'session.expire']);
  });

  it("belongs to the session's user: 404 for anyone else, an admin who can see it included", async () => {
    const t = await createTenant();
    const member = await t.addUser('member');
    const otherMember = await t.addUser('member');
    const admin = await t.addUser('admin');
    const s = await openOk(await member.token());
    await expectProblem(
      await call(`/v1/sessions/${s.id}/heartbeat`, { method: 'POST', token: await otherMember.token() }),
      404,
      'not_found',
    );
    await expectProblem(
      await call(`/v1/sessions/${s.id}/heartbeat`, { method: 'POST', token: await admin.token() }),
      404,
      'not_found',
    );
    await expectProblem(
      await call(`/v1/sessions/${s.id}/heartbeat`, { method: 'POST', token: await t.owner.token() }),
      404,
      'not_found',
    );
    expect(await auditActions(t.tenant.id, s.id)).toEqual(['session.create']);
  });
});

describe('DELETE /v1/sessions/{id}', () => {
  it('ends the session (expired_at), audits it, and a second delete is 409', async () => {
    const { tenant, owner } = await createTenant();
    const token = await owner.token();
    const s = await openOk(token);
    const res = await call(`/v1/sessions/${s.id}`, { method: 'DELETE', token });
    expect(res.status).toBe(204);
    expect(roundTrips(res)).toBe(1);
    const ended = await expectBody(await call(`/v1/sessions/${s.id}`, { token }), 200, SessionSchema);
    expect(ended.status).toBe('expired');
    expect(ended.expired_at).not.toBeNull();
    await expectProblem(await call(`/v1/sessions/${s.id}`, { method: 'DELETE', token }), 409, 'session_expired');
    expect(await auditActions(tenant.id, s.id)).toEqual(['session.create', 'session.end']);
  });

  it("lets an admin end a member's session but not another member, nor another tenant", async () => {
    const t = await createTenant();
    const member = await t.addUser('member');
    const otherMember = await t.addUser('member');
    const admin = await t.addUser('admin');
    const s = await openOk(await member.token());
    await expectProblem(
      await call(`/v1/sessions/${s.id}`, { method: 'DELETE', token: await otherMember.token() }),
      404,
      'not_found',
    );
    const other = await createTenant();
    await expectProblem(
      await call(`/v1/sessions/${s.id}`, { method: 'DELETE', token: await other.owner.token() }),
      404,
      'not_found',
    );
    expect((await call(`/v1/sessions/${s.id}`, { method: 'DELETE', token: await admin.token() })).status).toBe(204);
    const row = await env.DB.prepare('SELECT user_id FROM audit_logs WHERE resource_id = ?1 AND action = ?2')
      .bind(s.id, 'session.end')
      .first<{ user_id: string }>();
    expect(row!.user_id).toBe(admin.id);
  });
});
