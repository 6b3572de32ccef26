import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { type D1Stats, instrumentD1 } from '../../src/db/instrument';
import { resilientD1 } from '../../src/db/resilience';
import { requestSession } from '../../src/db/session';
import { createTenant } from '../helpers/fixtures';
import { call } from '../helpers/http';
import { d1Stats, expectProblem, memoryCount } from '../memories/helpers';

// Read replication with the D1 Sessions API, on local D1 (which implements sessions and bookmarks).
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;
const bookmarkOf = (res: Response) => res.headers.get('memoria-bookmark') ?? '';

describe('Memoria-Bookmark', () => {
  it('a write answers with a bookmark; a read sending it back sees the write, in one round trip', async () => {
    const { owner } = await createTenant();
    const token = await owner.token();
    const created = await call('/v1/memories', { method: 'POST', token, json: { content: 'replicated coffee' } });
    expect(created.status).toBe(201);
    const afterWrite = bookmarkOf(created);
    expect(afterWrite).toMatch(BOOKMARK);
    const { id } = await created.json<{ id: string }>();

    const read = await call(`/v1/memories/${id}`, { token, headers: { 'memoria-bookmark': afterWrite } });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ id, content: 'replicated coffee' });
    expect(d1Stats(read)).toMatchObject({ roundTrips: 1, rowsWritten: 0 });
    // Bookmarks only move forward: the read's is at least the write's (fixed-width hex).
    expect(bookmarkOf(read) >= afterWrite).toBe(true);

    const patched = await call(`/v1/memories/${id}`, {
      method: 'PATCH',
      token,
      headers: { 'memoria-bookmark': bookmarkOf(read) },
      json: { content: 'replicated tea' },
    });
    expect(patched.status).toBe(200);
    expect(d1Stats(patched).roundTrips).toBe(1);
    expect(bookmarkOf(patched) > bookmarkOf(read)).toBe(true);
    const list = await call('/v1/memories', { token, headers: { 'memoria-bookmark': bookmarkOf(patched) } });
    expect((await list.json<{ data: { content: string }[] }>()).data.map((m) => m.content)).toEqual(['replicated tea']);
  });

  it('every response that read D1 carries one: without a bookmark, on /health, on errors', async () => {
    const { owner } = await createTenant();
    const token = await owner.token();
    for (const res of [
      await call('/v1/me', { token }),
      await call('/health'),
      await call('/v1/memories/mem_00000000000000000000000000', { token }),
    ])
      expect(bookmarkOf(res), res.url).toMatch(BOOKMARK);
    // A request that never reached D1 (no token) has none.
    expect((await call('/v1/me')).headers.get('memoria-bookmark')).toBeNull();
  });

  it('a malformed bookmark is ignored (the primary answers), never an error', async () => {
    const { owner } = await createTenant();
    const res = await call('/v1/me', { token: await owner.token(), headers: { 'memoria-bookmark': 'not-a-bookmark' } });
    expect(res.status).toBe(200);
    expect(bookmarkOf(res)).toMatch(BOOKMARK);
  });

  it('a batch that fails in SQL writes nothing under a bookmark session, still in one round trip', async () => {
    const { owner } = await createTenant();
    const token = await owner.token();
    // 995 of the free plan's 1,000 memories, then a batch of 10 that the quota check refuses.
    await env.DB.prepare(
      `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 995)
       INSERT INTO memories (id, tenant_id, user_id, content, access_scope, search_doc, created_at, updated_at)
       SELECT printf('mem_%026d', abs(random()) % 100000000000000000 + i), ?1, ?2, 'filler ' || i, 'global', '|', ?3, ?3 FROM seq`,
    )
      .bind(owner.tenantId, owner.id, Date.now() - 60_000)
      .run();
    // A first memories request warms the isolate's subject -> tenant cache (src/routes/memories/tenant.ts).
    const me = await call('/v1/memories?limit=1', { token });
    const memories = Array.from({ length: 10 }, (_, i) => ({ content: `over quota ${i}` }));
    const refused = await call('/v1/memories/batch', {
      method: 'POST',
      token,
      headers: { 'memoria-bookmark': bookmarkOf(me) },
      json: { memories },
    });
    await expectProblem(refused, 403, 'quota_exceeded');
    expect(d1Stats(refused).roundTrips).toBe(1);
    expect(await memoryCount(owner.tenantId)).toEqual({ n: 995, live: 995 });

    // The same at the D1 level, through the app's own wrapping: a failing statement rolls back
    // the statements before it in the batch.
    await env.DB.exec('CREATE TABLE IF NOT EXISTS bookmark_probe (id TEXT PRIMARY KEY)');
    const stats: D1Stats = { roundTrips: 0, rowsRead: 0, rowsWritten: 0 };
    const db = resilientD1(instrumentD1(requestSession(env.DB, bookmarkOf(me), true) as unknown as D1Database, stats));
    await expect(
      db.batch([
        db.prepare('INSERT INTO bookmark_probe (id) VALUES (?)').bind('a'),
        db.prepare('INSERT INTO bookmark_probe (id) VALUES (?)').bind('a'),
      ]),
    ).rejects.toThrow(/UNIQUE/);
    expect(stats.roundTrips).toBe(1);
    expect(await env.DB.prepare('SELECT count(*) AS n FROM bookmark_probe').first('n')).toBe(0);
  });
});
