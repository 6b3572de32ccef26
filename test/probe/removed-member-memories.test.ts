// Removing a user soft-deletes their private and session memories in the same batch (audited), so
// nothing keeps occupying quota; the owner sees them, and can restore or purge them.
import { describe, expect, it } from 'vitest';
import { asPage, call, createMemory, expectProblem, insertSession, memoryCount, world } from '../memories/helpers';

describe("a removed member's private and session memories", () => {
  it('leave the quota, are audited, and the owner can list, restore and purge them', async () => {
    const w = await world();
    const session = await insertSession(w.member);
    const privates = [];
    for (let i = 0; i < 3; i++) privates.push(await createMemory(w.tokens.member, { content: `private ${i}` }));
    const inSession = await createMemory(w.tokens.member, {
      content: 'in session',
      access_scope: 'session',
      session_id: session,
    });
    const shared = await createMemory(w.tokens.member, { content: 'shared', access_scope: 'global' });
    expect((await memoryCount(w.a.tenant.id)).n).toBe(5);

    const removed = await call(`/v1/users/${w.member.id}`, { method: 'DELETE', token: w.tokens.owner });
    expect(removed.status, await removed.clone().text()).toBe(204);
    // Only the global memory still counts; the others are soft-deleted with an audit row each.
    expect(await memoryCount(w.a.tenant.id)).toEqual({ n: 1, live: 1 });
    const audit = await call(`/v1/audit-logs?action=memory.delete&user_id=${w.owner.id}`, { token: w.tokens.owner });
    const rows = ((await audit.json()) as { data: { resource_id: string; new_values: Record<string, unknown> }[] })
      .data;
    expect(rows.map((r) => r.resource_id).sort()).toEqual([...privates.map((m) => m.id), inSession.id].sort());
    expect(rows[0]!.new_values).toMatchObject({ reason: 'user_removed' });

    // The owner sees them (and only the owner: an admin does not).
    const list = await call(`/v1/memories?user_id=${w.member.id}&deleted=only`, { token: w.tokens.owner });
    expect(list.status, await list.clone().text()).toBe(200);
    expect(
      asPage(await list.json())
        .data.map((m) => m.id)
        .sort(),
    ).toEqual([...privates.map((m) => m.id), inSession.id].sort());
    expect(
      asPage(await (await call(`/v1/memories?user_id=${w.member.id}&deleted=only`, { token: w.tokens.admin })).json())
        .data,
    ).toEqual([]);
    expect((await call(`/v1/memories/${privates[0]!.id}`, { token: w.tokens.owner })).status).toBe(200);

    // Reversible: restore one (it counts again), purge another for good.
    const restored = await call(`/v1/memories/${privates[0]!.id}/restore`, { method: 'POST', token: w.tokens.owner });
    expect(restored.status, await restored.clone().text()).toBe(200);
    expect((await memoryCount(w.a.tenant.id)).n).toBe(2);
    const purged = await call(`/v1/memories/${privates[1]!.id}?permanent=true`, {
      method: 'DELETE',
      token: w.tokens.owner,
    });
    expect(purged.status).toBe(204);
    await expectProblem(await call(`/v1/memories/${privates[1]!.id}`, { token: w.tokens.owner }), 404, 'not_found');
    expect((await call(`/v1/memories/${shared.id}`, { token: w.tokens.admin })).status).toBe(200);
  });
});
