import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { MemoryVersionPageSchema } from '../../src/routes/memories/schemas';
import { asMemory, call, createMemory, d1Stats, expectProblem, world } from '../memories/helpers';

const versions = async (id: string, token: string, qs = '') => {
  const res = await call(`/v1/memories/${id}/versions${qs}`, { token });
  expect(res.status, await res.clone().text()).toBe(200);
  return MemoryVersionPageSchema.strict().parse(await res.json());
};
const patch = (id: string, token: string, json: Record<string, unknown>, ifMatch?: string) =>
  call(`/v1/memories/${id}`, { method: 'PATCH', token, json, headers: ifMatch ? { 'If-Match': ifMatch } : {} });
const restore = (id: string, version: number, token: string, ifMatch?: string) =>
  call(`/v1/memories/${id}/versions/${version}/restore`, {
    method: 'POST',
    token,
    headers: ifMatch ? { 'If-Match': ifMatch } : {},
  });

describe('version history', () => {
  it('lists earlier versions newest first, paged, with who changed what and how', async () => {
    const w = await world();
    const m = await createMemory(w.tokens.owner, {
      content: 'v1',
      tags: ['a'],
      subject_id: 'alice',
      access_scope: 'global',
      expires_at: '2031-01-01T00:00:00Z',
    });
    expect((await versions(m.id, w.tokens.owner)).data).toEqual([]);
    expect((await patch(m.id, w.tokens.member, { content: 'v2', importance: 9 })).status).toBe(200);
    expect(
      (await call(`/v1/memories/${m.id}/tags`, { method: 'POST', token: w.tokens.owner, json: { tags: ['b'] } }))
        .status,
    ).toBe(200);

    const page = await versions(m.id, w.tokens.owner);
    expect(page.data.map((v) => [v.version, v.content, v.action, v.changed_by])).toEqual([
      [2, 'v2', 'memory.update', w.member.id],
      [1, 'v1', 'memory.create', w.owner.id],
    ]);
    expect(page.data[1]).toMatchObject({
      tags: ['a'],
      importance: 5,
      access_scope: 'global',
      subject_id: 'alice',
      agent_id: null,
      expires_at: '2031-01-01T00:00:00.000Z',
      changed_at: m.created_at,
    });
    const first = await versions(m.id, w.tokens.owner, '?limit=1');
    expect(first.data.map((v) => v.version)).toEqual([2]);
    const second = await versions(m.id, w.tokens.owner, `?limit=1&cursor=${encodeURIComponent(first.next_cursor!)}`);
    expect(second.data.map((v) => v.version)).toEqual([1]);
    expect(second.next_cursor).toBeNull();
    await expectProblem(
      await call(
        `/v1/memories/${m.id}/versions?cursor=${encodeURIComponent(first.next_cursor!)}&session_id=ses_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3`,
        {
          token: w.tokens.owner,
        },
      ),
      400,
      'invalid_cursor',
    );
  });

  it('a change writes its version in the same round trip', async () => {
    const w = await world();
    const m = await createMemory(w.tokens.owner, { content: 'cheap' });
    await call('/v1/memories?limit=1', { token: w.tokens.owner }); // the caller's tenant is known
    const res = await patch(m.id, w.tokens.owner, { content: 'still cheap' });
    expect(res.status).toBe(200);
    expect(d1Stats(res).roundTrips).toBe(1);
  });

  it('restores a version as a new version, and refuses it over a concurrent PATCH (412)', async () => {
    const w = await world();
    const m = await createMemory(w.tokens.owner, { content: 'original', tags: ['x'], subject_id: 's1' });
    const v2 = asMemory(
      await (await patch(m.id, w.tokens.owner, { content: 'edited', tags: ['y'], subject_id: null })).json(),
    );

    // someone else changes it after we read v2: our restore with v2's ETag must not overwrite that
    expect((await patch(m.id, w.tokens.owner, { importance: 8 })).status).toBe(200);
    await expectProblem(await restore(m.id, 1, w.tokens.owner, `"${m.id}-v${v2.version}"`), 412, 'precondition_failed');
    expect((await versions(m.id, w.tokens.owner)).data.map((v) => v.version)).toEqual([2, 1]);

    const res = await restore(m.id, 1, w.tokens.owner, `"${m.id}-v3"`);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get('etag')).toBe(`"${m.id}-v4"`);
    const restored = asMemory(await res.json());
    expect(restored).toMatchObject({ version: 4, content: 'original', tags: ['x'], subject_id: 's1', importance: 5 });
    expect((await versions(m.id, w.tokens.owner)).data.map((v) => [v.version, v.content])).toEqual([
      [3, 'edited'],
      [2, 'edited'],
      [1, 'original'],
    ]);
    // the search text came back with the content
    const hits = (await (await call('/v1/memories/search?q=original', { token: w.tokens.owner })).json()) as {
      data: { id: string }[];
    };
    expect(hits.data.map((h) => h.id)).toEqual([m.id]);
    const audit = await env.DB.prepare(
      "SELECT new_values FROM audit_logs WHERE resource_id = ?1 AND action = 'memory.version_restore'",
    )
      .bind(m.id)
      .first<{ new_values: string }>();
    expect(JSON.parse(audit!.new_values)).toEqual({ restored_version: 1 });

    await expectProblem(await restore(m.id, 99, w.tokens.owner), 404, 'not_found');
    await call(`/v1/memories/${m.id}`, { method: 'DELETE', token: w.tokens.owner });
    await expectProblem(await restore(m.id, 1, w.tokens.owner), 409, 'memory_deleted');
  });

  it('follows the memory: invisible memories have invisible history, a purge leaves none', async () => {
    const w = await world();
    const priv = await createMemory(w.tokens.owner, { content: 'private v1' });
    await patch(priv.id, w.tokens.owner, { content: 'private v2' });
    await expectProblem(await call(`/v1/memories/${priv.id}/versions`, { token: w.tokens.member }), 404, 'not_found');
    await expectProblem(await call(`/v1/memories/${priv.id}/versions`, { token: w.tokens.other }), 404, 'not_found');
    await expectProblem(await restore(priv.id, 1, w.tokens.member), 404, 'not_found');
    await expectProblem(await restore(priv.id, 1, w.tokens.other), 404, 'not_found');
    expect(asMemory(await (await call(`/v1/memories/${priv.id}`, { token: w.tokens.owner })).json()).content).toBe(
      'private v2',
    );

    // soft-deleted: history still readable (like the memory itself)
    await call(`/v1/memories/${priv.id}`, { method: 'DELETE', token: w.tokens.owner });
    expect((await versions(priv.id, w.tokens.owner)).data.map((v) => v.action)).toEqual([
      'memory.update',
      'memory.create',
    ]);
    await call(`/v1/memories/${priv.id}?permanent=true`, { method: 'DELETE', token: w.tokens.owner });
    await expectProblem(await call(`/v1/memories/${priv.id}/versions`, { token: w.tokens.owner }), 404, 'not_found');
    const left = await env.DB.prepare('SELECT count(*) AS n FROM memory_versions WHERE memory_id = ?1')
      .bind(priv.id)
      .first<{ n: number }>();
    expect(left!.n).toBe(0);
  });
});
