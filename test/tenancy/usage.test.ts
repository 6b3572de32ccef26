import { env } from 'cloudflare:test';
import type { Context } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../../src/env';
import { USAGE_FLUSH_INTERVAL_MS, USAGE_MAX_DAYS } from '../../src/lib/limits';
import { flushUsage, meterRequest } from '../../src/lib/usage-meter';
import { usageRoutes } from '../../src/routes/usage';
import { createTenant } from '../helpers/fixtures';
import { call } from '../helpers/http';
import { checked, d1Stats } from './check';

const { getUsage } = usageRoutes;
type Report = { from: string; to: string; data: Record<string, number | string>[]; totals: Record<string, number> };
const today = () => new Date().toISOString().slice(0, 10);

const stored = (tenantId: string) =>
  env.DB.prepare(
    'SELECT requests, memories_created, memories_deleted, searches, rows_read FROM usage_daily WHERE tenant_id = ?1 AND day = ?2',
  )
    .bind(tenantId, today())
    .first();

const insertMemory = async (tenantId: string, userId: string) => {
  const id = `mem_${crypto.randomUUID().replace(/-/g, '').slice(0, 26).toUpperCase()}`;
  await env.DB.prepare(
    'INSERT INTO memories (id, tenant_id, user_id, content, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)',
  )
    .bind(id, tenantId, userId, 'note', Date.now())
    .run();
  return id;
};

/** A stand-in for a request's context, to drive the meter directly; without `waits`, no execution context. */
function fakeContext(tenantId: string, path: string, waits?: Promise<unknown>[]) {
  return {
    get: (key: string) => (key === 'caller' ? { tenant_id: tenantId } : undefined),
    req: { path },
    env: { DB: env.DB },
    get executionCtx() {
      if (!waits) throw new Error('This context does not have an ExecutionContext');
      return { waitUntil: (p: Promise<unknown>) => waits.push(p) };
    },
  } as unknown as Context<AppEnv>;
}

describe('usage counters', () => {
  it('are exact after a scripted workload', async () => {
    const t = await createTenant();
    const member = await t.addUser('member');
    const [ownerToken, memberToken] = [await t.owner.token(), await member.token()];
    let rowsRead = 0;
    let requests = 0;
    const counted = async (path: string, init: Parameters<typeof call>[1]) => {
      const res = await call(path, init);
      rowsRead += d1Stats(res).rowsRead;
      requests++;
      return res;
    };
    for (let i = 0; i < 5; i++) await counted('/v1/me', { token: ownerToken });
    for (let i = 0; i < 3; i++) await counted('/v1/tenant', { token: memberToken });
    for (let i = 0; i < 2; i++) await counted('/v1/users', { token: ownerToken });
    expect((await counted('/v1/users', { token: memberToken })).status).toBe(403); // refused by role: still the tenant's request
    expect(
      (await counted('/v1/tenant', { method: 'PATCH', token: ownerToken, json: { name: 'Renamed' } })).status,
    ).toBe(200);
    // Not the tenant's: no caller was resolved.
    expect((await call('/v1/me', { token: 'garbage' })).status).toBe(401);
    expect((await call('/v1/tenant', { method: 'PATCH', token: ownerToken, json: { name: '' } })).status).toBe(422);

    // Memories through the API: 3 created, 2 searches, 1 deleted.
    const created: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await counted('/v1/memories', {
        method: 'POST',
        token: ownerToken,
        json: { content: `usage note ${i}`, access_scope: 'global' },
      });
      expect(res.status).toBe(201);
      created.push(((await res.json()) as { id: string }).id);
    }
    for (let i = 0; i < 2; i++)
      expect((await counted('/v1/memories/search?q=usage', { token: memberToken })).status).toBe(200);
    expect((await counted(`/v1/memories/${created[0]}`, { method: 'DELETE', token: ownerToken })).status).toBe(204);
    // Other writers of memories (import, cron) are counted by the same triggers.
    const live = await insertMemory(t.tenant.id, t.owner.id);
    await env.DB.prepare('DELETE FROM memories WHERE id = ?1').bind(created[0]).run(); // purge of a deleted one: not again
    await env.DB.prepare('DELETE FROM memories WHERE id = ?1').bind(live).run(); // hard delete of a live one: counted

    await flushUsage(env.DB);
    expect(await stored(t.tenant.id)).toEqual({
      requests,
      memories_created: 4,
      memories_deleted: 2,
      searches: 2,
      rows_read: rowsRead,
    });
    expect(requests).toBe(18);

    const res = await call(`/v1/usage?from=${today()}&to=${today()}`, { token: ownerToken });
    const report = await checked<Report>(getUsage, res, 200);
    expect(report.data).toEqual([
      {
        day: today(),
        requests,
        memories_created: 4,
        memories_deleted: 2,
        memories_expired: 0,
        searches: 2,
        rows_read: rowsRead,
      },
    ]);
    expect(report.totals).toEqual({
      requests,
      memories_created: 4,
      memories_deleted: 2,
      memories_expired: 0,
      searches: 2,
      rows_read: rowsRead,
    });
  });

  it('counting adds no round trip and no write to a read: every GET is round_trips=1 rows_written=0', async () => {
    const t = await createTenant();
    const token = await t.owner.token();
    for (let i = 0; i < 3; i++) {
      for (const path of [
        '/v1/me',
        '/v1/tenant',
        '/v1/users',
        `/v1/users/${t.owner.id}`,
        '/v1/subscription',
        '/v1/usage',
        '/v1/memories',
        '/v1/memories/search?q=x',
      ]) {
        const res = await call(path, { token });
        expect(res.status, path).toBe(200);
        expect(d1Stats(res), path).toMatchObject({ roundTrips: 1, rowsWritten: 0 });
      }
    }
  });

  it('writes to D1 at most once per flush interval per isolate, whatever the traffic', async () => {
    const t = await createTenant();
    const waits: Promise<unknown>[] = [];
    const stats = { roundTrips: 1, rowsRead: 2, rowsWritten: 0 };
    const start = Date.now() + USAGE_FLUSH_INTERVAL_MS; // a flush is due
    for (let i = 0; i < 500; i++)
      meterRequest(fakeContext(t.tenant.id, '/v1/me', waits), stats, start + (i * (USAGE_FLUSH_INTERVAL_MS - 1)) / 499);
    expect(waits).toHaveLength(1);
    meterRequest(fakeContext(t.tenant.id, '/v1/memories/search', waits), stats, start + USAGE_FLUSH_INTERVAL_MS);
    expect(waits).toHaveLength(2);
    await Promise.all(waits);
    await flushUsage(env.DB);
    expect(await stored(t.tenant.id)).toMatchObject({ requests: 501, searches: 1, rows_read: 1002 });
  });

  it('keeps the counts of a failed flush and writes them with the next one', async () => {
    const t = await createTenant();
    const broken = {
      prepare: () => ({ bind: () => ({ run: () => Promise.reject(new Error('D1 is down')) }) }),
    } as unknown as D1Database;
    await flushUsage(env.DB); // nothing of this tenant pending before
    meterRequest(fakeContext(t.tenant.id, '/v1/memories/search'), { roundTrips: 1, rowsRead: 7, rowsWritten: 0 });
    await flushUsage(broken);
    expect(await stored(t.tenant.id)).toBeNull();
    await flushUsage(env.DB);
    expect(await stored(t.tenant.id)).toMatchObject({ requests: 1, searches: 1, rows_read: 7 });
  });

  it('do not block erasing a tenant with memories (the triggers skip a tenant being removed)', async () => {
    const t = await createTenant();
    await insertMemory(t.tenant.id, t.owner.id);
    await env.DB.prepare('DELETE FROM tenants WHERE id = ?1').bind(t.tenant.id).run();
    expect(
      await env.DB.prepare('SELECT COUNT(*) AS n FROM usage_daily WHERE tenant_id = ?1').bind(t.tenant.id).first(),
    ).toEqual({ n: 0 });
  });
});

describe('GET /v1/usage', () => {
  it('returns one zero-filled entry per day, defaulting to the last 30 days', async () => {
    const t = await createTenant();
    const token = await t.owner.token();
    await env.DB.prepare("INSERT INTO usage_daily (tenant_id, day, requests, searches) VALUES (?1, '2026-01-02', 7, 3)")
      .bind(t.tenant.id)
      .run();
    const report = await checked<Report>(
      getUsage,
      await call('/v1/usage?from=2026-01-01&to=2026-01-03', { token }),
      200,
    );
    expect(report.data.map((d) => [d.day, d.requests, d.searches])).toEqual([
      ['2026-01-01', 0, 0],
      ['2026-01-02', 7, 3],
      ['2026-01-03', 0, 0],
    ]);
    expect(report.totals).toMatchObject({ requests: 7, searches: 3, memories_created: 0 });
    const byDefault = await checked<Report>(getUsage, await call('/v1/usage', { token }), 200);
    expect(byDefault.data).toHaveLength(30);
    expect(byDefault.to).toBe(today());
  });

  it(`serves ${USAGE_MAX_DAYS} days and refuses more, reversed ranges and non-dates with 400`, async () => {
    const t = await createTenant();
    const token = await t.owner.token();
    const full = await checked<Report>(getUsage, await call('/v1/usage?from=2024-01-01&to=2024-12-31', { token }), 200); // a leap year
    expect(full.data).toHaveLength(366);
    for (const q of [
      'from=2024-01-01&to=2025-01-01',
      'from=2026-01-02&to=2026-01-01',
      'from=2026-02-30',
      'to=2026-1-5',
      'from=yesterday',
    ]) {
      expect(await checked(getUsage, await call(`/v1/usage?${q}`, { token }), 400), q).toMatchObject({
        code: 'invalid_parameter',
      });
    }
  });

  it("shows only the caller's tenant", async () => {
    const a = await createTenant();
    const b = await createTenant();
    await env.DB.prepare("INSERT INTO usage_daily (tenant_id, day, requests) VALUES (?1, '2026-03-01', 99)")
      .bind(b.tenant.id)
      .run();
    const report = await checked<Report>(
      getUsage,
      await call('/v1/usage?from=2026-03-01&to=2026-03-01', { token: await a.owner.token() }),
      200,
    );
    expect(report.totals.requests).toBe(0);
  });
});
