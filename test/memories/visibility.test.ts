import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { asPage, asSearchPage, call, createMemory, insertSession, world } from './helpers';

type W = Awaited<ReturnType<typeof world>>;

/** What each of owner / member / other tenant can see of a memory the owner wrote. */
async function canSee(_w: W, id: string, word: string, token: string, session?: string) {
  const qs = session ? `session_id=${session}` : '';
  const get = (await call(`/v1/memories/${id}?${qs}`, { token })).status === 200;
  const list = asPage(await (await call(`/v1/memories?limit=100&${qs}`, { token })).json()).data.some(
    (m) => m.id === id,
  );
  const search = asSearchPage(await (await call(`/v1/memories/search?q=${word}&${qs}`, { token })).json()).data.some(
    (m) => m.id === id,
  );
  return { get, list, search };
}
/** Whether `token` can change the memory: tags add, tag remove, patch, delete, restore (each 404 if not). */
async function canChange(id: string, token: string, session?: string) {
  const qs = session ? `?session_id=${session}` : '';
  const statuses = [
    (await call(`/v1/memories/${id}/tags${qs}`, { method: 'POST', token, json: { tags: ['seen'] } })).status,
    (await call(`/v1/memories/${id}/tags/seen${qs}`, { method: 'DELETE', token })).status,
    (await call(`/v1/memories/${id}${qs}`, { method: 'PATCH', token, json: { importance: 6 } })).status,
    (await call(`/v1/memories/${id}${qs}`, { method: 'DELETE', token })).status,
    (await call(`/v1/memories/${id}/restore${qs}`, { method: 'POST', token })).status,
  ];
  expect(new Set(statuses).size === 1 || statuses.every((s) => s !== 404), `mixed ${statuses}`).toBe(true);
  return statuses.includes(404) ? 'no' : statuses.join(',');
}
const ALL = { get: true, list: true, search: true };
const NONE = { get: false, list: false, search: false };

describe('visibility of the three access scopes across two users and two tenants', () => {
  it('private: only its author', async () => {
    const w = await world();
    const m = await createMemory(w.tokens.owner, { content: 'privateword', access_scope: 'private' });
    expect(await canSee(w, m.id, 'privateword', w.tokens.owner)).toEqual(ALL);
    expect(await canSee(w, m.id, 'privateword', w.tokens.member)).toEqual(NONE);
    expect(await canSee(w, m.id, 'privateword', w.tokens.admin)).toEqual(NONE);
    expect(await canSee(w, m.id, 'privateword', w.tokens.other)).toEqual(NONE);
    expect(await canChange(m.id, w.tokens.member)).toBe('no');
    expect(await canChange(m.id, w.tokens.other)).toBe('no');
    expect(await canChange(m.id, w.tokens.owner)).toBe('200,200,200,204,200');
    expect(
      asPage(await (await call(`/v1/memories?user_id=${w.owner.id}`, { token: w.tokens.member })).json()).data,
    ).toEqual([]);
  });

  it('global: everyone in the tenant, nobody outside it', async () => {
    const w = await world();
    const m = await createMemory(w.tokens.owner, { content: 'globalword', access_scope: 'global' });
    for (const t of [w.tokens.owner, w.tokens.member, w.tokens.admin])
      expect(await canSee(w, m.id, 'globalword', t)).toEqual(ALL);
    expect(await canSee(w, m.id, 'globalword', w.tokens.other)).toEqual(NONE);
    expect(await canChange(m.id, w.tokens.other)).toBe('no');
    // A member edits a global memory but may not delete it (its author, owners and admins may).
    expect(await canChange(m.id, w.tokens.member)).toBe('200,200,200,403,200');
    expect(
      asPage(await (await call(`/v1/memories?user_id=${w.owner.id}`, { token: w.tokens.member })).json()).data.map(
        (x) => x.id,
      ),
    ).toEqual([m.id]);
  });

  it('session: only its author, only when the request names the live session', async () => {
    const w = await world();
    const session = await insertSession(w.owner);
    const otherSession = await insertSession(w.owner);
    const membersSession = await insertSession(w.member);
    const m = await createMemory(w.tokens.owner, {
      content: 'sessionword',
      access_scope: 'session',
      session_id: session,
    });
    expect(m.session_id).toBe(session);
    expect(await canSee(w, m.id, 'sessionword', w.tokens.owner)).toEqual(NONE);
    expect(await canSee(w, m.id, 'sessionword', w.tokens.owner, session)).toEqual(ALL);
    expect(await canSee(w, m.id, 'sessionword', w.tokens.owner, otherSession)).toEqual(NONE);
    expect(await canSee(w, m.id, 'sessionword', w.tokens.member, session)).toEqual(NONE);
    expect(await canSee(w, m.id, 'sessionword', w.tokens.member, membersSession)).toEqual(NONE);
    expect(await canSee(w, m.id, 'sessionword', w.tokens.other, session)).toEqual(NONE);
    expect(await canChange(m.id, w.tokens.owner)).toBe('no');
    expect(await canChange(m.id, w.tokens.member, session)).toBe('no');
    expect(await canChange(m.id, w.tokens.other, session)).toBe('no');
    expect(await canChange(m.id, w.tokens.owner, session)).toBe('200,200,200,204,200');
    // Once the session expires, its memories are out of reach.
    await env.DB.prepare('UPDATE sessions SET expired_at = ?2 WHERE id = ?1').bind(session, Date.now()).run();
    expect(await canSee(w, m.id, 'sessionword', w.tokens.owner, session)).toEqual(NONE);
  });

  it("session_id on a list filters to that session's memories", async () => {
    const w = await world();
    const session = await insertSession(w.owner);
    const inSession = await createMemory(w.tokens.owner, { content: 'a', access_scope: 'global', session_id: session });
    const scoped = await createMemory(w.tokens.owner, { content: 'b', access_scope: 'session', session_id: session });
    await createMemory(w.tokens.owner, { content: 'c', access_scope: 'global' });
    const page = asPage(await (await call(`/v1/memories?session_id=${session}`, { token: w.tokens.owner })).json());
    expect(page.data.map((m) => m.id).sort()).toEqual([inSession.id, scoped.id].sort());
    // The member can see the global one of that session, not the session-scoped one.
    const member = asPage(await (await call(`/v1/memories?session_id=${session}`, { token: w.tokens.member })).json());
    expect(member.data.map((m) => m.id)).toEqual([inSession.id]);
  });
});
