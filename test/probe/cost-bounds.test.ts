// Cost outliers: an audit-log filter reads what its index bounds (not the tenant's whole log), and
// the export's Server-Timing counts the pages it streams.
import { env } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import { newId } from '../../src/lib/ids';
import { EXPORT_PAGE_ROWS } from '../../src/lib/limits';
import { call, d1Stats, world } from '../memories/helpers';

const LOG = 400;

async function fillAuditLog(tenantId: string, userId: string) {
  const now = Date.now();
  const rows = Array.from({ length: LOG }, (_, i) => ({ id: newId('aud', now - i), t: now - i, r: newId('mem') }));
  await env.DB.prepare(
    `INSERT INTO audit_logs (id, tenant_id, user_id, action, resource_type, resource_id, created_at)
     SELECT json_extract(j.value, '$.id'), ?1, ?2, 'session.heartbeat', 'session', json_extract(j.value, '$.r'), json_extract(j.value, '$.t') FROM json_each(?3) j`,
  )
    .bind(tenantId, userId, JSON.stringify(rows))
    .run();
}

describe('cost bounds', () => {
  it(`an audit-log filter that matches nothing reads a handful of rows, not the ${LOG}-row log`, async () => {
    const w = await world();
    await fillAuditLog(w.a.tenant.id, w.owner.id);
    for (const qs of [
      'action=memory.purge',
      'resource_id=mem_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3',
      `user_id=${w.member.id}`,
      'resource_type=subscription',
      'action=memory.purge&since=2020-01-01T00:00:00Z',
      'origin=imported',
    ]) {
      const res = await call(`/v1/audit-logs?${qs}`, { token: w.tokens.owner });
      expect(res.status, qs).toBe(200);
      expect(d1Stats(res).rowsRead, qs).toBeLessThan(20);
    }
  });

  it('export: Server-Timing counts every query, the streamed pages included', async () => {
    const w = await world();
    await fillAuditLog(w.a.tenant.id, w.owner.id);
    const log = vi.spyOn(console, 'log');
    const res = await call('/v1/export', { token: w.tokens.owner });
    await res.text();
    const done = log.mock.calls
      .map((args) => JSON.parse(String(args[0])) as { event?: string; queries?: number })
      .find((e) => e.event === 'export_done');
    log.mockRestore();
    expect(d1Stats(res).roundTrips).toBe(done?.queries);
    // the first query, then per kind (users, sessions, memories, audit logs) its pages of rows
    const auditRows = (await env.DB.prepare('SELECT count(*) AS n FROM audit_logs WHERE tenant_id = ?1')
      .bind(w.a.tenant.id)
      .first<{ n: number }>())!.n;
    const pages = (n: number) => Math.floor(n / EXPORT_PAGE_ROWS) + 1;
    expect(d1Stats(res).roundTrips).toBe(1 + pages(3) + pages(0) + pages(0) + pages(auditRows));
    expect(auditRows).toBeGreaterThan(LOG);
  });
});
