import { describe, expect, it } from 'vitest';
import { asMemory, asPage, asSearchPage, auditRows, call, createMemory, d1Stats, memoryCount, world } from './helpers';

describe('memories: update, tags, delete, restore, purge (happy path)', () => {
  it('patches fields, bumps the version and the ETag, and audits old/new values', async () => {
    const w = await world();
    const m = await createMemory(w.tokens.owner, { content: 'likes tea', tags: ['drinks'], importance: 3 });
    const res = await call(`/v1/memories/${m.id}`, {
      method: 'PATCH',
      token: w.tokens.owner,
      json: { content: 'likes coffee', importance: 8 },
      headers: { 'if-match': `"${m.id}-v1"` },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const p = asMemory(await res.json());
    expect(p).toMatchObject({ content: 'likes coffee', importance: 8, tags: ['drinks'], version: 2 });
    expect(res.headers.get('etag')).toBe(`"${m.id}-v2"`);
    expect(d1Stats(res).roundTrips).toBe(1);
    const audit = (await auditRows(w.owner.tenantId, m.id)).filter((r) => r.action === 'memory.update');
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.old_values!)).toEqual({ content: 'likes tea', importance: 3 });
    expect(JSON.parse(audit[0]!.new_values!)).toEqual({ content: 'likes coffee', importance: 8 });
    // Search follows the new content and keeps the tags.
    const s1 = asSearchPage(await (await call('/v1/memories/search?q=coffee', { token: w.tokens.owner })).json());
    expect(s1.data.map((h) => h.id)).toEqual([m.id]);
    const s2 = asSearchPage(await (await call('/v1/memories/search?q=tea', { token: w.tokens.owner })).json());
    expect(s2.data).toEqual([]);
    const s3 = asSearchPage(await (await call('/v1/memories/search?q=drinks', { token: w.tokens.owner })).json());
    expect(s3.data.map((h) => h.id)).toEqual([m.id]);
  });

  it('adds tags in order without duplicates, removes one, and search follows', async () => {
    const w = await world();
    const m = await createMemory(w.tokens.owner, { content: 'kyoto trip', tags: ['travel'] });
    const add = await call(`/v1/memories/${m.id}/tags`, {
      method: 'POST',
      token: w.tokens.owner,
      json: { tags: ['family', 'travel', 'Japan Trip', 'family'] },
    });
    expect(add.status, await add.clone().text()).toBe(200);
    expect(asMemory(await add.json())).toMatchObject({ tags: ['travel', 'family', 'Japan Trip'], version: 2 });
    const hit = asSearchPage(await (await call('/v1/memories/search?q=japan', { token: w.tokens.owner })).json());
    expect(hit.data.map((h) => h.id)).toEqual([m.id]);

    const again = await call(`/v1/memories/${m.id}/tags`, {
      method: 'POST',
      token: w.tokens.owner,
      json: { tags: ['family'] },
    });
    expect(asMemory(await again.json())).toMatchObject({ tags: ['travel', 'family', 'Japan Trip'], version: 2 });

    const del = await call(`/v1/memories/${m.id}/tags/${encodeURIComponent('Japan Trip')}`, {
      method: 'DELETE',
      token: w.tokens.owner,
    });
    expect(del.status, await del.clone().text()).toBe(200);
    expect(asMemory(await del.json())).toMatchObject({ tags: ['travel', 'family'], version: 3 });
    const miss = asSearchPage(await (await call('/v1/memories/search?q=japan', { token: w.tokens.owner })).json());
    expect(miss.data).toEqual([]);
    const still = asSearchPage(
      await (await call('/v1/memories/search?q=kyoto%20family', { token: w.tokens.owner })).json(),
    );
    expect(still.data.map((h) => h.id)).toEqual([m.id]);
    const actions = (await auditRows(w.owner.tenantId, m.id)).map((r) => r.action);
    expect(actions).toEqual(['memory.create', 'memory.tags_add', 'memory.tag_remove']);
  });

  it('soft-deletes (gone from list and search, count down), restores (back), and purges', async () => {
    const w = await world();
    const m = await createMemory(w.tokens.owner, { content: 'zebra crossing' });
    expect((await memoryCount(w.owner.tenantId)).n).toBe(1);
    const del = await call(`/v1/memories/${m.id}`, { method: 'DELETE', token: w.tokens.owner });
    expect(del.status).toBe(204);
    expect((await memoryCount(w.owner.tenantId)).n).toBe(0);
    expect(asPage(await (await call('/v1/memories', { token: w.tokens.owner })).json()).data).toEqual([]);
    expect(
      asSearchPage(await (await call('/v1/memories/search?q=zebra', { token: w.tokens.owner })).json()).data,
    ).toEqual([]);
    const only = asPage(await (await call('/v1/memories?deleted=only', { token: w.tokens.owner })).json());
    expect(only.data.map((x) => x.id)).toEqual([m.id]);
    expect(only.data[0]!.deleted_at).not.toBeNull();

    const res = await call(`/v1/memories/${m.id}/restore`, { method: 'POST', token: w.tokens.owner });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(asMemory(await res.json())).toMatchObject({ deleted_at: null, version: 3 });
    expect((await memoryCount(w.owner.tenantId)).n).toBe(1);
    expect(
      asSearchPage(await (await call('/v1/memories/search?q=zebra', { token: w.tokens.owner })).json()).data.map(
        (h) => h.id,
      ),
    ).toEqual([m.id]);

    const purge = await call(`/v1/memories/${m.id}?permanent=true`, { method: 'DELETE', token: w.tokens.owner });
    expect(purge.status, await purge.clone().text()).toBe(204);
    expect((await call(`/v1/memories/${m.id}`, { token: w.tokens.owner })).status).toBe(404);
    expect(await memoryCount(w.owner.tenantId)).toEqual({ n: 0, live: 0 });
    const actions = (await auditRows(w.owner.tenantId, m.id)).map((r) => r.action);
    expect(actions).toEqual(['memory.create', 'memory.delete', 'memory.restore', 'memory.purge']);
  });

  it('creates a batch in order, in one round trip, with one audit row per memory', async () => {
    const w = await world();
    await createMemory(w.tokens.owner); // warms the caller cache
    const items = Array.from({ length: 100 }, (_, i) => ({
      content: `item ${i} `.repeat(50),
      tags: [`t${i % 7}`],
      metadata: { i },
    }));
    const res = await call('/v1/memories/batch', { method: 'POST', token: w.tokens.owner, json: { memories: items } });
    expect(res.status, await res.clone().text()).toBe(201);
    const body = (await res.json()) as { data: unknown[] };
    expect(body.data.map((m) => asMemory(m).metadata.i)).toEqual(items.map((_, i) => i));
    expect(d1Stats(res).roundTrips).toBe(1);
    expect((await memoryCount(w.owner.tenantId)).n).toBe(101);
    expect((await auditRows(w.owner.tenantId)).filter((r) => r.action === 'memory.batch_create')).toHaveLength(100);
  });

  it('searches with bm25 scores and marked snippets', async () => {
    const w = await world();
    const a = await createMemory(w.tokens.owner, { content: 'Café au lait <b>every</b> morning, café is life' });
    await createMemory(w.tokens.owner, { content: 'unrelated' });
    const res = await call('/v1/memories/search?q=CAFE', { token: w.tokens.owner });
    expect(res.status).toBe(200);
    expect(d1Stats(res)).toMatchObject({ roundTrips: 1, rowsWritten: 0 });
    const page = asSearchPage(await res.json());
    expect(page.data.map((h) => h.id)).toEqual([a.id]);
    expect(page.data[0]!.snippet).toBe(
      '<mark>Café</mark> au lait &#60;b&#62;every&#60;/b&#62; morning, <mark>café</mark> is life',
    );
    expect(page.data[0]!.score).toBeGreaterThan(0);
  });
});
