import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { ImportLineSchema } from '../../src/routes/data/schemas';
import { runMaintenance } from '../../src/scheduled';
import { asMemory, asPage, asSearchPage, call, createMemory, expectProblem, world } from '../memories/helpers';

/** Moves a memory's expiry into the past, as time passing would (tests never sleep). */
const expireNow = (id: string, ago = 1) =>
  env.DB.prepare('UPDATE memories SET expires_at = ?2 WHERE id = ?1')
    .bind(id, Date.now() - ago)
    .run();
const count = async (sql: string, ...params: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>())!.n;
const tenantCount = async (token: string) =>
  ((await (await call('/v1/tenant', { token })).json()) as { memory_count: number }).memory_count;

describe('expiry', () => {
  it('takes expires_at or ttl_seconds on create, batch and PATCH; null clears it', async () => {
    const w = await world();
    const before = Date.now();
    const ttl = await createMemory(w.tokens.owner, { ttl_seconds: 3600 });
    const at = Date.parse(ttl.expires_at!);
    expect(at).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(at).toBeLessThanOrEqual(Date.now() + 3_600_000);
    const fixed = await createMemory(w.tokens.owner, { expires_at: '2030-01-01T00:00:00Z' });
    expect(fixed.expires_at).toBe('2030-01-01T00:00:00.000Z');
    expect((await createMemory(w.tokens.owner)).expires_at).toBeNull();

    const batch = await call('/v1/memories/batch', {
      method: 'POST',
      token: w.tokens.owner,
      json: { memories: [{ content: 'a', ttl_seconds: 60 }, { content: 'b' }] },
    });
    const [a, b] = ((await batch.json()) as { data: unknown[] }).data.map(asMemory);
    expect(a!.expires_at).not.toBeNull();
    expect(b!.expires_at).toBeNull();

    const patch = (json: Record<string, unknown>) =>
      call(`/v1/memories/${fixed.id}`, { method: 'PATCH', token: w.tokens.owner, json });
    expect(asMemory(await (await patch({ expires_at: null })).json()).expires_at).toBeNull();
    const renewed = asMemory(await (await patch({ ttl_seconds: 10 })).json());
    expect(Date.parse(renewed.expires_at!)).toBeGreaterThan(Date.now());
    const audit = await env.DB.prepare(
      "SELECT old_values, new_values FROM audit_logs WHERE resource_id = ?1 AND action = 'memory.update' ORDER BY created_at, id",
    )
      .bind(fixed.id)
      .all<{ old_values: string; new_values: string }>();
    expect(JSON.parse(audit.results[0]!.old_values)).toEqual({ expires_at: '2030-01-01T00:00:00.000Z' });
    expect(JSON.parse(audit.results[0]!.new_values)).toEqual({ expires_at: null });
  });

  it('refuses a past, too distant or doubled expiry with a 422 naming the field', async () => {
    const w = await world();
    const cases: [Record<string, unknown>, string][] = [
      [{ expires_at: '2001-01-01T00:00:00Z' }, 'json.expires_at'],
      [{ expires_at: new Date(Date.now() + 11 * 366 * 86_400_000).toISOString() }, 'json.expires_at'],
      [{ expires_at: 'tomorrow' }, 'json.expires_at'],
      [{ ttl_seconds: 0 }, 'json.ttl_seconds'],
      [{ ttl_seconds: 1.5 }, 'json.ttl_seconds'],
      [{ ttl_seconds: 11 * 366 * 86_400 }, 'json.ttl_seconds'],
      [{ ttl_seconds: 60, expires_at: '2030-01-01T00:00:00Z' }, 'json.ttl_seconds'],
    ];
    for (const [json, path] of cases) {
      const res = await call('/v1/memories', {
        method: 'POST',
        token: w.tokens.owner,
        json: { content: 'x', ...json },
      });
      const body = await expectProblem(res, 422, 'validation_failed');
      expect(
        body.errors?.map((e) => e.path),
        JSON.stringify(json),
      ).toContain(path);
    }
    expect(await count('SELECT count(*) AS n FROM memories WHERE tenant_id = ?1', w.a.tenant.id)).toBe(0);
  });

  it('an expired memory is gone at once: GET 404, not listed, searched, changed or exported, not counted', async () => {
    const w = await world();
    const keep = await createMemory(w.tokens.owner, { content: 'lasting zebra', access_scope: 'global' });
    const gone = await createMemory(w.tokens.owner, {
      content: 'fleeting zebra',
      access_scope: 'global',
      ttl_seconds: 60,
    });
    expect(await tenantCount(w.tokens.owner)).toBe(2);
    await expireNow(gone.id);

    for (const token of [w.tokens.owner, w.tokens.member]) {
      await expectProblem(await call(`/v1/memories/${gone.id}`, { token }), 404, 'not_found');
      expect(asPage(await (await call('/v1/memories', { token })).json()).data.map((m) => m.id)).toEqual([keep.id]);
      const hits = asSearchPage(await (await call('/v1/memories/search?q=zebra', { token })).json());
      expect(hits.data.map((m) => m.id)).toEqual([keep.id]);
    }
    await expectProblem(
      await call(`/v1/memories/${gone.id}`, { method: 'PATCH', token: w.tokens.owner, json: { content: 'revive' } }),
      404,
      'not_found',
    );
    await expectProblem(await call(`/v1/memories/${gone.id}/versions`, { token: w.tokens.owner }), 404, 'not_found');
    const exported = (await (await call('/v1/export', { token: w.tokens.owner })).text())
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((l) => ImportLineSchema.parse(JSON.parse(l)));
    expect(exported.filter((l) => l.type === 'memory').map((l) => l.data.id)).toEqual([keep.id]);
    // quotas and memory_count count live, unexpired memories before the cron runs
    expect(await tenantCount(w.tokens.owner)).toBe(1);
    const renamed = await call('/v1/tenant', { method: 'PATCH', token: w.tokens.owner, json: { name: 'Renamed' } });
    expect(((await renamed.json()) as { memory_count: number }).memory_count).toBe(1);
    expect(
      ((await (await call('/v1/me', { token: w.tokens.owner })).json()) as { tenant: { memory_count: number } }).tenant
        .memory_count,
    ).toBe(1);
  });

  it('a cursor walk that an expiry crosses returns every live memory once and never the expired ones', async () => {
    const w = await world();
    const ids: string[] = [];
    for (let i = 0; i < 9; i++)
      ids.push((await createMemory(w.tokens.owner, { content: `m${i}`, ttl_seconds: 3600 })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call(`/v1/memories?limit=3&order=asc${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
        token: w.tokens.owner,
      });
      const page = asPage(await res.json());
      seen.push(...page.data.map((m) => m.id));
      cursor = page.next_cursor;
      // after the first page: one memory already seen and one not yet reached expire
      if (++pages === 1) {
        await expireNow(ids[1]!);
        await expireNow(ids[5]!);
      }
    } while (cursor);
    expect(seen).toEqual(ids.filter((_, i) => i !== 5));
  });

  it('the quota counts unexpired memories only, even before the cron runs', async () => {
    const w = await world();
    await env.DB.prepare('UPDATE tenants SET memory_count = 999 WHERE id = ?1').bind(w.a.tenant.id).run(); // free plan: 1,000
    const m = await createMemory(w.tokens.owner, { ttl_seconds: 60 });
    await expectProblem(
      await call('/v1/memories', { method: 'POST', token: w.tokens.owner, json: { content: 'x' } }),
      403,
      'quota_exceeded',
    );
    await expireNow(m.id);
    await createMemory(w.tokens.owner, { content: 'fits again' });
  });

  it('the cron deletes expired memories in chunks, with a memory.expire audit row each, from every index, counted in usage', async () => {
    const w = await world();
    const live = await createMemory(w.tokens.owner, { content: 'unicorn stays', access_scope: 'global' });
    const expiring: string[] = [];
    for (let i = 0; i < 5; i++)
      expiring.push(
        (await createMemory(w.tokens.owner, { content: `unicorn ${i}`, subject_id: 'alice', ttl_seconds: 60 })).id,
      );
    const softDeleted = expiring[4]!;
    await call(`/v1/memories/${softDeleted}`, { method: 'DELETE', token: w.tokens.owner });
    await call(`/v1/memories/${expiring[0]}`, {
      method: 'PATCH',
      token: w.tokens.owner,
      json: { content: 'unicorn v2' },
    });
    for (const id of expiring) await expireNow(id, 5);

    const report = await runMaintenance(env, { chunkRows: 2 });
    expect(report.complete).toBe(true);
    expect(report.memories_expired).toBeGreaterThanOrEqual(5); // other test files' tenants may add theirs
    const inList = (col: string) => `${col} IN (SELECT value FROM json_each(?1))`;
    const list = JSON.stringify(expiring);
    expect(await count(`SELECT count(*) AS n FROM memories WHERE ${inList('id')}`, list)).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM memory_versions WHERE ${inList('memory_id')}`, list)).toBe(0);
    const audit = await env.DB.prepare(
      `SELECT resource_id, user_id, old_values FROM audit_logs WHERE action = 'memory.expire' AND ${inList('resource_id')} ORDER BY resource_id`,
    )
      .bind(list)
      .all<{ resource_id: string; user_id: string | null; old_values: string }>();
    expect(audit.results.map((a) => a.resource_id)).toEqual([...expiring].sort());
    expect(audit.results.every((a) => a.user_id === null)).toBe(true);
    expect(JSON.parse(audit.results[0]!.old_values)).toMatchObject({ subject_id: 'alice' });
    // FTS: only the live memory's tokens are left
    const hits = asSearchPage(await (await call('/v1/memories/search?q=unicorn', { token: w.tokens.owner })).json());
    expect(hits.data.map((h) => h.id)).toEqual([live.id]);
    expect(
      await count(
        'SELECT count(*) AS n FROM memories_fts f JOIN memories m ON m.seq = f.rowid WHERE m.tenant_id = ?1',
        w.a.tenant.id,
      ),
    ).toBe(1);
    const row = await env.DB.prepare('SELECT memory_count AS n FROM tenants WHERE id = ?1')
      .bind(w.a.tenant.id)
      .first<{ n: number }>();
    expect(row!.n).toBe(1); // exact again: the soft-deleted one was not counted twice
    const usage = await env.DB.prepare('SELECT sum(memories_expired) AS n FROM usage_daily WHERE tenant_id = ?1')
      .bind(w.a.tenant.id)
      .first<{ n: number }>();
    expect(usage!.n).toBe(5);
    // a second run has nothing left to do for this tenant
    await runMaintenance(env, {});
    expect(
      await count(
        "SELECT count(*) AS n FROM audit_logs WHERE action = 'memory.expire' AND tenant_id = ?1",
        w.a.tenant.id,
      ),
    ).toBe(5);
  });
});
