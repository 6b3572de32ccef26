import { applyD1Migrations, env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { newId } from '../src/lib/ids';
import { createTenant } from './helpers/fixtures';

const now = Date.now();
const insertMemory = (tenantId: string, userId: string | null, over: Record<string, unknown> = {}) => {
  const row = {
    id: newId('mem'),
    content: 'hello world',
    tags: '[]',
    metadata: '{}',
    importance: 5,
    access_scope: 'private',
    search_doc: '',
    session_id: null,
    ...over,
  };
  return env.DB.prepare(
    'INSERT INTO memories (id, tenant_id, user_id, session_id, content, tags, metadata, importance, access_scope, search_doc, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)',
  )
    .bind(
      row.id,
      tenantId,
      userId,
      row.session_id,
      row.content,
      row.tags,
      row.metadata,
      row.importance,
      row.access_scope,
      row.search_doc,
      now,
    )
    .run()
    .then(() => row.id);
};
const count = async (sql: string, ...params: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>())!.n;
const ftsHits = (token: string) =>
  count('SELECT count(*) AS n FROM memories_fts WHERE memories_fts MATCH ?1', `"${token}"`);

describe('migrations', () => {
  it('re-applying the whole set is a no-op', async () => {
    const before = await count('SELECT count(*) AS n FROM d1_migrations');
    await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
    expect(await count('SELECT count(*) AS n FROM d1_migrations')).toBe(before);
    expect(before).toBe(env.TEST_MIGRATIONS.length);
  });

  it('running every migration file a second time is harmless (guards)', async () => {
    for (const m of env.TEST_MIGRATIONS)
      for (const q of m.queries) {
        // SQLite has no ADD COLUMN IF NOT EXISTS: a second run refuses it and changes nothing.
        if (/^\s*(--[^\n]*\n\s*)*ALTER TABLE \w+ ADD COLUMN/i.test(q))
          await expect(env.DB.prepare(q).run()).rejects.toThrow(/duplicate column/);
        else await env.DB.prepare(q).run();
      }
    expect(await count("SELECT count(*) AS n FROM sqlite_master WHERE name = 'memories_fts'")).toBe(1);
  });

  it('CHECK constraints reject bad plans, importance, scopes and JSON', async () => {
    const { tenant, owner } = await createTenant();
    await expect(
      env.DB.prepare("UPDATE tenants SET plan = 'platinum' WHERE id = ?1").bind(tenant.id).run(),
    ).rejects.toThrow(/CHECK/);
    await expect(insertMemory(tenant.id, owner.id, { importance: 0 })).rejects.toThrow(/CHECK/);
    await expect(insertMemory(tenant.id, owner.id, { importance: 11 })).rejects.toThrow(/CHECK/);
    await expect(insertMemory(tenant.id, null, { access_scope: 'private' })).rejects.toThrow(/CHECK/);
    await expect(insertMemory(tenant.id, owner.id, { access_scope: 'session' })).rejects.toThrow(/CHECK/);
    await expect(insertMemory(tenant.id, owner.id, { tags: '["a",' })).rejects.toThrow(/CHECK/);
    await expect(insertMemory(tenant.id, owner.id, { tags: '{"a":1}' })).rejects.toThrow(/CHECK/);
    await expect(insertMemory(tenant.id, owner.id, { metadata: 'not json' })).rejects.toThrow(/CHECK/);
    await expect(insertMemory(tenant.id, owner.id, { metadata: '[1,2]' })).rejects.toThrow(/CHECK/);
    // and the valid forms are accepted
    await expect(insertMemory(tenant.id, null, { access_scope: 'global', importance: 10 })).resolves.toMatch(/^mem_/);
  });

  it('UNIQUE rejects a duplicate email within a tenant (any case)', async () => {
    const { tenant, owner } = await createTenant();
    await expect(
      env.DB.prepare(
        "INSERT INTO users (id, tenant_id, auth0_id, email, role, created_at, updated_at) VALUES (?1, ?2, 'auth0|dupe', ?3, 'member', 1, 1)",
      )
        .bind(newId('usr'), tenant.id, owner.email.toUpperCase())
        .run(),
    ).rejects.toThrow(/UNIQUE/);
  });

  it('deleting a tenant cascades to users, memories, sessions, audit logs and counters', async () => {
    const { tenant, owner } = await createTenant();
    const sessionId = newId('ses');
    await env.DB.prepare(
      "INSERT INTO sessions (id, tenant_id, user_id, mcp_client_id, created_at, last_activity_at) VALUES (?1, ?2, ?3, 'client', 1, 1)",
    )
      .bind(sessionId, tenant.id, owner.id)
      .run();
    await insertMemory(tenant.id, owner.id, { access_scope: 'session', session_id: sessionId });
    await insertMemory(tenant.id, owner.id, { search_doc: 'cascadetoken' });
    await env.DB.prepare("INSERT INTO usage_daily (tenant_id, day, requests) VALUES (?1, '2026-01-01', 3)")
      .bind(tenant.id)
      .run();
    expect(await count('SELECT count(*) AS n FROM audit_logs WHERE tenant_id = ?1', tenant.id)).toBeGreaterThan(0);

    await env.DB.prepare('DELETE FROM tenants WHERE id = ?1').bind(tenant.id).run();
    for (const table of ['users', 'memories', 'sessions', 'audit_logs', 'subscriptions', 'usage_daily']) {
      expect(await count(`SELECT count(*) AS n FROM ${table} WHERE tenant_id = ?1`, tenant.id), table).toBe(0);
    }
    expect(await ftsHits('cascadetoken')).toBe(0);
  });

  it('keeps the FTS index in sync on insert, content update, soft delete, restore and hard delete', async () => {
    const { tenant, owner } = await createTenant();
    const id = await insertMemory(tenant.id, owner.id, { search_doc: 'alphatoken betatoken' });
    expect(await ftsHits('alphatoken')).toBe(1);

    await env.DB.prepare("UPDATE memories SET search_doc = 'gammatoken betatoken' WHERE id = ?1").bind(id).run();
    expect(await ftsHits('alphatoken')).toBe(0);
    expect(await ftsHits('gammatoken')).toBe(1);
    expect(await ftsHits('betatoken')).toBe(1);

    await env.DB.prepare('UPDATE memories SET deleted_at = 1 WHERE id = ?1').bind(id).run();
    expect(await ftsHits('gammatoken')).toBe(0);
    await env.DB.prepare('UPDATE memories SET deleted_at = NULL WHERE id = ?1').bind(id).run();
    expect(await ftsHits('gammatoken')).toBe(1);

    // a search joins back on memories.seq (the FTS rowid), never on the TEXT id
    const hit = await env.DB.prepare(
      'SELECT m.id FROM memories_fts JOIN memories m ON m.seq = memories_fts.rowid WHERE memories_fts MATCH ?1',
    )
      .bind('"gammatoken"')
      .first<{ id: string }>();
    expect(hit?.id).toBe(id);

    await env.DB.prepare('DELETE FROM memories WHERE id = ?1').bind(id).run();
    expect(await ftsHits('gammatoken')).toBe(0);
    expect(await ftsHits('betatoken')).toBe(0);
  });

  it('keeps tenants.memory_count exact through insert, soft delete, restore and hard delete', async () => {
    const { tenant, owner } = await createTenant();
    const memoryCount = () => count('SELECT memory_count AS n FROM tenants WHERE id = ?1', tenant.id);
    const a = await insertMemory(tenant.id, owner.id);
    await insertMemory(tenant.id, owner.id);
    expect(await memoryCount()).toBe(2);
    await env.DB.prepare('UPDATE memories SET deleted_at = 1 WHERE id = ?1').bind(a).run();
    expect(await memoryCount()).toBe(1);
    await env.DB.prepare('UPDATE memories SET deleted_at = 2 WHERE id = ?1').bind(a).run(); // already deleted: no change
    expect(await memoryCount()).toBe(1);
    await env.DB.prepare('UPDATE memories SET deleted_at = NULL WHERE id = ?1').bind(a).run();
    expect(await memoryCount()).toBe(2);
    await env.DB.prepare('DELETE FROM memories WHERE id = ?1').bind(a).run();
    expect(await memoryCount()).toBe(1);
  });

  it('adds a tag with json_insert: ["a"] + "b" is ["a","b"], never a nested string', async () => {
    const { tenant, owner } = await createTenant();
    const id = await insertMemory(tenant.id, owner.id, { tags: '["a"]' });
    await env.DB.prepare("UPDATE memories SET tags = json_insert(tags, '$[#]', ?2) WHERE id = ?1").bind(id, 'b').run();
    const row = await env.DB.prepare('SELECT tags FROM memories WHERE id = ?1').bind(id).first<{ tags: string }>();
    expect(JSON.parse(row!.tags)).toEqual(['a', 'b']);
  });

  it('makes the audit log append-only while its tenant exists', async () => {
    const { tenant } = await createTenant();
    await expect(
      env.DB.prepare("UPDATE audit_logs SET action = 'x' WHERE tenant_id = ?1").bind(tenant.id).run(),
    ).rejects.toThrow(/append-only/);
    await expect(env.DB.prepare('DELETE FROM audit_logs WHERE tenant_id = ?1').bind(tenant.id).run()).rejects.toThrow(
      /append-only/,
    );
  });
});
