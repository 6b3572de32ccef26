// An audit row's values for a memory are shown only to callers who may see that memory now;
// everyone else gets the row with its values redacted (field names kept, content gone).
import { z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { AuditLogSchema } from '../../src/routes/audit-logs';
import { call, createMemory, insertSession, world } from '../memories/helpers';

const Page = z.object({ data: z.array(AuditLogSchema.strict()), next_cursor: z.string().nullable() }).strict();

async function rowsOf(resourceId: string, token: string) {
  const res = await call(`/v1/audit-logs?resource_id=${resourceId}`, { token });
  expect(res.status, await res.clone().text()).toBe(200);
  return Page.parse(await res.json()).data;
}

const SECRET = { ssn: '123-45-6789' };

describe('audit values follow memory visibility', () => {
  it("an admin and the owner see a member's private memory's rows with the values redacted, by list and by id", async () => {
    const w = await world();
    const m = await createMemory(w.tokens.member, { content: 'my secret', metadata: SECRET });
    const patched = await call(`/v1/memories/${m.id}`, {
      method: 'PATCH',
      token: w.tokens.member,
      json: { metadata: { ssn: '987' } },
    });
    expect(patched.status).toBe(200);
    expect((await call(`/v1/memories/${m.id}`, { token: w.tokens.admin })).status).toBe(404);
    for (const token of [w.tokens.admin, w.tokens.owner]) {
      const rows = await rowsOf(m.id, token);
      expect(rows.map((r) => r.action)).toEqual(['memory.update', 'memory.create']);
      for (const r of rows) {
        expect(r.values_redacted).toBe(true);
        expect(JSON.stringify(r)).not.toContain('123-45-6789');
        expect(JSON.stringify(r)).not.toContain('my secret');
        const one = await call(`/v1/audit-logs/${r.id}`, { token });
        expect(AuditLogSchema.strict().parse(await one.json())).toEqual(r);
      }
      expect(rows[0]).toMatchObject({ old_values: { metadata: null }, new_values: { metadata: null } });
      expect(Object.keys(rows[1]!.new_values as object)).toContain('content');
    }
  });

  it("session memories are redacted too; global memories and the caller's own are shown", async () => {
    const w = await world();
    const session = await insertSession(w.member);
    const s = await createMemory(w.tokens.member, {
      content: 'session secret',
      access_scope: 'session',
      session_id: session,
    });
    expect((await rowsOf(s.id, w.tokens.admin))[0]).toMatchObject({
      values_redacted: true,
      new_values: { content: null },
    });

    const g = await createMemory(w.tokens.member, { content: 'team fact', access_scope: 'global', metadata: SECRET });
    expect((await rowsOf(g.id, w.tokens.admin))[0]).toMatchObject({
      values_redacted: false,
      new_values: { content: 'team fact', metadata: SECRET },
    });
    const own = await createMemory(w.tokens.admin, { content: 'admin private' });
    expect((await rowsOf(own.id, w.tokens.admin))[0]).toMatchObject({
      values_redacted: false,
      new_values: { content: 'admin private' },
    });
    // Visibility is decided now: once made private by its author, a global memory's history is redacted for others.
    await call(`/v1/memories/${g.id}`, { method: 'PATCH', token: w.tokens.member, json: { access_scope: 'private' } });
    expect((await rowsOf(g.id, w.tokens.admin)).every((r) => r.values_redacted)).toBe(true);
  });

  it("the owner's export keeps every value", async () => {
    const w = await world();
    const m = await createMemory(w.tokens.member, { content: 'exported secret', metadata: SECRET });
    const text = await (await call('/v1/export', { token: w.tokens.owner })).text();
    const audit = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type?: string; data?: { resource_id?: string; new_values?: unknown } })
      .find((l) => l.type === 'audit_log' && l.data?.resource_id === m.id);
    expect(audit?.data?.new_values).toMatchObject({ content: 'exported secret', metadata: SECRET });
  });
});
