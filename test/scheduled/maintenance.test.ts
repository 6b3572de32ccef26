import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { newId } from '../../src/lib/ids';
import { TENANT_RETENTION_MS } from '../../src/lib/limits';
import { searchDoc } from '../../src/lib/search-text';
import { SessionSchema } from '../../src/routes/sessions/schemas';
import { MIN_QUERY_BUDGET, runMaintenance } from '../../src/scheduled';
import { createTenant } from '../helpers/fixtures';
import { call } from '../helpers/http';
import { expectBody } from '../sessions/helpers';

const IDLE_MS = Number(env.SESSION_IDLE_TIMEOUT_MINUTES ?? 60) * 60_000;
const one = async <T>(sql: string, ...params: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...params)
    .first<T>())!;
const count = async (sql: string, ...params: unknown[]) => (await one<{ n: number }>(sql, ...params)).n;

/** Runs the Worker's real `scheduled` export the way the Cron Trigger does. */
async function fireCron(scheduledTime = Date.now()) {
  const controller = createScheduledController({ scheduledTime, cron: '*/5 * * * *' });
  const ctx = createExecutionContext();
  await worker.scheduled(controller, env);
  await waitOnExecutionContext(ctx);
}

async function openSession(token: string) {
  return expectBody(
    await call('/v1/sessions', { method: 'POST', token, json: { mcp_client_id: 'cron-test' } }),
    201,
    SessionSchema,
  );
}
const backdate = (id: string, ms: number) =>
  env.DB.prepare(
    'UPDATE sessions SET created_at = created_at - ?2, last_activity_at = last_activity_at - ?2 WHERE id = ?1',
  )
    .bind(id, ms)
    .run();

describe('scheduled: session expiry', () => {
  it('expires sessions idle longer than the timeout, with a system audit row, and leaves fresh ones live', async () => {
    const { tenant, owner } = await createTenant();
    const token = await owner.token();
    const idle = await openSession(token);
    const fresh = await openSession(token);
    await backdate(idle.id, IDLE_MS + 60_000);
    await backdate(fresh.id, IDLE_MS - 60_000);

    await fireCron();

    const gotIdle = await expectBody(await call(`/v1/sessions/${idle.id}`, { token }), 200, SessionSchema);
    expect(gotIdle.status).toBe('expired');
    const gotFresh = await expectBody(await call(`/v1/sessions/${fresh.id}`, { token }), 200, SessionSchema);
    expect(gotFresh.status).toBe('active');
    const audit = await one<{ id: string; user_id: string | null; new_values: string }>(
      "SELECT id, user_id, new_values FROM audit_logs WHERE tenant_id = ?1 AND resource_id = ?2 AND action = 'session.expire'",
      tenant.id,
      idle.id,
    );
    expect(audit.id).toMatch(/^aud_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(audit.user_id).toBeNull();
    expect(JSON.parse(audit.new_values)).toEqual({ reason: 'idle_timeout', user_id: owner.id });
    // heartbeat on the expired session is refused
    expect((await call(`/v1/sessions/${idle.id}/heartbeat`, { method: 'POST', token })).status).toBe(409);
    // a second run finds nothing more to do for these sessions
    await fireCron();
    expect(
      await count("SELECT count(*) AS n FROM audit_logs WHERE resource_id = ?1 AND action = 'session.expire'", idle.id),
    ).toBe(1);
  });

  it('works in chunks: more idle sessions than a chunk are all expired, each audited once', async () => {
    const { tenant, owner } = await createTenant();
    const token = await owner.token();
    const ids = [];
    for (let i = 0; i < 7; i++) ids.push((await openSession(token)).id);
    for (const id of ids) await backdate(id, IDLE_MS + 1000);
    const report = await runMaintenance(env, { chunkRows: 3 });
    expect(report.sessions_expired).toBeGreaterThanOrEqual(7);
    expect(report.complete).toBe(true);
    expect(
      await count('SELECT count(*) AS n FROM sessions WHERE tenant_id = ?1 AND expired_at IS NULL', tenant.id),
    ).toBe(0);
    expect(
      await count("SELECT count(*) AS n FROM audit_logs WHERE tenant_id = ?1 AND action = 'session.expire'", tenant.id),
    ).toBe(7);
  });
});

describe('scheduled: idempotency keys', () => {
  it('purges expired Idempotency-Key records only', async () => {
    const { tenant } = await createTenant();
    const now = Date.now();
    const put = (key: string, expiresAt: number) =>
      env.DB.prepare(
        "INSERT INTO idempotency_keys (tenant_id, key, request_hash, status, response_body, created_at, expires_at) VALUES (?1, ?2, 'h', 201, '{}', ?3, ?4)",
      )
        .bind(tenant.id, key, now - 1000, expiresAt)
        .run();
    await put('old', now - 1);
    await put('live', now + 3600_000);
    await fireCron(now);
    const keys = await env.DB.prepare('SELECT key FROM idempotency_keys WHERE tenant_id = ?1')
      .bind(tenant.id)
      .all<{ key: string }>();
    expect(keys.results.map((r) => r.key)).toEqual(['live']);
  });
});

/** A tenant with a row in every table it can own, memories indexed for search. */
async function populatedTenant() {
  const t = await createTenant('Doomed');
  const member = await t.addUser('member');
  const now = Date.now();
  const session = await openSession(await member.token());
  const memories: { id: string; content: string }[] = [];
  for (let i = 0; i < 9; i++) {
    const content = `erasure check ${i} zyxwordq${i}`;
    const id = newId('mem');
    const scope = i % 3 === 0 ? 'session' : i % 3 === 1 ? 'private' : 'global';
    await env.DB.prepare(
      `INSERT INTO memories (id, tenant_id, user_id, session_id, content, tags, access_scope, search_doc, created_at, updated_at, deleted_at)
       VALUES (?1, ?2, ?3, ?4, ?5, '["t"]', ?6, ?7, ?8, ?8, ?9)`,
    )
      .bind(
        id,
        t.tenant.id,
        member.id,
        scope === 'session' ? session.id : null,
        content,
        scope,
        searchDoc(t.tenant.id, content, ['t']),
        now,
        i === 4 ? now : null,
      )
      .run();
    memories.push({ id, content });
  }
  await env.DB.prepare("INSERT INTO usage_daily (tenant_id, day, requests) VALUES (?1, '2026-01-01', 3)")
    .bind(t.tenant.id)
    .run();
  await env.DB.prepare(
    "INSERT INTO idempotency_keys (tenant_id, key, request_hash, status, response_body, created_at, expires_at) VALUES (?1, 'k', 'h', 201, '{}', ?2, ?3)",
  )
    .bind(t.tenant.id, now, now + 86_400_000)
    .run();
  return { ...t, member, session, memories };
}

const softDelete = (tenantId: string, deletedAt: number) =>
  env.DB.prepare('UPDATE tenants SET deleted_at = ?2 WHERE id = ?1').bind(tenantId, deletedAt).run();

/** Every table that has a tenant_id column, from the schema itself (so new tables are covered). */
async function tenantTables(): Promise<string[]> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name",
  ).all<{ name: string }>();
  const out: string[] = [];
  for (const { name } of tables.results) {
    const columns = await env.DB.prepare(`PRAGMA table_info("${name}")`).all<{ name: string }>();
    if (columns.results.some((c) => c.name === 'tenant_id')) out.push(name);
  }
  return out;
}

async function rowsOfTenant(tenantId: string) {
  const out: Record<string, number> = {};
  for (const table of await tenantTables())
    out[table] = await count(`SELECT count(*) AS n FROM ${table} WHERE tenant_id = ?1`, tenantId);
  out.tenants = await count('SELECT count(*) AS n FROM tenants WHERE id = ?1', tenantId);
  return out;
}

const ftsHits = (tenantId: string, word: string) =>
  count('SELECT count(*) AS n FROM memories_fts WHERE memories_fts MATCH ?1', `"${searchDoc(tenantId, word)}"`);

describe('scheduled: tenant erasure after the retention period', () => {
  it('leaves zero rows of a purged tenant in every table with a tenant_id, and nothing in the search index', async () => {
    const doomed = await populatedTenant();
    const kept = await populatedTenant(); // deleted, but still within retention
    const live = await populatedTenant();
    const now = Date.now();
    await softDelete(doomed.tenant.id, now - TENANT_RETENTION_MS - 1000);
    await softDelete(kept.tenant.id, now - TENANT_RETENTION_MS + 60_000);

    const tables = await tenantTables();
    expect(tables).toEqual(
      expect.arrayContaining([
        'audit_logs',
        'idempotency_keys',
        'memories',
        'sessions',
        'subscriptions',
        'usage_daily',
        'users',
      ]),
    );
    const before = await rowsOfTenant(doomed.tenant.id);
    for (const table of [
      'audit_logs',
      'memories',
      'sessions',
      'subscriptions',
      'usage_daily',
      'users',
      'idempotency_keys',
      'tenants',
    ])
      expect(before[table], table).toBeGreaterThan(0);
    expect(await ftsHits(doomed.tenant.id, 'zyxwordq1')).toBe(1);

    // small chunks so every table takes several statements
    let report = await runMaintenance(env, { now, chunkRows: 2, queryBudget: 1000 });
    expect(report.complete).toBe(true);
    expect(report.tenants_purged).toContain(doomed.tenant.id);
    expect(report.tenants_purged).not.toContain(kept.tenant.id);

    const after = await rowsOfTenant(doomed.tenant.id);
    expect(
      Object.values(after).every((n) => n === 0),
      JSON.stringify(after),
    ).toBe(true);
    for (let i = 0; i < 9; i++) expect(await ftsHits(doomed.tenant.id, `zyxwordq${i}`)).toBe(0);
    await env.DB.prepare("INSERT INTO memories_fts (memories_fts) VALUES ('integrity-check')").run();

    // the tenant within retention and the live tenant lose nothing
    for (const t of [kept, live]) {
      const rows = await rowsOfTenant(t.tenant.id);
      expect(rows.memories).toBe(9);
      expect(rows.users).toBe(2);
      expect(await ftsHits(t.tenant.id, 'zyxwordq1')).toBe(1);
    }
    report = await runMaintenance(env, { now });
    expect(report.tenants_purged).toEqual([]);
  });

  it('stops at the query budget and finishes the erasure on the next runs', async () => {
    const doomed = await populatedTenant();
    const now = Date.now();
    await softDelete(doomed.tenant.id, now - TENANT_RETENTION_MS - 1);
    const budget = MIN_QUERY_BUDGET; // smaller budgets are raised to this
    const first = await runMaintenance(env, { now, chunkRows: 2, queryBudget: 1 });
    expect(first.complete).toBe(false);
    expect(first.queries).toBe(budget);
    let runs = 1;
    for (let r = first; !r.complete && runs < 20; runs++)
      r = await runMaintenance(env, { now, chunkRows: 2, queryBudget: budget });
    expect(runs).toBeGreaterThan(1);
    expect(runs).toBeLessThan(20);
    expect(Object.values(await rowsOfTenant(doomed.tenant.id)).every((n) => n === 0)).toBe(true);
  });

  it('a tenant restored before its chunks are done keeps what is left', async () => {
    const t = await populatedTenant();
    const now = Date.now();
    await softDelete(t.tenant.id, now - TENANT_RETENTION_MS - 1);
    await runMaintenance(env, { now, chunkRows: 1, queryBudget: MIN_QUERY_BUDGET }); // partial: some memories gone
    await env.DB.prepare('UPDATE tenants SET deleted_at = NULL WHERE id = ?1').bind(t.tenant.id).run();
    const left = await count('SELECT count(*) AS n FROM memories WHERE tenant_id = ?1', t.tenant.id);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(9);
    await runMaintenance(env, { now, chunkRows: 2, queryBudget: 1000 });
    expect(await count('SELECT count(*) AS n FROM memories WHERE tenant_id = ?1', t.tenant.id)).toBe(left);
    expect(await count('SELECT count(*) AS n FROM tenants WHERE id = ?1', t.tenant.id)).toBe(1);
  });
});
