import { describe, expect, it } from 'vitest';
import { setEmbeddingDimensions } from '../helpers/fixtures';
import { asMemory, asPage, call, createMemory, d1Stats, world } from './helpers';

describe('memories CRUD: happy path', () => {
  it('creates a memory with defaults, ETag and Location, then gets it', async () => {
    const w = await world();
    const res = await call('/v1/memories', {
      method: 'POST',
      token: w.tokens.owner,
      json: { content: 'The user prefers dark mode.' },
    });
    expect(res.status).toBe(201);
    const m = asMemory(await res.json());
    expect(m).toMatchObject({
      user_id: w.owner.id,
      session_id: null,
      content: 'The user prefers dark mode.',
      tags: [],
      metadata: {},
      importance: 5,
      access_scope: 'private',
      source: null,
      version: 1,
      deleted_at: null,
    });
    expect(m.embedding).toBeUndefined();
    expect(res.headers.get('etag')).toBe(`"${m.id}-v1"`);
    expect(res.headers.get('location')).toBe(`/v1/memories/${m.id}`);

    const got = await call(`/v1/memories/${m.id}`, { token: w.tokens.owner });
    expect(got.status).toBe(200);
    expect(asMemory(await got.json())).toEqual(m);
    expect(got.headers.get('etag')).toBe(`"${m.id}-v1"`);
    expect(d1Stats(got)).toMatchObject({ roundTrips: 1, rowsWritten: 0 });
    const same = await call(`/v1/memories/${m.id}`, {
      token: w.tokens.owner,
      headers: { 'if-none-match': `"${m.id}-v1"` },
    });
    expect(same.status).toBe(304);
    expect(await same.text()).toBe('');
    const stale = await call(`/v1/memories/${m.id}`, {
      token: w.tokens.owner,
      headers: { 'if-none-match': `"${m.id}-v0"` },
    });
    expect(stale.status).toBe(200);
    // RFC 9110 §13.1.2: `*` matches any current representation; a list matches if any member does.
    const any = await call(`/v1/memories/${m.id}`, { token: w.tokens.owner, headers: { 'if-none-match': '*' } });
    expect(any.status).toBe(304);
    expect(any.headers.get('etag')).toBe(`"${m.id}-v1"`);
    const list = await call(`/v1/memories/${m.id}`, {
      token: w.tokens.owner,
      headers: { 'if-none-match': `"${m.id}-v0", W/"${m.id}-v1"` },
    });
    expect(list.status).toBe(304);
  });

  it('stores every field, de-duplicates tags and returns the embedding only on request', async () => {
    const w = await world();
    await setEmbeddingDimensions(w.a.tenant.id, 3);
    const m = await createMemory(w.tokens.owner, {
      content: 'Flight to Lisbon on May 3',
      tags: ['travel', 'family', 'travel'],
      metadata: { trip: 'lisbon', n: 2, ok: true, nested: { a: [1, 2] } },
      importance: 9,
      access_scope: 'global',
      source: 'email',
      embedding: [0.1, -0.25, 3],
    });
    expect(m).toMatchObject({
      tags: ['travel', 'family'],
      metadata: { trip: 'lisbon', n: 2, ok: true, nested: { a: [1, 2] } },
      importance: 9,
      access_scope: 'global',
      source: 'email',
    });
    const plain = asMemory(await (await call(`/v1/memories/${m.id}`, { token: w.tokens.owner })).json());
    expect(plain.embedding).toBeUndefined();
    const withEmb = asMemory(
      await (await call(`/v1/memories/${m.id}?include=embedding`, { token: w.tokens.owner })).json(),
    );
    expect(withEmb.embedding).toEqual([0.1, -0.25, 3]);
  });

  it('creates in one round trip once the caller is known', async () => {
    const w = await world();
    await createMemory(w.tokens.owner);
    const res = await call('/v1/memories', { method: 'POST', token: w.tokens.owner, json: { content: 'second' } });
    expect(res.status).toBe(201);
    expect(d1Stats(res).roundTrips).toBe(1);
  });

  it('lists newest first in one round trip without writes', async () => {
    const w = await world();
    const a = await createMemory(w.tokens.owner, { content: 'one' });
    const b = await createMemory(w.tokens.owner, { content: 'two' });
    const res = await call('/v1/memories', { token: w.tokens.owner });
    expect(res.status).toBe(200);
    const page = asPage(await res.json());
    expect(page.data.map((m) => m.id)).toEqual([b.id, a.id]);
    expect(page.next_cursor).toBeNull();
    expect(d1Stats(res)).toMatchObject({ roundTrips: 1, rowsWritten: 0 });
  });
});
