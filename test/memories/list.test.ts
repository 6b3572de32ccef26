import { describe, expect, it } from 'vitest';
import { asPage, call, createMemory, world } from './helpers';

async function walk(path: string, token: string, between?: () => Promise<void>) {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res = await call(`${path}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
    expect(res.status, await res.clone().text()).toBe(200);
    const page = asPage(await res.json());
    ids.push(...page.data.map((m) => m.id));
    cursor = page.next_cursor;
    pages++;
    if (between) await between();
  } while (cursor && pages < 100);
  return ids;
}

describe('listing memories', () => {
  it('walking every page returns each memory exactly once while new ones are written', async () => {
    const w = await world();
    const batch = await call('/v1/memories/batch', {
      method: 'POST',
      token: w.tokens.owner,
      json: { memories: Array.from({ length: 45 }, (_, i) => ({ content: `m${i}`, access_scope: 'global' })) },
    });
    const existing = ((await batch.json()) as { data: { id: string }[] }).data.map((m) => m.id);
    for (let i = 0; i < 5; i++)
      existing.push((await createMemory(w.tokens.member, { content: `single ${i}`, access_scope: 'global' })).id);
    for (const order of ['desc', 'asc']) {
      const added: string[] = [];
      const seen = await walk(`/v1/memories?limit=7&order=${order}`, w.tokens.owner, async () => {
        added.push((await createMemory(w.tokens.member, { content: 'concurrent', access_scope: 'global' })).id);
      });
      expect(new Set(seen).size).toBe(seen.length); // no duplicates
      for (const id of existing) expect(seen).toContain(id); // nothing skipped
      expect(seen.every((id) => existing.includes(id) || added.includes(id))).toBe(true);
      existing.push(...added);
    }
  });

  it('orders by creation time, newest first by default', async () => {
    const w = await world();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push((await createMemory(w.tokens.owner, { content: `n${i}` })).id);
      await new Promise((r) => setTimeout(r, 3)); // distinct created_at
    }
    // A batch shares one created_at and keeps its request order.
    const batch = await call('/v1/memories/batch', {
      method: 'POST',
      token: w.tokens.owner,
      json: { memories: Array.from({ length: 20 }, (_, i) => ({ content: `b${i}` })) },
    });
    ids.push(...((await batch.json()) as { data: { id: string }[] }).data.map((m) => m.id));
    const desc = asPage(await (await call('/v1/memories?limit=100', { token: w.tokens.owner })).json()).data;
    expect(desc.map((m) => m.id)).toEqual([...ids].reverse());
    const asc = asPage(await (await call('/v1/memories?order=asc&limit=100', { token: w.tokens.owner })).json()).data;
    expect(asc.map((m) => m.id)).toEqual(ids);
    for (let i = 1; i < desc.length; i++) expect(desc[i - 1]!.created_at >= desc[i]!.created_at).toBe(true);
  });

  it('filters: tag (all), any_tag, min_importance, access_scope, user_id, created range, metadata, deleted', async () => {
    const w = await world();
    const a = await createMemory(w.tokens.owner, {
      content: 'a',
      tags: ['x', 'y'],
      importance: 9,
      access_scope: 'global',
      metadata: { app: 'crm', n: 3, live: true, ratio: 0.5 },
    });
    const b = await createMemory(w.tokens.owner, {
      content: 'b',
      tags: ['x'],
      importance: 2,
      metadata: { app: 'bot', n: '3' },
    });
    const c = await createMemory(w.tokens.member, {
      content: 'c',
      tags: ['z'],
      importance: 5,
      access_scope: 'global',
      metadata: { app: 'crm', live: false },
    });
    const q = async (qs: string, token = w.tokens.owner) =>
      asPage(await (await call(`/v1/memories?${qs}`, { token })).json())
        .data.map((m) => m.id)
        .sort();
    const sorted = (...xs: { id: string }[]) => xs.map((x) => x.id).sort();
    expect(await q('tag=x')).toEqual(sorted(a, b));
    expect(await q('tag=x&tag=y')).toEqual(sorted(a));
    expect(await q('tag=x&tag=z')).toEqual([]);
    expect(await q('any_tag=y&any_tag=z')).toEqual(sorted(a, c));
    expect(await q('min_importance=5')).toEqual(sorted(a, c));
    expect(await q('access_scope=private')).toEqual(sorted(b));
    expect(await q(`user_id=${w.member.id}`)).toEqual(sorted(c));
    expect(await q('metadata.app=crm')).toEqual(sorted(a, c));
    expect(await q('metadata.app=crm&metadata.live=true')).toEqual(sorted(a));
    expect(await q('metadata.live=false')).toEqual(sorted(c));
    expect(await q('metadata.n=3')).toEqual(sorted(a, b)); // number 3 and text "3"
    expect(await q('metadata.ratio=0.5')).toEqual(sorted(a));
    expect(await q('metadata.missing=1')).toEqual([]);
    expect(await q(`created_after=${encodeURIComponent(a.created_at)}`)).toEqual(
      sorted(...[b, c].filter((m) => m.created_at > a.created_at)),
    );
    expect(await q(`created_before=${encodeURIComponent('2000-01-01T00:00:00Z')}`)).toEqual([]);
    expect(await q(`created_after=${encodeURIComponent('2000-01-01T00:00:00+02:00')}`)).toEqual(sorted(a, b, c));
    await call(`/v1/memories/${b.id}`, { method: 'DELETE', token: w.tokens.owner });
    expect(await q('')).toEqual(sorted(a, c));
    expect(await q('deleted=only')).toEqual(sorted(b));
    expect(await q('deleted=include')).toEqual(sorted(a, b, c));
  });

  it('pages with filters still return each match once', async () => {
    const w = await world();
    const want: string[] = [];
    for (let i = 0; i < 12; i++) {
      const m = await createMemory(w.tokens.owner, { content: `p${i}`, tags: i % 2 ? ['odd'] : ['even'] });
      if (i % 2) want.push(m.id);
    }
    const seen = await walk('/v1/memories?tag=odd&limit=4', w.tokens.owner);
    expect(seen.sort()).toEqual(want.sort());
  });

  it('long filters still page: every next_cursor fits the declared 2,048 characters and is accepted', async () => {
    const w = await world();
    const want = (
      await Promise.all(
        Array.from({ length: 5 }, (_, i) => createMemory(w.tokens.owner, { content: `l${i}`, tags: ['wanted'] })),
      )
    ).map((m) => m.id);
    // 19 more long tags (64 characters each) that match nothing: the query is long, the result is not.
    const longTags = Array.from({ length: 19 }, (_, i) => `${'標'.repeat(60)}${String(i).padStart(4, '0')}`);
    const seen = await walk(
      `/v1/memories?limit=2&any_tag=wanted&${longTags.map((t) => `any_tag=${encodeURIComponent(t)}`).join('&')}`,
      w.tokens.owner,
    );
    expect(seen.sort()).toEqual(want.sort());
  });
});
