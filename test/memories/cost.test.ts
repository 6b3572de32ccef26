import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { searchDoc } from '../../src/lib/search-text';
import { createTenant } from '../helpers/fixtures';
import { call, createMemory, d1Stats } from './helpers';

/** `n` memories for another tenant, with real search text sharing our words. */
async function noisyNeighbour(n: number) {
  const { tenant, owner } = await createTenant('Neighbour');
  const doc = searchDoc(tenant.id, 'shared words about coffee and tea', ['coffee']);
  await env.DB.prepare(
    `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?3)
     INSERT INTO memories (id, tenant_id, user_id, content, tags, access_scope, search_doc, created_at, updated_at)
     SELECT printf('mem_%026d', abs(random()) % 100000000000000000 + i), ?1, ?2, 'shared words about coffee and tea', '["coffee"]', 'global', ?4, ?5 + i, ?5 + i FROM seq`,
  )
    .bind(tenant.id, owner.id, n, doc, Date.now())
    .run();
}

describe("cost of a request depends on the caller's own data, not other tenants'", () => {
  it('get, list, filtered list and search read a handful of rows next to a 3,000-memory neighbour', async () => {
    await noisyNeighbour(3000);
    const { owner } = await createTenant();
    const token = await owner.token();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await createMemory(token, { content: `coffee and tea ${i}`, tags: ['coffee'], metadata: { i } })).id);
    const cases = [
      `/v1/memories/${ids[0]}`,
      '/v1/memories?limit=5',
      '/v1/memories?tag=coffee&limit=5',
      '/v1/memories?metadata.i=3',
      '/v1/memories/search?q=coffee&limit=5',
    ];
    for (const path of cases) {
      const res = await call(path, { token });
      expect(res.status).toBe(200);
      const s = d1Stats(res);
      expect(s.rowsRead, `${path}: ${res.headers.get('server-timing')}`).toBeLessThan(60);
      expect(s.rowsWritten).toBe(0);
    }
  });

  it('patch, tag add/remove, delete, restore and purge read a handful of rows next to a 3,000-memory neighbour', async () => {
    await noisyNeighbour(3000);
    const { owner } = await createTenant();
    const token = await owner.token();
    const { id } = await createMemory(token, { content: 'coffee and tea', tags: ['coffee'] });
    const steps: [string, RequestInit & { json?: unknown }][] = [
      [`/v1/memories/${id}`, { method: 'PATCH', json: { content: 'tea only' } }],
      [`/v1/memories/${id}/tags`, { method: 'POST', json: { tags: ['tea'] } }],
      [`/v1/memories/${id}/tags/coffee`, { method: 'DELETE' }],
      [`/v1/memories/${id}`, { method: 'DELETE' }],
      [`/v1/memories/${id}/restore`, { method: 'POST' }],
      [`/v1/memories/${id}?permanent=true`, { method: 'DELETE' }],
    ];
    for (const [path, init] of steps) {
      const res = await call(path, { token, ...init });
      expect(res.status, `${init.method} ${path}`).toBeLessThan(300);
      const s = d1Stats(res);
      expect(s.roundTrips).toBe(1);
      expect(s.rowsRead, `${init.method} ${path}: ${res.headers.get('server-timing')}`).toBeLessThan(100);
    }
  });
});
