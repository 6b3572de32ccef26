import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { PLANS } from '../../src/lib/plans';
import { call, createMemory, expectProblem, memoryCount, world } from './helpers';

/** Inserts `n` live memories for `userId` directly in D1 (the triggers keep memory_count exact). */
async function fill(tenantId: string, userId: string, n: number) {
  await env.DB.prepare(
    `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?3)
     INSERT INTO memories (id, tenant_id, user_id, content, access_scope, search_doc, created_at, updated_at)
     SELECT printf('mem_%026d', abs(random()) % 100000000000000000 + i), ?1, ?2, 'filler ' || i, 'global', '|', ?4, ?4 FROM seq`,
  )
    .bind(tenantId, userId, n, Date.now() - 60_000)
    .run();
}

describe('plan quota (free: 1,000 live memories)', () => {
  it('allows exactly up to the limit, then 403 quota_exceeded; the count stays exact', async () => {
    expect(PLANS.free.memories).toBe(1000);
    const w = await world();
    await fill(w.owner.tenantId, w.owner.id, 998);
    expect(await memoryCount(w.owner.tenantId)).toEqual({ n: 998, live: 998 });
    // A batch of 3 would exceed: refused whole.
    await expectProblem(
      await call('/v1/memories/batch', {
        method: 'POST',
        token: w.tokens.owner,
        json: { memories: [{ content: 'a' }, { content: 'b' }, { content: 'c' }] },
      }),
      403,
      'quota_exceeded',
    );
    expect((await memoryCount(w.owner.tenantId)).live).toBe(998);
    // A batch of 2 reaches the limit exactly.
    expect(
      (
        await call('/v1/memories/batch', {
          method: 'POST',
          token: w.tokens.owner,
          json: { memories: [{ content: 'a' }, { content: 'b' }] },
        })
      ).status,
    ).toBe(201);
    expect(await memoryCount(w.owner.tenantId)).toEqual({ n: 1000, live: 1000 });
    const over = await expectProblem(
      await call('/v1/memories', { method: 'POST', token: w.tokens.member, json: { content: 'one too many' } }),
      403,
      'quota_exceeded',
    );
    expect(over.detail).toContain('1000');
    expect(await memoryCount(w.owner.tenantId)).toEqual({ n: 1000, live: 1000 });

    // Deleting frees a slot; restoring at the limit is refused.
    const mine = await (await call('/v1/memories?limit=1', { token: w.tokens.owner })).json<{
      data: { id: string }[];
    }>();
    const id = mine.data[0]!.id;
    expect((await call(`/v1/memories/${id}`, { method: 'DELETE', token: w.tokens.owner })).status).toBe(204);
    expect((await memoryCount(w.owner.tenantId)).n).toBe(999);
    await createMemory(w.tokens.owner, { content: 'fits again' });
    await expectProblem(
      await call(`/v1/memories/${id}/restore`, { method: 'POST', token: w.tokens.owner }),
      403,
      'quota_exceeded',
    );
    expect(await memoryCount(w.owner.tenantId)).toEqual({ n: 1000, live: 1000 });
    // Purging a soft-deleted memory does not change the live count.
    expect((await call(`/v1/memories/${id}?permanent=true`, { method: 'DELETE', token: w.tokens.owner })).status).toBe(
      204,
    );
    expect(await memoryCount(w.owner.tenantId)).toEqual({ n: 1000, live: 1000 });
  });

  it('the pro plan limit applies once the tenant is on pro', async () => {
    const w = await world();
    await fill(w.owner.tenantId, w.owner.id, 1000);
    await expectProblem(
      await call('/v1/memories', { method: 'POST', token: w.tokens.owner, json: { content: 'x' } }),
      403,
      'quota_exceeded',
    );
    await env.DB.prepare(`UPDATE tenants SET plan = 'pro' WHERE id = ?1`).bind(w.owner.tenantId).run();
    expect((await call('/v1/memories', { method: 'POST', token: w.tokens.owner, json: { content: 'x' } })).status).toBe(
      201,
    );
  });
});

describe('large batches (several INSERT chunks)', () => {
  const big = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      content: `${i} ${'lorem ipsum dolor sit amet '.repeat(1300)}`.slice(0, 32_768),
      tags: [`n${i}`],
      metadata: { i },
    }));

  it('100 maximum-size memories are created in order, counted and audited', async () => {
    const w = await world();
    const res = await call('/v1/memories/batch', {
      method: 'POST',
      token: w.tokens.owner,
      json: { memories: big(100) },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const body = (await res.json()) as { data: { metadata: { i: number }; content: string }[] };
    expect(body.data.map((m) => m.metadata.i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(body.data[99]!.content).toHaveLength(32_768);
    expect(await memoryCount(w.owner.tenantId)).toEqual({ n: 100, live: 100 });
    const audit = await env.DB.prepare(
      `SELECT count(*) AS n FROM audit_logs WHERE tenant_id = ?1 AND action = 'memory.batch_create'`,
    )
      .bind(w.owner.tenantId)
      .first<{ n: number }>();
    expect(audit!.n).toBe(100);
    const hit = await (await call('/v1/memories/search?q=n77', { token: w.tokens.owner })).json<{
      data: { metadata: { i: number } }[];
    }>();
    expect(hit.data.map((h) => h.metadata.i)).toEqual([77]);
  });

  it('over quota, a multi-chunk batch writes nothing at all', async () => {
    const w = await world();
    await fill(w.owner.tenantId, w.owner.id, 950);
    await expectProblem(
      await call('/v1/memories/batch', { method: 'POST', token: w.tokens.owner, json: { memories: big(60) } }),
      403,
      'quota_exceeded',
    );
    expect(await memoryCount(w.owner.tenantId)).toEqual({ n: 950, live: 950 });
    const audit = await env.DB.prepare(
      `SELECT count(*) AS n FROM audit_logs WHERE tenant_id = ?1 AND resource_type = 'memory'`,
    )
      .bind(w.owner.tenantId)
      .first<{ n: number }>();
    expect(audit!.n).toBe(0);
  });
});
