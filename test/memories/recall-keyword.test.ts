import { describe, expect, it } from 'vitest';
import { createTenant } from '../helpers/fixtures';
import { asSearchPage, call, createMemory, d1Stats, world } from './helpers';

const QUESTION = 'what contact method does the customer prefer?';

async function getSearch(token: string, qs: string) {
  const res = await call(`/v1/memories/search?${qs}`, { token });
  expect(res.status, await res.clone().text()).toBe(200);
  return asSearchPage(await res.json()).data;
}

describe('keyword search understands questions', () => {
  it('a query of the most words searched (64) is answered, ranked, on GET and POST alike', async () => {
    const w = await world();
    const t = w.tokens.owner;
    const words = Array.from({ length: 70 }, (_, i) => `word${i}x`);
    const target = await createMemory(t, { content: `${words[0]} ${words[63]} and more` });
    const other = await createMemory(t, { content: `${words[1]} only` });
    // Beyond the 64th word nothing is searched.
    await createMemory(t, { content: `${words[69]} only` });
    const q = encodeURIComponent(words.join(' '));
    expect((await getSearch(t, `q=${q}`)).map((h) => h.id)).toEqual([target.id, other.id]);
    const post = await call('/v1/memories/search', { method: 'POST', token: t, json: { query: words.join(' ') } });
    expect(post.status, await post.clone().text()).toBe(200);
  });

  it('finds the memory a question asks about at rank 1 with the defaults (any word, stop words dropped)', async () => {
    const w = await world();
    const t = w.tokens.owner;
    const target = await createMemory(t, { content: 'Customer prefers email contact' });
    await createMemory(t, { content: 'The customer asked what the refund method does' });
    await createMemory(t, { content: 'Dark mode is on' });
    const hits = await getSearch(t, `q=${encodeURIComponent(QUESTION)}`);
    expect(hits[0]?.id).toBe(target.id);
    expect(hits[0]?.snippet).toContain('<mark>contact</mark>');
    // "what", "does" and "the" are not searched: a memory holding only them is not a hit.
    const onlyStop = await createMemory(t, { content: 'what does the' });
    expect((await getSearch(t, `q=${encodeURIComponent(QUESTION)}`)).map((h) => h.id)).not.toContain(onlyStop.id);
    // A query of stop words only still searches them.
    expect((await getSearch(t, 'q=what%20does%20the')).map((h) => h.id)).toContain(onlyStop.id);
    // match=all still demands every (non-stop) word.
    expect(await getSearch(t, `q=${encodeURIComponent(QUESTION)}&match=all`)).toEqual([]);
    expect((await getSearch(t, 'q=customer%20email&match=all')).map((h) => h.id)).toEqual([target.id]);
  });

  it('ranks a memory holding more and rarer words first', async () => {
    const w = await world();
    const t = w.tokens.owner;
    for (let i = 0; i < 6; i++) await createMemory(t, { content: `common note ${i}` });
    const rare = await createMemory(t, { content: 'common zebra' });
    const both = await createMemory(t, { content: 'common zebra giraffe' });
    const hits = await getSearch(t, 'q=common%20zebra%20giraffe');
    expect(hits.slice(0, 2).map((h) => h.id)).toEqual([both.id, rare.id]);
    expect(hits).toHaveLength(8);
    const scores = hits.map((h) => h.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(scores.every((s) => s > 0)).toBe(true);
  });

  it('scores do not move when another tenant writes (tenant-local BM25)', async () => {
    const w = await world();
    const t = w.tokens.owner;
    await createMemory(t, { content: 'alpha beta gamma' });
    await createMemory(t, { content: 'alpha delta' });
    await createMemory(t, { content: 'epsilon' });
    const before = await getSearch(t, 'q=alpha%20gamma');
    const noisy = await createTenant('Noisy neighbour');
    const nt = await noisy.owner.token();
    const res = await call('/v1/memories/batch', {
      method: 'POST',
      token: nt,
      json: {
        memories: Array.from({ length: 100 }, (_, i) => ({ content: `alpha ${'long text '.repeat(i % 7)} ${i}` })),
      },
    });
    expect(res.status).toBe(201);
    const after = await getSearch(t, 'q=alpha%20gamma');
    expect(after.map((h) => [h.id, h.score])).toEqual(before.map((h) => [h.id, h.score]));
    // The tenant's own writes do change them (the statistic is real, not a constant).
    await createMemory(t, { content: 'gamma again' });
    const own = await getSearch(t, 'q=alpha%20gamma');
    expect(own.find((h) => h.id === before[0]!.id)!.score).not.toBe(before[0]!.score);
  });

  it('stays one round trip and reads a few rows per candidate', async () => {
    const w = await world();
    const t = w.tokens.owner;
    await call('/v1/memories/batch', {
      method: 'POST',
      token: t,
      json: { memories: Array.from({ length: 50 }, (_, i) => ({ content: `needle hay ${i}` })) },
    });
    // Unrelated memories of the same tenant are never read.
    await call('/v1/memories/batch', {
      method: 'POST',
      token: t,
      json: { memories: Array.from({ length: 100 }, (_, i) => ({ content: `other words ${i}` })) },
    });
    for (const q of ['where is the needle', 'needle hay']) {
      const res = await call(`/v1/memories/search?q=${encodeURIComponent(q)}`, { token: t });
      expect(res.status).toBe(200);
      const stats = d1Stats(res);
      expect(stats).toMatchObject({ roundTrips: 1, rowsWritten: 0 });
      // A few rows per candidate (its index entry, its row, the ranking) plus the caller: 50 candidates per word here.
      expect(stats.rowsRead, q).toBeLessThan(7 * 50 * q.split(' ').length);
    }
  });
});
