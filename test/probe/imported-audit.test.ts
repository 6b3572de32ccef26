// Imported audit rows are always told apart from the tenant's own trail: marked with the
// importing request, in every response and in the filters.
import { z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { AuditLogSchema } from '../../src/routes/audit-logs';
import { call, createMemory, world } from '../memories/helpers';

const Page = z.object({ data: z.array(AuditLogSchema.strict()), next_cursor: z.string().nullable() }).strict();
const list = async (qs: string, token: string) => {
  const res = await call(`/v1/audit-logs?${qs}`, { token });
  expect(res.status, await res.clone().text()).toBe(200);
  return Page.parse(await res.json()).data;
};

const forged = {
  type: 'audit_log',
  data: {
    id: 'aud_01J9Z3Q4W5E6R7T8Y9V0A1B2C3',
    user_id: null,
    action: 'memory.purge',
    resource_type: 'memory',
    resource_id: 'mem_01J9Z3Q4W5E6R7T8Y9V0A1B2C3',
    old_values: { content: 'never existed here' },
    new_values: null,
    ip: '198.51.100.9',
    user_agent: 'forger',
    request_id: 'req_chosen',
    created_at: '2025-01-01T00:00:00.000Z',
  },
};

describe('imported audit rows', () => {
  it('are marked with the importing request, and filterable by origin', async () => {
    const w = await world();
    await createMemory(w.tokens.owner);
    const res = await call('/v1/import', {
      method: 'POST',
      token: w.tokens.owner,
      body: JSON.stringify(forged),
      headers: { 'content-type': 'application/x-ndjson', 'x-request-id': 'req-the-import' },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const all = await list('limit=100', w.tokens.owner);
    const imported = all.find((r) => r.request_id === 'req_chosen')!;
    expect(imported.imported).toMatchObject({ request_id: 'req-the-import' });
    expect(Date.parse(imported.imported!.imported_at)).toBeGreaterThan(Date.parse('2026-01-01'));
    expect(all.filter((r) => r.imported === null).map((r) => r.action)).toContain('memory.create');

    expect((await list('origin=imported', w.tokens.owner)).map((r) => r.id)).toEqual([imported.id]);
    const native = await list('origin=native&limit=100', w.tokens.owner);
    expect(native.every((r) => r.imported === null)).toBe(true);
    expect(native.map((r) => r.id)).not.toContain(imported.id);
    const one = await call(`/v1/audit-logs/${imported.id}`, { token: w.tokens.owner });
    expect(AuditLogSchema.strict().parse(await one.json()).imported).toEqual(imported.imported);
  });
});
