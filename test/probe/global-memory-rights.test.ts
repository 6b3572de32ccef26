// Members may edit the content and tags of global memories; only the author or an owner/admin
// may change a memory's scope or delete it.
import { describe, expect, it } from 'vitest';
import { call, createMemory, expectProblem, world } from '../memories/helpers';

describe("a member and someone else's global memory", () => {
  it('may edit content and tags, but not change the scope or delete it (403, nothing changed)', async () => {
    const w = await world();
    const m = await createMemory(w.tokens.owner, { content: 'team fact', access_scope: 'global', tags: ['a'] });
    const edit = await call(`/v1/memories/${m.id}`, {
      method: 'PATCH',
      token: w.tokens.member,
      json: { content: 'edited', tags: ['b'] },
    });
    expect(edit.status, await edit.clone().text()).toBe(200);

    const scope = await call(`/v1/memories/${m.id}`, {
      method: 'PATCH',
      token: w.tokens.member,
      json: { access_scope: 'private' },
    });
    await expectProblem(scope, 403, 'insufficient_role');
    const del = await call(`/v1/memories/${m.id}`, { method: 'DELETE', token: w.tokens.member });
    await expectProblem(del, 403, 'insufficient_role');

    const now = (await (await call(`/v1/memories/${m.id}`, { token: w.tokens.admin })).json()) as Record<
      string,
      unknown
    >;
    expect(now).toMatchObject({ access_scope: 'global', deleted_at: null, content: 'edited', version: 2 });
  });

  it('the author, an admin and an owner may', async () => {
    const w = await world();
    const mine = await createMemory(w.tokens.member, { access_scope: 'global' });
    expect(
      (
        await call(`/v1/memories/${mine.id}`, {
          method: 'PATCH',
          token: w.tokens.member,
          json: { access_scope: 'private' },
        })
      ).status,
    ).toBe(200);
    const byOwner = await createMemory(w.tokens.owner, { access_scope: 'global' });
    expect(
      (
        await call(`/v1/memories/${byOwner.id}`, {
          method: 'PATCH',
          token: w.tokens.admin,
          json: { access_scope: 'private' },
        })
      ).status,
    ).toBe(200);
    const another = await createMemory(w.tokens.member, { access_scope: 'global' });
    expect((await call(`/v1/memories/${another.id}`, { method: 'DELETE', token: w.tokens.admin })).status).toBe(204);
    const last = await createMemory(w.tokens.member, { access_scope: 'global' });
    expect((await call(`/v1/memories/${last.id}`, { method: 'DELETE', token: w.tokens.member })).status).toBe(204);
  });
});
