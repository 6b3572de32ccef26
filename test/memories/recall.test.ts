import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { cosine, RRF_K, reciprocalRankFusion } from '../../src/lib/vectors';
import { SearchResultSchema } from '../../src/routes/memories/schemas';
import { TenantSchema } from '../../src/routes/tenants/lifecycle';
import { callWith } from '../helpers/fakes';
import { setEmbeddingDimensions } from '../helpers/fixtures';
import { asMemory, call, createMemory, d1Stats, expectProblem, world } from './helpers';

const recall = (token: string, json: unknown) => call('/v1/memories/search', { method: 'POST', token, json });
async function hits(token: string, json: unknown) {
  const res = await recall(token, json);
  expect(res.status, await res.clone().text()).toBe(200);
  return SearchResultSchema.strict().parse(await res.json());
}
const ids = (r: { data: { memory: { id: string } }[] }) => r.data.map((h) => h.memory.id);

/** A random vector whose numbers are exact float32 values (stored without rounding). */
const randomVector = (dims: number) => Array.from({ length: dims }, () => Math.fround(Math.random() * 2 - 1));

describe('POST /v1/memories/search', () => {
  it('keyword: the question finds its memory at rank 1, as GET does, in one round trip', async () => {
    const w = await world();
    const t = w.tokens.owner;
    const target = await createMemory(t, { content: 'Customer prefers email contact', tags: ['crm'] });
    await createMemory(t, { content: 'The customer asked about the refund method' });
    const q = 'what contact method does the customer prefer?';
    const res = await recall(t, { query: q });
    expect(d1Stats(res)).toMatchObject({ roundTrips: 1, rowsWritten: 0 });
    const body = SearchResultSchema.strict().parse(await res.json());
    expect(body.mode).toBe('keyword');
    expect(body.data[0]!.memory.id).toBe(target.id);
    expect(body.data[0]!.snippet).toContain('<mark>');
    const get = await call(`/v1/memories/search?q=${encodeURIComponent(q)}`, { token: t });
    const getBody = (await get.json()) as { data: { id: string; score: number }[] };
    expect(body.data.map((h) => [h.memory.id, h.score])).toEqual(getBody.data.map((h) => [h.id, h.score]));
    // Filters are the list filters; top_k and min_score cut the list.
    expect(ids(await hits(t, { query: q, filter: { tag: ['crm'] } }))).toEqual([target.id]);
    expect(ids(await hits(t, { query: q, top_k: 1 }))).toEqual([target.id]);
    expect(await hits(t, { query: q, min_score: 1e6 })).toEqual({ data: [], mode: 'keyword' });
  });

  it('subject_id and agent_id filter every mode (keyword by the label index, semantic and hybrid by the scan)', async () => {
    const w = await world();
    const t = w.tokens.owner;
    await setEmbeddingDimensions(w.a.tenant.id, 3);
    const alice = await createMemory(t, {
      content: 'Alice prefers email contact',
      subject_id: 'alice',
      agent_id: 'support-bot',
      embedding: [1, 0, 0],
    });
    const bob = await createMemory(t, {
      content: 'Bob prefers email contact',
      subject_id: 'bob',
      agent_id: 'sales-bot',
      embedding: [1, 0, 0],
    });
    const q = 'email contact';
    expect(ids(await hits(t, { query: q })).sort()).toEqual([alice.id, bob.id].sort());
    for (const mode of ['keyword', 'semantic', 'hybrid'] as const) {
      const body = { query: q, vector: [1, 0, 0], mode };
      expect(ids(await hits(t, { ...body, filter: { subject_id: ['alice'] } })), mode).toEqual([alice.id]);
      expect(ids(await hits(t, { ...body, filter: { agent_id: ['sales-bot'] } })), mode).toEqual([bob.id]);
      expect(ids(await hits(t, { ...body, filter: { subject_id: ['carol'] } })), mode).toEqual([]);
      expect(ids(await hits(t, { ...body, filter: { subject_id: ['alice', 'bob'] } })).sort(), mode).toEqual(
        [alice.id, bob.id].sort(),
      );
    }
    // Strict like every body: an unknown filter field is a 422.
    await expectProblem(await recall(t, { query: q, filter: { subject: ['alice'] } }), 422, 'validation_failed');
  });

  it('refuses requests it cannot run: no query nor vector, a mode without its input, a bad top_k', async () => {
    const w = await world();
    const t = w.tokens.owner;
    await expectProblem(await recall(t, {}), 422, 'validation_failed');
    await expectProblem(await recall(t, { mode: 'semantic' }), 422, 'validation_failed');
    // No Workers AI binding here: a query alone cannot be embedded.
    const noAi = await expectProblem(await recall(t, { query: 'x', mode: 'semantic' }), 422, 'vector_required');
    expect(noAi.detail).toContain('no Workers AI binding');
    await expectProblem(await recall(t, { query: 'x', mode: 'hybrid' }), 422, 'vector_required');
    await expectProblem(await recall(t, { vector: [1, 2], mode: 'keyword' }), 422, 'validation_failed');
    await expectProblem(await recall(t, { query: 'x', top_k: 101 }), 422, 'validation_failed');
    await expectProblem(
      await recall(t, { query: 'x', filter: { metadata: { 'bad key': 1 } } }),
      422,
      'validation_failed',
    );
    await expectProblem(await recall(t, { query: '"open', syntax: 'fts' }), 400, 'invalid_query');
  });
});

describe('embedding configuration and vectors', () => {
  it('GET/PATCH /v1/tenant show and set it; dimensions are locked while vectors are stored', async () => {
    const w = await world();
    const t = w.tokens.owner;
    const get = async () => TenantSchema.strict().parse(await (await call('/v1/tenant', { token: t })).json());
    expect((await get()).embedding).toEqual({ dimensions: null, model: null });
    const patch = (json: unknown, token = t) => call('/v1/tenant', { method: 'PATCH', token, json });
    await expectProblem(await patch({ embedding: { dimensions: 1, model: null } }), 422, 'validation_failed');
    await expectProblem(await patch({ embedding: { dimensions: 4097, model: null } }), 422, 'validation_failed');
    expect((await patch({ embedding: { dimensions: 3, model: 'm1' } }, w.tokens.member)).status).toBe(403);
    const ok = await patch({ embedding: { dimensions: 3, model: 'text-embedding-3-small' } });
    expect(ok.status).toBe(200);
    expect((await get()).embedding).toEqual({ dimensions: 3, model: 'text-embedding-3-small' });
    const m = await createMemory(t, { content: 'with a vector', embedding: [1, 0, 0] });
    const locked = await expectProblem(
      await patch({ embedding: { dimensions: 4, model: null } }),
      409,
      'embedding_dimensions_locked',
    );
    expect(locked.detail).toContain('"embedding": null');
    // Only the model may change; after removing the vector, the dimensions may too.
    expect((await patch({ embedding: { dimensions: 3, model: 'other' } })).status).toBe(200);
    const cleared = await call(`/v1/memories/${m.id}`, { method: 'PATCH', token: t, json: { embedding: null } });
    expect(asMemory(await cleared.json()).embedding_status).toBeNull();
    expect((await patch({ embedding: { dimensions: 4, model: null } })).status).toBe(200);
  });

  it('422 names the expected and received dimensions; NaN/Infinity, non-numbers and oversized arrays are refused', async () => {
    const w = await world();
    const t = w.tokens.owner;
    const none = await expectProblem(
      await call('/v1/memories', { method: 'POST', token: t, json: { content: 'x', embedding: [1, 2] } }),
      422,
      'validation_failed',
    );
    expect(none.detail).toContain('has 2 dimensions, but the tenant has no embedding configuration');
    await setEmbeddingDimensions(w.a.tenant.id, 3);
    const wrong = await expectProblem(
      await call('/v1/memories/batch', {
        method: 'POST',
        token: t,
        json: {
          memories: [
            { content: 'ok', embedding: [1, 2, 3] },
            { content: 'bad', embedding: [1, 2] },
          ],
        },
      }),
      422,
      'validation_failed',
    );
    expect(wrong.errors).toEqual([
      {
        path: 'json.memories.1.embedding',
        message: "has 2 dimensions; the tenant's embedding configuration expects 3",
      },
    ]);
    const raw = (body: string) =>
      call('/v1/memories', { method: 'POST', token: t, body, headers: { 'content-type': 'application/json' } });
    await expectProblem(await raw('{"content":"x","embedding":[1e999,0,0]}'), 422, 'validation_failed');
    expect((await raw('{"content":"x","embedding":[NaN,0,0]}')).status).toBe(400);
    await expectProblem(await raw('{"content":"x","embedding":["1",0,0]}'), 422, 'validation_failed');
    await expectProblem(
      await call('/v1/memories', {
        method: 'POST',
        token: t,
        json: { content: 'x', embedding: Array(4097).fill(0.5) },
      }),
      422,
      'validation_failed',
    );
    const m = await createMemory(t, { content: 'x' });
    const patched = await expectProblem(
      await call(`/v1/memories/${m.id}`, { method: 'PATCH', token: t, json: { embedding: [1, 2, 3, 4] } }),
      422,
      'validation_failed',
    );
    expect(patched.errors).toEqual([
      { path: 'json.embedding', message: "has 4 dimensions; the tenant's embedding configuration expects 3" },
    ]);
    // Nothing was written by the refused requests.
    const list = (await (await call('/v1/memories', { token: t })).json()) as { data: unknown[] };
    expect(list.data).toHaveLength(1);
    const q = await expectProblem(await recall(t, { vector: [1, 2] }), 422, 'validation_failed');
    expect(q.errors).toEqual([
      { path: 'json.vector', message: "has 2 dimensions; the tenant's embedding configuration expects 3" },
    ]);
  });

  it('a content change without a new vector makes it stale: left out of semantic search until a new vector comes', async () => {
    const w = await world();
    const t = w.tokens.owner;
    await setEmbeddingDimensions(w.a.tenant.id, 2);
    const m = await createMemory(t, { content: 'about cats', embedding: [1, 0] });
    expect(m.embedding_status).toBe('current');
    const other = await createMemory(t, { content: 'about dogs', embedding: [0, 1] });
    expect(ids(await hits(t, { vector: [1, 0.1] }))).toEqual([m.id, other.id]);
    const tags = await call(`/v1/memories/${m.id}`, { method: 'PATCH', token: t, json: { tags: ['x'] } });
    expect(asMemory(await tags.json()).embedding_status).toBe('current');
    const res = await call(`/v1/memories/${m.id}`, { method: 'PATCH', token: t, json: { content: 'about birds' } });
    expect(asMemory(await res.json()).embedding_status).toBe('stale');
    expect(ids(await hits(t, { vector: [1, 0.1] }))).toEqual([other.id]);
    const fresh = await call(`/v1/memories/${m.id}`, {
      method: 'PATCH',
      token: t,
      json: { content: 'about birds', embedding: [1, 0] },
    });
    expect(asMemory(await fresh.json()).embedding_status).toBe('current');
    expect(ids(await hits(t, { vector: [1, 0.1] }))).toEqual([m.id, other.id]);
  });
});

describe('semantic and hybrid search', () => {
  it('exact k-NN: equal to brute force over random vectors', async () => {
    const w = await world();
    const t = w.tokens.owner;
    const dims = 16;
    await setEmbeddingDimensions(w.a.tenant.id, dims);
    const vectors = Array.from({ length: 120 }, () => randomVector(dims));
    const created: string[] = [];
    for (const half of [vectors.slice(0, 60), vectors.slice(60)]) {
      const res = await call('/v1/memories/batch', {
        method: 'POST',
        token: t,
        json: { memories: half.map((embedding) => ({ content: 'memory', embedding })) },
      });
      expect(res.status).toBe(201);
      created.push(...((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id));
    }
    for (let round = 0; round < 5; round++) {
      const q = randomVector(dims);
      const brute = created
        .map((id, i) => ({ id, s: cosine(q, vectors[i]!) }))
        .sort((a, b) => b.s - a.s)
        .slice(0, 10);
      const got = await hits(t, { vector: q, top_k: 10, explain: true });
      expect(got.mode).toBe('semantic');
      expect(ids(got)).toEqual(brute.map((b) => b.id));
      got.data.forEach((h, i) => {
        expect(h.score).toBeCloseTo(brute[i]!.s, 6);
        expect(h.explain).toEqual({
          keyword_rank: null,
          keyword_score: null,
          vector_rank: i + 1,
          vector_score: h.score,
        });
      });
    }
  });

  it('scope, soft delete and tenant hold in semantic and hybrid search', async () => {
    const w = await world();
    await setEmbeddingDimensions(w.a.tenant.id, 2);
    await setEmbeddingDimensions(w.other.tenantId, 2);
    const own = await createMemory(w.tokens.owner, { content: 'owner private apple', embedding: [1, 0] });
    const shared = await createMemory(w.tokens.owner, {
      content: 'global apple',
      embedding: [0.9, 0.1],
      access_scope: 'global',
    });
    const gone = await createMemory(w.tokens.owner, {
      content: 'deleted apple',
      embedding: [1, 0],
      access_scope: 'global',
    });
    await createMemory(w.tokens.other, { content: 'other tenant apple', embedding: [1, 0], access_scope: 'global' });
    expect((await call(`/v1/memories/${gone.id}`, { method: 'DELETE', token: w.tokens.owner })).status).toBe(204);
    for (const mode of ['semantic', 'hybrid'] as const) {
      const body = { query: 'apple', vector: [1, 0], mode };
      expect(ids(await hits(w.tokens.owner, body)).sort()).toEqual([own.id, shared.id].sort());
      expect(ids(await hits(w.tokens.member, body))).toEqual([shared.id]);
      expect(ids(await hits(w.tokens.other, body))).toHaveLength(1);
      expect(ids(await hits(w.tokens.other, body))).not.toContain(shared.id);
    }
  });

  it('hybrid is Reciprocal Rank Fusion (k = 60) of both rankings, with weights', async () => {
    const w = await world();
    const t = w.tokens.owner;
    await setEmbeddingDimensions(w.a.tenant.id, 2);
    const a = await createMemory(t, { content: 'zebra zebra zebra', embedding: [0, 1] });
    const b = await createMemory(t, { content: 'zebra', embedding: [1, 0] });
    const c = await createMemory(t, { content: 'nothing related', embedding: [0.9, 0.2] });
    const body = await hits(t, { query: 'zebra', vector: [1, 0], explain: true });
    expect(body.mode).toBe('hybrid');
    // Default weights: keyword 1, vector 0.5.
    for (const h of body.data) {
      const e = h.explain!;
      const expected =
        (e.keyword_rank ? 1 / (RRF_K + e.keyword_rank) : 0) + (e.vector_rank ? 0.5 / (RRF_K + e.vector_rank) : 0);
      expect(h.score).toBeCloseTo(expected, 12);
    }
    // a is 1st by keyword, 3rd by vector (1/61 + 0.5/63); b 2nd by keyword, 1st by vector (1/62 + 0.5/61);
    // c only by vector (2nd).
    expect(ids(body)).toEqual([a.id, b.id, c.id]);
    const equal = await hits(t, { query: 'zebra', vector: [1, 0], weights: { keyword: 1, vector: 1 } });
    expect(ids(equal)).toEqual([b.id, a.id, c.id]);
    // The vector ranking is fused in its top_k only: with top_k 2, a (3rd by vector) gets nothing from it.
    const two = await hits(t, { query: 'zebra', vector: [1, 0], top_k: 2, explain: true });
    expect(two.data.map((h) => [h.memory.id, h.explain!.vector_rank])).toEqual([
      [b.id, 1],
      [a.id, null],
    ]);
  });

  it('fusion arithmetic', () => {
    const fused = reciprocalRankFusion([1, 2, 3], [3, 4], { keyword: 1, vector: 2 });
    expect(fused.map((f) => f.seq)).toEqual([3, 4, 1, 2]);
    expect(fused[0]!.score).toBeCloseTo(1 / 63 + 2 / 61, 15);
    expect(fused[1]).toEqual({ seq: 4, score: 2 / 62, keyword_rank: null, vector_rank: 2 });
    expect(fused[2]).toEqual({ seq: 1, score: 1 / 61, keyword_rank: 1, vector_rank: null });
  });
});

describe('server-side query embedding (Workers AI, faked)', () => {
  // Workers AI cannot run locally: this fake answers like @cf/baai/bge-small-en-v1.5 does,
  // { shape: [n, dims], data: number[][] }, with a vector per text from the words it holds.
  const DIMS = 4;
  const WORDS = ['cat', 'dog', 'bird', 'fish'];
  const fakeAi = {
    calls: [] as { model: string; text: string[] }[],
    async run(model: string, input: { text: string[] }) {
      if (!Array.isArray(input.text) || input.text.length === 0 || input.text.length > 100)
        throw new Error('AiError: text must be 1–100 strings');
      this.calls.push({ model, text: input.text });
      const data = input.text.map((t) => WORDS.map((w) => (t.toLowerCase().includes(w) ? 1 : 0.01)));
      return { shape: [data.length, DIMS], data };
    },
  };
  const withAi = async (token: string, json: unknown) => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request('https://memoria.test/v1/memories/search', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(json),
      }),
      { ...env, AI: fakeAi },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return res;
  };

  it('embeds the query with the tenant model, in semantic and hybrid mode', async () => {
    const w = await world();
    const t = w.tokens.owner;
    const patch = await callWith({ AI: fakeAi })('/v1/tenant', {
      method: 'PATCH',
      token: t,
      json: { embedding: { dimensions: DIMS, model: '@cf/baai/bge-small-en-v1.5' } },
    });
    expect(patch.status).toBe(200);
    const dog = await createMemory(t, { content: 'the neighbour walks a dog', embedding: [0.01, 1, 0.01, 0.01] });
    const cat = await createMemory(t, { content: 'a cat sleeps', embedding: [1, 0.01, 0.01, 0.01] });
    const res = await withAi(t, { query: 'which pet is a dog?', mode: 'semantic' });
    expect(res.status, await res.clone().text()).toBe(200);
    const body = SearchResultSchema.strict().parse(await res.json());
    expect(ids(body)).toEqual([dog.id, cat.id]);
    expect(fakeAi.calls.at(-1)).toEqual({ model: '@cf/baai/bge-small-en-v1.5', text: ['which pet is a dog?'] });
    const hybrid = SearchResultSchema.strict().parse(await (await withAi(t, { query: 'cat', mode: 'hybrid' })).json());
    expect(hybrid.mode).toBe('hybrid');
    expect(ids(hybrid)[0]).toBe(cat.id);
  });

  it('a tenant model that is not a Workers AI model, or a wrong-sized answer, is a clear problem', async () => {
    const w = await world();
    const t = w.tokens.owner;
    await call('/v1/tenant', {
      method: 'PATCH',
      token: t,
      json: { embedding: { dimensions: 3, model: 'text-embedding-3-small' } },
    });
    await expectProblem(await withAi(t, { query: 'cat', mode: 'semantic' }), 422, 'vector_required');
    await callWith({ AI: fakeAi })('/v1/tenant', {
      method: 'PATCH',
      token: t,
      json: { embedding: { dimensions: 3, model: '@cf/baai/bge-small-en-v1.5' } },
    });
    // The fake answers 4 numbers; the tenant expects 3.
    await expectProblem(await withAi(t, { query: 'cat', mode: 'semantic' }), 502, 'embedding_failed');
  });
});
