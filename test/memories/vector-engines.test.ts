// The Vectorize engine and server-side embedding with Workers AI, against fakes that enforce the
// engines' documented limits (test/helpers/fakes.ts): neither engine runs locally.
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { SearchResultSchema } from '../../src/routes/memories/schemas';
import { runMaintenance } from '../../src/scheduled';
import { callWith, fakeVectorize, fakeWorkersAi } from '../helpers/fakes';
import { setEmbeddingDimensions } from '../helpers/fixtures';
import { asMemory, expectProblem, world } from './helpers';

const BGE = '@cf/baai/bge-small-en-v1.5';

async function ok(res: Response, status = 200) {
  expect(res.status, await res.clone().text()).toBe(status);
  return res.json() as Promise<Record<string, unknown>>;
}

describe('the Vectorize fake enforces the documented limits', () => {
  it('refuses ids over 64 bytes, other dimensions, bad metadata keys, topK over 100 (20 with metadata), unindexed filters', async () => {
    const index = fakeVectorize(3);
    const v = (id: string, extra = {}) => ({ id, values: [1, 0, 0], namespace: 'ten_x', ...extra });
    await expect(index.upsert([v('x'.repeat(65))])).rejects.toThrow(/1–64 bytes/);
    await expect(index.upsert([{ ...v('a'), values: [1, 0] }])).rejects.toThrow(/dimensions/);
    await expect(index.upsert([v('a', { metadata: { 'a.b': 'x' } })])).rejects.toThrow(/metadata key/);
    await expect(index.upsert([v('a', { metadata: { big: 'x'.repeat(11_000) } })])).rejects.toThrow(/10 KiB/);
    await expect(index.upsert(Array.from({ length: 1001 }, (_, i) => v(`m${i}`)))).rejects.toThrow(/1–1000/);
    await index.upsert([v('a', { metadata: { subject_id: 'alice' } })]);
    await expect(index.query([1, 0, 0], { topK: 101, namespace: 'ten_x' })).rejects.toThrow(/topK/);
    await expect(
      index.query([1, 0, 0], { topK: 21, namespace: 'ten_x', returnMetadata: 'all' as 'none' }),
    ).rejects.toThrow(/topK/);
    await expect(
      index.query([1, 0, 0], { topK: 5, namespace: 'ten_x', filter: { tags: { $eq: 'x' } } }),
    ).rejects.toThrow(/metadata index/);
    const hit = await index.query([1, 0, 0], {
      topK: 5,
      namespace: 'ten_x',
      filter: { subject_id: { $in: ['alice'] } },
    });
    expect(hit.matches.map((m) => m.id)).toEqual(['a']);
    expect((await index.query([1, 0, 0], { topK: 5, namespace: 'ten_y' })).matches).toEqual([]);
  });
});

describe('Vectorize engine (VECTORIZE binding, faked)', () => {
  async function setup() {
    const index = fakeVectorize(3);
    const api = callWith({ VECTORIZE: index, VECTORIZE_DIMENSIONS: '3' });
    const w = await world();
    await setEmbeddingDimensions(w.a.tenant.id, 3);
    const create = async (token: string, json: Record<string, unknown>) =>
      asMemory(await ok(await api('/v1/memories', { method: 'POST', token, json }), 201));
    const semantic = async (token: string, vector: number[], extra: Record<string, unknown> = {}) => {
      const body = SearchResultSchema.strict().parse(
        await ok(
          await api('/v1/memories/search', { method: 'POST', token, json: { vector, mode: 'semantic', ...extra } }),
        ),
      );
      return body.data.map((h) => h.memory.id);
    };
    return { index, api, w, create, semantic, ns: w.a.tenant.id };
  }

  it('follows every write path: create, batch, PATCH (vector, stale content, labels), delete, restore, purge, bulk delete', async () => {
    const { index, api, w, create, ns } = await setup();
    const t = w.tokens.owner;
    const m = await create(t, { content: 'alpha', embedding: [1, 0, 0], subject_id: 'alice' });
    expect(index.vectors.get(m.id)).toMatchObject({
      namespace: ns,
      values: [1, 0, 0],
      metadata: { subject_id: 'alice' },
    });
    const batch = await ok(
      await api('/v1/memories/batch', {
        method: 'POST',
        token: t,
        json: { memories: [{ content: 'b1', embedding: [0, 1, 0] }, { content: 'b2' }] },
      }),
      201,
    );
    const [b1, b2] = (batch.data as { id: string }[]).map((x) => x.id);
    expect(index.idsIn(ns).sort()).toEqual([m.id, b1].sort());
    expect(index.vectors.has(b2!)).toBe(false);

    const patch = (id: string, json: unknown) => api(`/v1/memories/${id}`, { method: 'PATCH', token: t, json });
    await ok(await patch(m.id, { subject_id: 'bob' }));
    expect(index.vectors.get(m.id)!.metadata).toEqual({ subject_id: 'bob' });
    await ok(await patch(m.id, { embedding: [0, 0, 1] }));
    expect(index.vectors.get(m.id)!.values).toEqual([0, 0, 1]);
    // New content without a vector: stale in D1, out of the index.
    expect((await ok(await patch(m.id, { content: 'alpha, rewritten' }))).embedding_status).toBe('stale');
    expect(index.vectors.has(m.id)).toBe(false);
    await ok(await patch(m.id, { embedding: [1, 1, 0] }));
    expect(index.vectors.has(m.id)).toBe(true);

    expect((await api(`/v1/memories/${m.id}`, { method: 'DELETE', token: t })).status).toBe(204);
    expect(index.vectors.has(m.id)).toBe(false);
    await ok(await api(`/v1/memories/${m.id}/restore`, { method: 'POST', token: t }));
    expect(index.vectors.get(m.id)!.values).toEqual([1, 1, 0]);
    expect((await api(`/v1/memories/${m.id}?permanent=true`, { method: 'DELETE', token: t })).status).toBe(204);
    expect(index.vectors.has(m.id)).toBe(false);

    await ok(
      await api('/v1/memories/bulk-delete', {
        method: 'POST',
        token: t,
        json: { filter: {}, mode: 'soft', all: true },
      }),
    );
    expect(index.idsIn(ns)).toEqual([]);
  });

  it('search asks the tenant namespace and re-checks every hit in D1: scope, deletion, other tenants, filters', async () => {
    const { index, api, w, create, semantic, ns } = await setup();
    const mine = await create(w.tokens.owner, { content: 'mine', embedding: [1, 0, 0], access_scope: 'private' });
    const shared = await create(w.tokens.owner, {
      content: 'shared',
      embedding: [0.9, 0.1, 0],
      subject_id: 'alice',
      access_scope: 'global',
    });
    // The owner's private memory is in the index, but never a hit for the member.
    expect(await semantic(w.tokens.owner, [1, 0, 0])).toEqual([mine.id, shared.id]);
    expect(await semantic(w.tokens.member, [1, 0, 0])).toEqual([shared.id]);
    // Another tenant: its own (empty) namespace, whatever the index holds.
    await setEmbeddingDimensions(w.other.tenantId, 3);
    expect(await semantic(w.tokens.other, [1, 0, 0])).toEqual([]);
    // A stale index (a deleted memory left in it, an entry planted in the tenant's namespace) leaks nothing.
    await env.DB.prepare('UPDATE memories SET deleted_at = 1 WHERE id = ?1').bind(shared.id).run();
    await index.upsert([{ id: 'mem_01J9Z3Q4W5E6R7T8Y9V0A1B2C3', values: [1, 0, 0], namespace: ns }]);
    expect(await semantic(w.tokens.owner, [1, 0, 0])).toEqual([mine.id]);
    await env.DB.prepare('UPDATE memories SET deleted_at = NULL WHERE id = ?1').bind(shared.id).run();
    // Filters: by the index's metadata (subject) and by D1 (scope); hybrid fuses with keyword.
    expect(await semantic(w.tokens.owner, [1, 0, 0], { filter: { subject_id: ['alice'] } })).toEqual([shared.id]);
    expect(await semantic(w.tokens.owner, [1, 0, 0], { filter: { access_scope: 'private' } })).toEqual([mine.id]);
    const hybrid = SearchResultSchema.parse(
      await ok(
        await api('/v1/memories/search', {
          method: 'POST',
          token: w.tokens.owner,
          json: { query: 'shared', vector: [1, 0, 0], mode: 'hybrid', explain: true },
        }),
      ),
    );
    expect(hybrid.data[0]!.memory.id).toBe(shared.id);
    expect(hybrid.data[0]!.explain).toMatchObject({ keyword_rank: 1, vector_rank: 2 });
  });

  it('import, expiry and tenant erasure remove or add vectors; backfill writes what was stored before the index', async () => {
    const { index, api, w, create, ns } = await setup();
    const t = w.tokens.owner;
    // Stored without the binding (the d1 engine): not in the index until the backfill.
    const plain = callWith({});
    const before = [];
    for (let i = 0; i < 3; i++)
      before.push(
        asMemory(
          await ok(
            await plain('/v1/memories', {
              method: 'POST',
              token: t,
              json: { content: `old ${i}`, embedding: [1, i, 0] },
            }),
            201,
          ),
        ),
      );
    expect(index.idsIn(ns)).toEqual([]);
    await expectProblem(
      await api('/v1/tenant/vector-index/backfill', { method: 'POST', token: w.tokens.member }),
      403,
      'insufficient_role',
    );
    await expectProblem(
      await plain('/v1/tenant/vector-index/backfill', { method: 'POST', token: t }),
      409,
      'vector_index_not_configured',
    );
    const page = await ok(await api('/v1/tenant/vector-index/backfill', { method: 'POST', token: t }));
    expect(page).toEqual({ upserted: 3, next_cursor: null });
    expect(index.idsIn(ns).sort()).toEqual(before.map((m) => m.id).sort());

    // Expiry: the cron's purge removes the vector.
    const brief = await create(t, { content: 'brief', embedding: [0, 1, 0], ttl_seconds: 60 });
    expect(index.vectors.has(brief.id)).toBe(true);
    await runMaintenance({ ...env, VECTORIZE: index }, { now: Date.now() + 120_000 });
    expect(index.vectors.has(brief.id)).toBe(false);

    // Import into another tenant: its vectors join that tenant's namespace.
    const exported = await (await api('/v1/export', { token: t })).text();
    const target = w.other;
    await setEmbeddingDimensions(target.tenantId, 3);
    const imported = await api('/v1/import', {
      method: 'POST',
      token: w.tokens.other,
      body: exported,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(imported.status, await imported.clone().text()).toBe(200);
    expect(index.idsIn(target.tenantId)).toHaveLength(3);

    // Tenant erasure: every vector of the tenant leaves the index.
    await env.DB.prepare('UPDATE tenants SET deleted_at = 1 WHERE id = ?1').bind(ns).run();
    await runMaintenance({ ...env, VECTORIZE: index }, { queryBudget: 1000 });
    expect(index.idsIn(ns)).toEqual([]);
    expect(index.idsIn(target.tenantId)).toHaveLength(3);
  });

  it('a tenant cannot configure dimensions other than the index has', async () => {
    const { api, w } = await setup();
    const res = await api('/v1/tenant', {
      method: 'PATCH',
      token: w.tokens.owner,
      json: { embedding: { dimensions: 4, model: null } },
    });
    const body = await expectProblem(res, 422, 'validation_failed');
    expect(JSON.stringify(body.errors)).toContain('Vectorize index');
  });
});

describe('server-side embedding at write time (Workers AI, faked)', () => {
  async function setup() {
    const ai = fakeWorkersAi();
    const api = callWith({ AI: ai });
    const w = await world();
    await ok(
      await api('/v1/tenant', {
        method: 'PATCH',
        token: w.tokens.owner,
        json: { embedding: { dimensions: 384, model: BGE } },
      }),
    );
    return { ai, api, w };
  }

  it('embeds memories sent without a vector (a batch in one call), re-embeds new content, and searches by text', async () => {
    const { ai, api, w } = await setup();
    const t = w.tokens.owner;
    const one = asMemory(
      await ok(await api('/v1/memories', { method: 'POST', token: t, json: { content: 'the cat sleeps' } }), 201),
    );
    expect(one.embedding_status).toBe('current');
    expect(ai.calls.at(-1)).toEqual({ model: BGE, text: ['the cat sleeps'] });
    const calls = ai.calls.length;
    const batch = await ok(
      await api('/v1/memories/batch', {
        method: 'POST',
        token: t,
        json: {
          memories: [
            { content: 'a dog barks' },
            { content: 'fish swim' },
            { content: 'x', embedding: new Array(384).fill(0.1) },
          ],
        },
      }),
      201,
    );
    expect(ai.calls.length).toBe(calls + 1);
    expect(ai.calls.at(-1)!.text).toEqual(['a dog barks', 'fish swim']);
    expect((batch.data as { embedding_status: string }[]).map((m) => m.embedding_status)).toEqual([
      'current',
      'current',
      'current',
    ]);
    const stored = await env.DB.prepare('SELECT embedding FROM memories WHERE id = ?1')
      .bind(one.id)
      .first<{ embedding: string }>();
    expect(JSON.parse(stored!.embedding)).toEqual((await ai.run(BGE, { text: ['the cat sleeps'] })).data[0]);

    // A content PATCH is embedded again (current, not stale), and a text query finds it semantically.
    const patched = await ok(
      await api(`/v1/memories/${one.id}`, { method: 'PATCH', token: t, json: { content: 'the bird sings' } }),
    );
    expect(patched.embedding_status).toBe('current');
    expect(ai.calls.at(-1)!.text).toEqual(['the bird sings']);
    const res = SearchResultSchema.parse(
      await ok(
        await api('/v1/memories/search', {
          method: 'POST',
          token: t,
          json: { query: 'bird sings', mode: 'semantic', top_k: 1 },
        }),
      ),
    );
    expect(res.data.map((h) => h.memory.id)).toEqual([one.id]);
    // A text query without a mode is hybrid for such a tenant (keyword where the server cannot embed).
    const auto = SearchResultSchema.parse(
      await ok(
        await api('/v1/memories/search', { method: 'POST', token: t, json: { query: 'bird sings', explain: true } }),
      ),
    );
    expect(auto.mode).toBe('hybrid');
    expect(auto.data[0]).toMatchObject({ memory: { id: one.id }, explain: { keyword_rank: 1, vector_rank: 1 } });
    const plainSearch = await callWith({})('/v1/memories/search', {
      method: 'POST',
      token: t,
      json: { query: 'bird sings' },
    });
    expect(((await ok(plainSearch)) as { mode: string }).mode).toBe('keyword');
    // A long memory is cut to what the model reads (the fake refuses over 512 tokens).
    const long = await api('/v1/memories', { method: 'POST', token: t, json: { content: 'word, '.repeat(3000) } });
    expect(long.status, await long.clone().text()).toBe(201);
  });

  it('without the AI binding, asking for server-side embedding is a clear problem, never a silent no-op', async () => {
    const { w } = await setup();
    const plain = callWith({});
    // Creating without a vector for a tenant whose model is a Workers AI model: 503, nothing written.
    await expectProblem(
      await plain('/v1/memories', { method: 'POST', token: w.tokens.owner, json: { content: 'no vector' } }),
      503,
      'embedding_unavailable',
    );
    const count = await env.DB.prepare('SELECT count(*) AS n FROM memories WHERE tenant_id = ?1')
      .bind(w.a.tenant.id)
      .first<{ n: number }>();
    expect(count!.n).toBe(0);
    // Choosing a Workers AI model on a server without the binding: 422 naming the field.
    const other = await world();
    const body = await expectProblem(
      await plain('/v1/tenant', {
        method: 'PATCH',
        token: other.tokens.owner,
        json: { embedding: { dimensions: 384, model: BGE } },
      }),
      422,
      'validation_failed',
    );
    expect(body.errors![0]!.path).toBe('json.embedding.model');
  });

  it('a model that changed in another isolate is noticed by the batch, which is run again with it', async () => {
    const { ai, api, w } = await setup();
    const t = w.tokens.owner;
    await ok(await api('/v1/memories', { method: 'POST', token: t, json: { content: 'warm the cache' } }), 201);
    // Behind this isolate's back, the tenant stops embedding on the server.
    await env.DB.prepare("UPDATE tenants SET embedding_model = 'text-embedding-3-small' WHERE id = ?1")
      .bind(w.a.tenant.id)
      .run();
    const calls = ai.calls.length;
    const m = asMemory(
      await ok(await api('/v1/memories', { method: 'POST', token: t, json: { content: 'no vector now' } }), 201),
    );
    expect(m.embedding_status).toBeNull();
    expect(ai.calls.length).toBe(calls + 1); // embedded under the old model, refused by the batch, written without
  });
});
