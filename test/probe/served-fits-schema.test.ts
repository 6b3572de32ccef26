// Every stored value fits the schema it is served with, whatever the import let in; unknown
// paths are 404 (a trailing slash is another path, not a method the resource lacks).
import { describe, expect, it } from 'vitest';
import { call, expectProblem, world } from '../memories/helpers';

const INT32_MAX = 2 ** 31 - 1;
const T = '2026-01-05T09:30:00.000Z';

const importLines = (token: string, lines: unknown[]) =>
  call('/v1/import', {
    method: 'POST',
    token,
    body: lines.map((l) => JSON.stringify(l)).join('\n'),
    headers: { 'content-type': 'application/x-ndjson' },
  });

const memoryLine = (version: number) => ({
  type: 'memory',
  data: {
    id: 'mem_01J9Z3Q4W5E6R7T8Y9V0A1B2C3',
    user_id: null,
    session_id: null,
    content: 'at the top',
    tags: [],
    metadata: {},
    importance: 5,
    access_scope: 'global',
    source: null,
    embedding: null,
    version,
    created_at: T,
    updated_at: T,
    deleted_at: null,
  },
});

describe('served values fit their schema', () => {
  it('a memory at the largest version refuses one more change (409) instead of serving a version past int32', async () => {
    const w = await world();
    const imported = await importLines(w.tokens.owner, [memoryLine(INT32_MAX)]);
    expect(imported.status, await imported.clone().text()).toBe(200);
    const id = ((await imported.json()) as { id_map: Record<string, string> }).id_map[memoryLine(1).data.id]!;
    for (const [method, path, json] of [
      ['PATCH', `/v1/memories/${id}`, { content: 'one more' }],
      ['POST', `/v1/memories/${id}/tags`, { tags: ['x'] }],
      ['DELETE', `/v1/memories/${id}`, undefined],
    ] as const) {
      const res = await call(path, { method, token: w.tokens.owner, ...(json ? { json } : {}) });
      await expectProblem(res, 409, 'version_exhausted');
    }
    const now = (await (await call(`/v1/memories/${id}`, { token: w.tokens.owner })).json()) as { version: number };
    expect(now.version).toBe(INT32_MAX);
    // The owner can still purge it, and re-create it through its own export's content.
    expect((await call(`/v1/memories/${id}?permanent=true`, { method: 'DELETE', token: w.tokens.owner })).status).toBe(
      204,
    );
  });

  it('an imported audit resource_id longer than the served 64 characters is refused', async () => {
    const w = await world();
    const line = {
      type: 'audit_log',
      data: {
        id: 'aud_01J9Z3Q4W5E6R7T8Y9V0A1B2C3',
        user_id: null,
        action: 'memory.purge',
        resource_type: 'memory',
        resource_id: 'x'.repeat(65),
        old_values: null,
        new_values: null,
        ip: null,
        user_agent: null,
        request_id: null,
        created_at: T,
      },
    };
    const res = await importLines(w.tokens.owner, [line]);
    const body = await expectProblem(res, 422, 'import_invalid');
    expect(body.errors?.[0]?.path).toBe('line 1.data.resource_id');
    const ok = await importLines(w.tokens.owner, [{ ...line, data: { ...line.data, resource_id: 'x'.repeat(64) } }]);
    expect(ok.status, await ok.clone().text()).toBe(200);
  });

  it('a trailing slash is an unknown path (404), not a 405 listing the methods of another path', async () => {
    const w = await world();
    for (const path of ['/v1/memories/', '/v1/users/', '/v1/audit-logs/']) {
      const res = await call(path, { token: w.tokens.owner });
      await expectProblem(res, 404, 'not_found');
      expect(res.headers.get('allow')).toBeNull();
    }
    const wrong = await call('/v1/memories', { method: 'PUT', token: w.tokens.owner, json: {} });
    await expectProblem(wrong, 405, 'method_not_allowed');
  });
});
