import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { BulkDeleteResultSchema } from '../../src/routes/memories/schemas';
import { setPlan } from '../helpers/fixtures';
import { call, createMemory, expectProblem, memoryCount, world } from '../memories/helpers';

const bulk = async (token: string, json: Record<string, unknown>) =>
  call('/v1/memories/bulk-delete', { method: 'POST', token, json });
const ok = async (res: Response) => {
  expect(res.status, await res.clone().text()).toBe(200);
  return BulkDeleteResultSchema.strict().parse(await res.json());
};
const rows = (tenantId: string) =>
  env.DB.prepare('SELECT id, subject_id, deleted_at FROM memories WHERE tenant_id = ?1')
    .bind(tenantId)
    .all<{ id: string; subject_id: string | null; deleted_at: number | null }>()
    .then((r) => r.results);
const auditFor = (tenantId: string, action: string) =>
  env.DB.prepare('SELECT resource_id, request_id FROM audit_logs WHERE tenant_id = ?1 AND action = ?2')
    .bind(tenantId, action)
    .all<{ resource_id: string; request_id: string }>()
    .then((r) => r.results);

describe('bulk delete by filter', () => {
  it('forgets an end user: dry run counts, purge deletes every one of their memories with an audit row each', async () => {
    const w = await world();
    const alice = [
      await createMemory(w.tokens.owner, { subject_id: 'alice' }),
      await createMemory(w.tokens.member, { subject_id: 'alice' }), // private to the member: purge reaches it too
      await createMemory(w.tokens.owner, { subject_id: 'alice' }),
    ];
    await call(`/v1/memories/${alice[2]!.id}`, { method: 'DELETE', token: w.tokens.owner }); // soft-deleted ones go too
    const bob = await createMemory(w.tokens.owner, { subject_id: 'bob' });
    const otherAlice = await createMemory(w.tokens.other, { subject_id: 'alice' });

    expect(
      await ok(await bulk(w.tokens.owner, { filter: { subject_id: ['alice'] }, mode: 'purge', dry_run: true })),
    ).toEqual({
      matched: 3,
      deleted: 0,
      remaining: true,
    });
    expect((await rows(w.a.tenant.id)).length).toBe(4);

    expect(await ok(await bulk(w.tokens.owner, { filter: { subject_id: ['alice'] }, mode: 'purge' }))).toEqual({
      matched: 3,
      deleted: 3,
      remaining: false,
    });
    expect((await rows(w.a.tenant.id)).map((r) => r.id)).toEqual([bob.id]);
    expect((await rows(w.other.tenantId)).map((r) => r.id)).toEqual([otherAlice.id]);
    const audit = await auditFor(w.a.tenant.id, 'memory.purge');
    expect(audit.map((a) => a.resource_id).sort()).toEqual(alice.map((m) => m.id).sort());
    expect(new Set(audit.map((a) => a.request_id)).size).toBe(1);
    expect(await memoryCount(w.a.tenant.id)).toEqual({ n: 1, live: 1 });
    expect(await ok(await bulk(w.tokens.owner, { filter: { subject_id: ['alice'] }, mode: 'purge' }))).toEqual({
      matched: 0,
      deleted: 0,
      remaining: false,
    });
  });

  it('deletes at most 1,000 per call, atomically; the caller repeats while remaining', async () => {
    const w = await world();
    await setPlan(w.a.tenant.id, 'pro');
    const memories = Array.from({ length: 100 }, (_, i) => ({ content: `bulk ${i}`, agent_id: 'crawler' }));
    for (let i = 0; i < 11; i++)
      expect(
        (await call('/v1/memories/batch', { method: 'POST', token: w.tokens.owner, json: { memories } })).status,
      ).toBe(201);
    await createMemory(w.tokens.owner, { agent_id: 'keeper' });
    const first = await ok(await bulk(w.tokens.owner, { filter: { agent_id: ['crawler'] }, mode: 'soft' }));
    expect(first).toEqual({ matched: 1100, deleted: 1000, remaining: true });
    expect((await rows(w.a.tenant.id)).filter((r) => r.deleted_at !== null)).toHaveLength(1000);
    expect(await auditFor(w.a.tenant.id, 'memory.delete')).toHaveLength(1000);
    const second = await ok(await bulk(w.tokens.owner, { filter: { agent_id: ['crawler'] }, mode: 'soft' }));
    expect(second).toEqual({ matched: 100, deleted: 100, remaining: false });
    expect(await memoryCount(w.a.tenant.id)).toEqual({ n: 1, live: 1 });
    // soft-deleted memories can be restored one by one, and their version history has the pre-delete state
    const [one] = (await rows(w.a.tenant.id)).filter((r) => r.deleted_at !== null);
    expect((await call(`/v1/memories/${one!.id}/restore`, { method: 'POST', token: w.tokens.owner })).status).toBe(200);
  });

  it('a member deletes only what they could delete one by one; purge and the whole tenant need owner or admin', async () => {
    const w = await world();
    const ownersPrivate = await createMemory(w.tokens.owner, { subject_id: 'carol' });
    const shared = await createMemory(w.tokens.owner, { subject_id: 'carol', access_scope: 'global' });
    const mine = await createMemory(w.tokens.member, { subject_id: 'carol' });

    expect(await ok(await bulk(w.tokens.member, { filter: { subject_id: ['carol'] }, mode: 'soft' }))).toEqual({
      matched: 2,
      deleted: 2,
      remaining: false,
    });
    const state = new Map((await rows(w.a.tenant.id)).map((r) => [r.id, r.deleted_at]));
    expect(state.get(ownersPrivate.id)).toBeNull(); // invisible to the member: untouched
    expect(state.get(shared.id)).not.toBeNull();
    expect(state.get(mine.id)).not.toBeNull();

    await expectProblem(
      await bulk(w.tokens.member, { filter: { subject_id: ['carol'] }, mode: 'purge' }),
      403,
      'insufficient_role',
    );
    await expectProblem(await bulk(w.tokens.member, { filter: {}, all: true, mode: 'soft' }), 403, 'insufficient_role');
    expect((await rows(w.a.tenant.id)).length).toBe(3);
    await expectProblem(await bulk(w.tokens.owner, { filter: {}, mode: 'soft' }), 422, 'validation_failed');
    await expectProblem(
      await bulk(w.tokens.owner, { filter: { subject_id: ['carol'] }, all: true, mode: 'soft' }),
      422,
      'validation_failed',
    );
    await expectProblem(await bulk(w.tokens.owner, { filter: { user: 'x' }, mode: 'soft' }), 422, 'validation_failed');
    await expectProblem(
      await bulk(w.tokens.owner, { filter: { subject_id: ['a'] }, mode: 'soft', deleted: 'only' }),
      422,
      'validation_failed',
    );

    expect(await ok(await bulk(w.tokens.admin, { filter: {}, all: true, mode: 'purge' }))).toEqual({
      matched: 3,
      deleted: 3,
      remaining: false,
    });
    expect(await rows(w.a.tenant.id)).toEqual([]);
    expect((await rows(w.other.tenantId)).length).toBe(0);
  });

  it('racing single deletes: every memory is deleted once, with exactly one audit row, and the count stays exact', async () => {
    const w = await world();
    const memories = Array.from({ length: 30 }, (_, i) => ({
      content: `race ${i}`,
      subject_id: 'dave',
      access_scope: 'global',
    }));
    const created = await call('/v1/memories/batch', { method: 'POST', token: w.tokens.owner, json: { memories } });
    const ids = ((await created.json()) as { data: { id: string }[] }).data.map((m) => m.id);
    const singles = ids.filter((_, i) => i % 3 === 0);
    const results = await Promise.all([
      bulk(w.tokens.owner, { filter: { subject_id: ['dave'] }, mode: 'soft' }),
      ...singles.map((id) => call(`/v1/memories/${id}`, { method: 'DELETE', token: w.tokens.admin })),
      bulk(w.tokens.admin, { filter: { subject_id: ['dave'] }, mode: 'soft' }),
    ]);
    const bulkOutcomes = [await ok(results[0]!), await ok(results.at(-1)!)];
    for (const r of results.slice(1, -1)) expect(r.status).toBe(204);
    const audit = await auditFor(w.a.tenant.id, 'memory.delete');
    expect(audit.map((a) => a.resource_id).sort()).toEqual([...ids].sort());
    // each memory was deleted by exactly one request: the bulk calls' counts plus the singles that won add up
    const bulkRequests = [results[0]!, results.at(-1)!].map((r) => r.headers.get('x-request-id'));
    const bySingles = audit.filter((a) => !bulkRequests.includes(a.request_id));
    expect(bySingles.every((a) => singles.includes(a.resource_id))).toBe(true);
    expect(bulkOutcomes[0]!.deleted + bulkOutcomes[1]!.deleted + bySingles.length).toBe(30);
    expect((await rows(w.a.tenant.id)).every((r) => r.deleted_at !== null)).toBe(true);
    expect(await memoryCount(w.a.tenant.id)).toEqual({ n: 0, live: 0 });
  });
});
