import { env } from 'cloudflare:test';
import { z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { AuditLogSchema } from '../../src/routes/audit-logs';
import { setEmbeddingDimensions } from '../helpers/fixtures';
import { call, createMemory, d1Stats, expectProblem, world } from '../memories/helpers';

const Page = z.object({ data: z.array(AuditLogSchema.strict()), next_cursor: z.string().nullable() }).strict();
type Entry = z.infer<typeof AuditLogSchema>;

const redacted = (v: unknown) =>
  v === null || typeof v !== 'object' ? null : Object.fromEntries(Object.keys(v as object).map((k) => [k, null]));

async function list(qs: string, token: string) {
  const res = await call(`/v1/audit-logs?${qs}`, { token });
  expect(res.status, await res.clone().text()).toBe(200);
  return Page.parse(await res.json());
}

describe('audit logs', () => {
  it('records every memory mutation with who, what, old/new values, IP, user agent and request id', async () => {
    const w = await world();
    await setEmbeddingDimensions(w.a.tenant.id, 2);
    const headers = {
      'cf-connecting-ip': '203.0.113.7',
      'user-agent': 'audit-test/1.0',
      'x-request-id': 'req-audit-1',
    };
    const m = await createMemory(
      w.tokens.owner,
      { content: 'v1', tags: ['a'], importance: 4, embedding: [1, 2] },
      headers,
    );
    await call(`/v1/memories/${m.id}`, {
      method: 'PATCH',
      token: w.tokens.owner,
      json: { content: 'v2', metadata: { k: 1 } },
      headers,
    });
    await call(`/v1/memories/${m.id}/tags`, { method: 'POST', token: w.tokens.owner, json: { tags: ['b'] }, headers });
    await call(`/v1/memories/${m.id}/tags/a`, { method: 'DELETE', token: w.tokens.owner, headers });
    await call(`/v1/memories/${m.id}`, { method: 'DELETE', token: w.tokens.owner, headers });
    await call(`/v1/memories/${m.id}/restore`, { method: 'POST', token: w.tokens.owner, headers });
    const beforePurge = await list(`resource_id=${m.id}&limit=100`, w.tokens.owner);
    await call(`/v1/memories/${m.id}?permanent=true`, { method: 'DELETE', token: w.tokens.owner, headers });

    // Once purged, nobody may see the memory: its rows keep the field names, not the values.
    const page = await list(`resource_id=${m.id}&limit=100`, w.tokens.owner);
    expect(page.data.every((e) => e.values_redacted)).toBe(true);
    expect(page.data[0]).toMatchObject({ action: 'memory.purge', old_values: { content: null, tags: null } });
    expect(page.data.slice(1)).toEqual(
      beforePurge.data.map((e) => ({
        ...e,
        old_values: redacted(e.old_values),
        new_values: redacted(e.new_values),
        values_redacted: true,
      })),
    );
    const purgeRow = page.data[0]!;
    beforePurge.data.unshift(purgeRow);
    const byAction = Object.fromEntries(beforePurge.data.map((e) => [e.action, e])) as Record<string, Entry>;
    expect(page.data.map((e) => e.action)).toEqual([
      'memory.purge',
      'memory.restore',
      'memory.delete',
      'memory.tag_remove',
      'memory.tags_add',
      'memory.update',
      'memory.create',
    ]);
    for (const e of page.data)
      expect(e).toMatchObject({
        user_id: w.owner.id,
        resource_type: 'memory',
        resource_id: m.id,
        ip: '203.0.113.7',
        user_agent: 'audit-test/1.0',
        request_id: 'req-audit-1',
      });
    expect(byAction['memory.create']).toMatchObject({
      old_values: null,
      new_values: {
        content: 'v1',
        tags: ['a'],
        metadata: {},
        importance: 4,
        access_scope: 'private',
        session_id: null,
        source: null,
        embedding_dimensions: 2,
      },
    });
    expect(byAction['memory.update']).toMatchObject({
      old_values: { content: 'v1', metadata: {} },
      new_values: { content: 'v2', metadata: { k: 1 } },
    });
    expect(byAction['memory.tags_add']).toMatchObject({
      old_values: { tags: ['a'] },
      new_values: { tags: ['a', 'b'] },
    });
    expect(byAction['memory.tag_remove']).toMatchObject({
      old_values: { tags: ['a', 'b'] },
      new_values: { tags: ['b'] },
    });
    expect(byAction['memory.delete']!.old_values).toEqual({ deleted_at: null });
    expect((byAction['memory.delete']!.new_values as { deleted_at: string }).deleted_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(byAction['memory.restore']!.new_values).toEqual({ deleted_at: null });
    expect(byAction['memory.purge']).toMatchObject({ new_values: null });

    const one = await call(`/v1/audit-logs/${byAction['memory.update']!.id}`, { token: w.tokens.owner });
    expect(one.status).toBe(200);
    expect(AuditLogSchema.strict().parse(await one.json())).toEqual(
      page.data.find((e) => e.action === 'memory.update'),
    );
  });

  it('filters by resource type, action, user and time, and pages newest first', async () => {
    const w = await world();
    for (let i = 0; i < 5; i++) await createMemory(w.tokens.member, { content: `m${i}` });
    const own = await createMemory(w.tokens.owner);
    await call(`/v1/memories/${own.id}`, { method: 'DELETE', token: w.tokens.owner });
    expect((await list('action=memory.delete', w.tokens.admin)).data.map((e) => e.resource_id)).toEqual([own.id]);
    expect((await list(`user_id=${w.member.id}`, w.tokens.owner)).data).toHaveLength(5);
    expect((await list('resource_type=tenant', w.tokens.owner)).data.map((e) => e.action)).toEqual(['tenant.create']);
    expect((await list('since=2999-01-01T00:00:00Z', w.tokens.owner)).data).toEqual([]);
    expect((await list('until=2000-01-01T00:00:00Z', w.tokens.owner)).data).toEqual([]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call(
        `/v1/audit-logs?resource_type=memory&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { token: w.tokens.owner },
      );
      expect(d1Stats(res)).toMatchObject({ roundTrips: 1, rowsWritten: 0 });
      const page = Page.parse(await res.json());
      seen.push(...page.data.map((e) => e.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    expect([...seen].sort().reverse()).toEqual(seen);
  });

  it("owners and admins only; other tenants' entries are 404; bad parameters are 400", async () => {
    const w = await world();
    await createMemory(w.tokens.owner);
    await expectProblem(await call('/v1/audit-logs', { token: w.tokens.member }), 403, 'insufficient_role');
    const entry = (await list('', w.tokens.owner)).data[0]!;
    await expectProblem(await call(`/v1/audit-logs/${entry.id}`, { token: w.tokens.member }), 403, 'insufficient_role');
    await expectProblem(await call(`/v1/audit-logs/${entry.id}`, { token: w.tokens.other }), 404, 'not_found');
    expect((await list('', w.tokens.other)).data.every((e) => e.id !== entry.id)).toBe(true);
    await expectProblem(
      await call('/v1/audit-logs?since=yesterday', { token: w.tokens.owner }),
      400,
      'invalid_parameter',
    );
    await expectProblem(await call('/v1/audit-logs/not-an-id', { token: w.tokens.owner }), 400, 'invalid_parameter');
  });

  it('no route changes or deletes audit rows, and the table refuses it', async () => {
    const w = await world();
    await createMemory(w.tokens.owner);
    const entry = (await list('', w.tokens.owner)).data[0]!;
    for (const method of ['PATCH', 'PUT', 'DELETE']) {
      expect(
        (
          await call(`/v1/audit-logs/${entry.id}`, {
            method,
            token: w.tokens.owner,
            json: method === 'DELETE' ? undefined : {},
          })
        ).status,
      ).toBe(405);
    }
    await expect(env.DB.prepare('DELETE FROM audit_logs WHERE id = ?1').bind(entry.id).run()).rejects.toThrow(
      /append-only/,
    );
    await expect(
      env.DB.prepare("UPDATE audit_logs SET action = 'x' WHERE id = ?1").bind(entry.id).run(),
    ).rejects.toThrow(/append-only/);
  });
});
