// memory_tags: the normalized tags a tag filter walks (migrations/015_memory_tags.sql).
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { asPage, call, createMemory, d1Stats, world } from './helpers';

/** memory_tags equals the tags stored on the tenant's memories, row for row. */
async function expectInStep(tenantId: string) {
  const q = (sql: string) =>
    env.DB.prepare(sql)
      .bind(tenantId)
      .all<{ seq: number; tag: string }>()
      .then((r) => r.results.map((x) => `${x.seq}:${x.tag}`).sort());
  const normalized = await q('SELECT memory_seq AS seq, tag FROM memory_tags WHERE tenant_id = ?1');
  expect(normalized).toEqual(
    await q('SELECT m.seq, t.value AS tag FROM memories m, json_each(m.tags) t WHERE m.tenant_id = ?1'),
  );
  return normalized.length;
}

describe('memory_tags', () => {
  it('stays in step with every write path: create, batch, tag add/remove, PATCH, version restore, purge, import', async () => {
    const w = await world();
    const t = w.tokens.owner;
    const m = await createMemory(t, { content: 'one', tags: ['a', 'b', 'a'] });
    const batch = await call('/v1/memories/batch', {
      method: 'POST',
      token: t,
      json: {
        memories: [
          { content: 'two', tags: ['b'] },
          { content: 'three', tags: [] },
        ],
      },
    });
    expect(batch.status).toBe(201);
    expect(await expectInStep(w.a.tenant.id)).toBe(3);
    expect((await call(`/v1/memories/${m.id}/tags`, { method: 'POST', token: t, json: { tags: ['c'] } })).status).toBe(
      200,
    );
    expect((await call(`/v1/memories/${m.id}/tags/a`, { method: 'DELETE', token: t })).status).toBe(200);
    expect(await expectInStep(w.a.tenant.id)).toBe(3);
    const patched = await call(`/v1/memories/${m.id}`, { method: 'PATCH', token: t, json: { tags: ['x', 'y'] } });
    expect(patched.status).toBe(200);
    expect(await expectInStep(w.a.tenant.id)).toBe(3);
    const restored = await call(`/v1/memories/${m.id}/versions/1/restore`, { method: 'POST', token: t });
    expect(restored.status, await restored.clone().text()).toBe(200);
    expect(await expectInStep(w.a.tenant.id)).toBe(3); // a, b again
    // Import into another tenant brings its tags along.
    const exported = await (await call('/v1/export', { token: t })).text();
    const imported = await call('/v1/import', {
      method: 'POST',
      token: w.tokens.other,
      body: exported,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(imported.status, await imported.clone().text()).toBe(200);
    expect(await expectInStep(w.other.tenantId)).toBe(3);
    expect((await call(`/v1/memories/${m.id}?permanent=true`, { method: 'DELETE', token: t })).status).toBe(204);
    expect(await expectInStep(w.a.tenant.id)).toBe(1);
  });

  it('a tag filter reads about a page, for a 1% tag and a tag nobody uses alike, and pages in order', async () => {
    const w = await world();
    const t = w.tokens.owner;
    // 300 memories: `common` on every other one, `rare` on 3 (1%).
    for (let k = 0; k < 3; k++) {
      const memories = Array.from({ length: 100 }, (_, i) => ({
        content: `memory ${k * 100 + i}`,
        access_scope: 'global',
        tags: [...(i % 2 ? ['common'] : []), ...(i === 7 ? ['rare'] : [])],
      }));
      expect((await call('/v1/memories/batch', { method: 'POST', token: t, json: { memories } })).status).toBe(201);
    }
    const list = async (qs: string) => {
      const res = await call(`/v1/memories?${qs}`, { token: t });
      expect(res.status).toBe(200);
      return { body: asPage(await res.json()), stats: d1Stats(res) };
    };
    const rare = await list('tag=rare&limit=20');
    expect(rare.body.data.map((m) => m.content)).toEqual(['memory 207', 'memory 107', 'memory 7']);
    expect(rare.stats.rowsRead).toBeLessThanOrEqual(2 * 20);
    const absent = await list('tag=nobody&limit=20');
    expect(absent.body.data).toEqual([]);
    expect(absent.stats.rowsRead).toBeLessThanOrEqual(10);
    const common = await list('tag=common&limit=20');
    expect(common.body.data).toHaveLength(20);
    // Two rows per hit (its memory_tags entry and its memory; 21 to know there is a next page) plus the fixed part.
    expect(common.stats.rowsRead).toBeLessThanOrEqual(2 * 21 + absent.stats.rowsRead);
    // Page 2 continues in order; two tags must both be present.
    const next = await list(`tag=common&limit=20&cursor=${encodeURIComponent(common.body.next_cursor!)}`);
    const contents = [...common.body.data, ...next.body.data].map((m) => Number(m.content.split(' ')[1]));
    expect(contents).toEqual([...contents].sort((a, b) => b - a));
    expect(new Set(contents).size).toBe(40);
    const both = await list('tag=common&tag=rare&limit=20');
    expect(both.body.data.map((m) => m.content)).toEqual(['memory 207', 'memory 107', 'memory 7']);
  });
});
