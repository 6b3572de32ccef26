import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { pendingAuth0Id } from '../../src/db/invitations';
import { newId } from '../../src/lib/ids';
import { TENANT_RETENTION_MS } from '../../src/lib/limits';
import { ExportHeaderSchema, ImportLineSchema, ImportReportSchema } from '../../src/routes/data/schemas';
import { MemorySchema, SearchPageSchema } from '../../src/routes/memories/schemas';
import { SessionSchema } from '../../src/routes/sessions/schemas';
import { runMaintenance } from '../../src/scheduled';
import { createTenant, setEmbeddingDimensions } from '../helpers/fixtures';
import { call } from '../helpers/http';
import { expectBody, expectProblem, roundTrips } from '../sessions/helpers';

type Line = { type: string; data: Record<string, any> };
const count = async (sql: string, ...params: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>())!.n;

async function exportOf(token: string) {
  const res = await call('/v1/export', { token });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/x-ndjson');
  const text = await res.text();
  expect(text.endsWith('\n')).toBe(true);
  const [header, ...rows] = text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  return { text, header: ExportHeaderSchema.parse(header), lines: rows.map((l) => ImportLineSchema.parse(l) as Line) };
}

const importChunk = (token: string, body: string, dryRun = false) =>
  call(`/v1/import${dryRun ? '?dry_run=true' : ''}`, {
    method: 'POST',
    token,
    body,
    headers: { 'content-type': 'application/x-ndjson' },
  });

/** A tenant with users (one deleted), live and ended sessions, memories of every scope (one soft-deleted). */
async function sourceTenant() {
  const t = await createTenant('Source');
  await setEmbeddingDimensions(t.tenant.id, 3);
  const token = await t.owner.token();
  const member = await t.addUser('member');
  const gone = newId('usr');
  await env.DB.prepare(
    "INSERT INTO users (id, tenant_id, auth0_id, email, role, kind, created_at, updated_at, deleted_at) VALUES (?1, ?2, ?3, 'gone@example.com', 'member', 'person', 1000, 2000, 3000)",
  )
    .bind(gone, t.tenant.id, `auth0|gone-${crypto.randomUUID()}`)
    .run();
  const live = await expectBody(
    await call('/v1/sessions', {
      method: 'POST',
      token,
      json: { mcp_client_id: 'live-agent', metadata: { a: [1, 2] } },
    }),
    201,
    SessionSchema,
  );
  const ended = await expectBody(
    await call('/v1/sessions', { method: 'POST', token: await member.token(), json: { mcp_client_id: 'ended-agent' } }),
    201,
    SessionSchema,
  );
  const mem = async (tok: string, json: Record<string, unknown>) =>
    expectBody(await call('/v1/memories', { method: 'POST', token: tok, json }), 201, MemorySchema);
  const memories = [
    await mem(token, {
      content: 'Owner prefers quokkaword in the morning',
      tags: ['pref', 'morning'],
      metadata: { app: 'x', n: 1.25 },
      importance: 8,
      source: 'chat',
      embedding: [0.1, -0.123456789012345, 3e-7],
    }),
    await mem(token, { content: 'Company-wide wombatword policy', access_scope: 'global' }),
    await mem(token, { content: 'Scratch numbatword for this session', access_scope: 'session', session_id: live.id }),
    await mem(await member.token(), {
      content: 'Member note in the ended session',
      access_scope: 'session',
      session_id: ended.id,
    }),
    await mem(await member.token(), { content: 'Member private dingoword', tags: ['m'] }),
  ];
  expect((await call(`/v1/sessions/${ended.id}`, { method: 'DELETE', token: await member.token() })).status).toBe(204);
  expect(
    (await call(`/v1/memories/${memories[4]!.id}`, { method: 'DELETE', token: await member.token() })).status,
  ).toBeLessThan(300);
  return { ...t, token, member, gone, live, ended, memories };
}

const byType = (lines: Line[], type: string) => lines.filter((l) => l.type === type).map((l) => l.data);

describe('GET /v1/export', () => {
  it('streams the header with counts, then every row of the tenant, soft-deleted memories and embeddings included', async () => {
    const s = await sourceTenant();
    const other = await sourceTenant(); // must not leak into s's export
    const { header, lines } = await exportOf(s.token);
    const n = (table: string) => count(`SELECT count(*) AS n FROM ${table} WHERE tenant_id = ?1`, s.tenant.id);
    expect(header).toMatchObject({ format: 'memoria.export', version: 1, tenant_id: s.tenant.id });
    expect(header.counts).toEqual({
      users: await n('users'),
      memories: await n('memories'),
      sessions: await n('sessions'),
      audit_logs: await n('audit_logs'),
    });
    expect(header.counts).toMatchObject({ users: 3, memories: 5, sessions: 2 });
    expect(lines[0]).toMatchObject({
      type: 'tenant',
      data: { id: s.tenant.id, name: 'Source', plan: 'free', memory_count: 4 },
    });
    // users, sessions, memories, audit logs, in that order, and exactly the counted rows
    const tables = { user: 'users', session: 'sessions', memory: 'memories', audit_log: 'audit_logs' } as const;
    expect(lines.map((l) => l.type)).toEqual([
      'tenant',
      ...Object.entries(tables).flatMap(([type, table]) => Array(header.counts[table]).fill(type)),
    ]);
    const mems = byType(lines, 'memory');
    expect(mems.map((m) => m.id).sort()).toEqual(s.memories.map((m) => m.id).sort());
    expect(mems.find((m) => m.id === s.memories[4]!.id)!.deleted_at).not.toBeNull();
    expect(mems.find((m) => m.id === s.memories[0]!.id)).toMatchObject({
      embedding: [0.1, -0.123456789012345, 3e-7],
      tags: ['pref', 'morning'],
      metadata: { app: 'x', n: 1.25 },
      source: 'chat',
      importance: 8,
    });
    expect(byType(lines, 'user').map((u) => u.id)).toContain(s.gone);
    const everyId = JSON.stringify(lines);
    for (const m of other.memories) expect(everyId).not.toContain(m.id);
    expect(everyId).not.toContain(other.tenant.id);
  });

  it('pages through more rows than one page holds (keyset, nothing lost or repeated)', async () => {
    const t = await createTenant();
    const now = Date.now();
    // 2,100 memories (> EXPORT_PAGE_ROWS), several sharing a created_at (the keyset tie-breaks on id)
    const stmts = [];
    for (let i = 0; i < 2100; i++) {
      stmts.push(
        env.DB.prepare(
          "INSERT INTO memories (id, tenant_id, user_id, content, access_scope, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 'private', ?5, ?5)",
        ).bind(newId('mem'), t.tenant.id, t.owner.id, `m${i}`, now + Math.floor(i / 7)),
      );
    }
    await env.DB.batch(stmts);
    const { header, lines } = await exportOf(await t.owner.token());
    const mems = byType(lines, 'memory');
    expect(header.counts.memories).toBe(2100);
    expect(mems).toHaveLength(2100);
    expect(new Set(mems.map((m) => m.id)).size).toBe(2100);
  });

  it('is for owners only: an admin gets 403, a token without manage:tenant 403, the first query verifies the caller', async () => {
    const t = await createTenant();
    const admin = await t.addUser('admin');
    await expectProblem(await call('/v1/export', { token: await admin.token() }), 403, 'insufficient_role');
    await expectProblem(
      await call('/v1/export', { token: await t.owner.token({ scopes: ['read:memories'] }) }),
      403,
      'insufficient_scope',
    );
    await expectProblem(await call('/v1/export'), 401, 'invalid_token');
    const res = await call('/v1/export', { token: await t.owner.token() });
    // The verifying first query, then one page per kind (each kind has less than a page of rows).
    expect(roundTrips(res)).toBe(5);
    await res.text();
  });
});

/** Field-by-field comparison of a source export with the export of the tenant it was imported into. */
function expectReproduced(
  src: Line[],
  dst: Line[],
  idMap: Record<string, string>,
  invited: Record<string, string>,
  importedAt: number,
  dstTenant: string,
) {
  const map = (id: string | null) => (id === null ? null : (idMap[id] ?? (id.startsWith('ten_') ? dstTenant : id)));
  const find = (type: string, id: string) => byType(dst, type).find((d) => d.id === idMap[id]);
  for (const u of byType(src, 'user')) {
    // A live person arrives unbound until they accept their invitation.
    const invitation = invited[u.id];
    const auth0_id = invitation ? pendingAuth0Id(invitation) : u.auth0_id;
    expect(find('user', u.id), u.id).toEqual({ ...u, id: idMap[u.id], auth0_id });
  }
  for (const s of byType(src, 'session')) {
    const got = find('session', s.id)!;
    expect(got, s.id).toEqual({ ...s, id: idMap[s.id], user_id: map(s.user_id), expired_at: got.expired_at });
    if (s.expired_at !== null) expect(got.expired_at).toBe(s.expired_at);
    else expect(Date.parse(got.expired_at)).toBeGreaterThanOrEqual(importedAt); // live sessions arrive ended
  }
  for (const m of byType(src, 'memory'))
    expect(find('memory', m.id), m.id).toEqual({
      ...m,
      id: idMap[m.id],
      user_id: map(m.user_id),
      session_id: map(m.session_id),
    });
  for (const a of byType(src, 'audit_log')) {
    expect(find('audit_log', a.id), a.id).toEqual({
      ...a,
      id: idMap[a.id],
      user_id: map(a.user_id),
      resource_id: map(a.resource_id),
    });
  }
}

const chunksOf = (text: string, size: number) => {
  const lines = text.trimEnd().split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i += size) out.push(`${lines.slice(i, i + size).join('\n')}\n`);
  return out;
};

describe('POST /v1/import', () => {
  it('round trip: export → source erased → import in chunks into a fresh tenant reproduces every row, searchable', async () => {
    const s = await sourceTenant();
    const exported = await exportOf(s.token);
    // the source is erased (so its identities are free again), then its owner re-imports elsewhere
    await env.DB.prepare('UPDATE tenants SET deleted_at = ?2 WHERE id = ?1')
      .bind(s.tenant.id, Date.now() - TENANT_RETENTION_MS - 1)
      .run();
    await runMaintenance(env, { queryBudget: 1000 });
    expect(await count('SELECT count(*) AS n FROM tenants WHERE id = ?1', s.tenant.id)).toBe(0);

    const dst = await createTenant('Destination');

    await setEmbeddingDimensions(dst.tenant.id, 3);
    const token = await dst.owner.token();
    const idMap: Record<string, string> = {};
    const invited: Record<string, string> = {};
    const started = Date.now();
    const chunks = chunksOf(exported.text, 4);
    for (const chunk of chunks) {
      const report = await expectBody(await importChunk(token, chunk), 200, ImportReportSchema);
      expect(report).toMatchObject({ dry_run: false, valid: true, errors: [], users_mapped_to_importer: [] });
      Object.assign(idMap, report.id_map);
      Object.assign(invited, report.users_invited);
    }
    expect(Object.keys(invited).sort()).toEqual([s.owner.id, s.member.id].sort());
    const after = await exportOf(token);
    // every exported id was mapped to a new one
    const exportedIds = exported.lines.filter((l) => l.type !== 'tenant').map((l) => l.data.id);
    for (const id of exportedIds)
      expect(idMap[id], id).toMatch(new RegExp(`^${id.slice(0, 4)}${id.slice(4, 14)}[0-9A-HJKMNP-TV-Z]{16}$`));
    expectReproduced(exported.lines, after.lines, idMap, invited, started, dst.tenant.id);
    expect(after.header.counts).toEqual({
      users: exported.header.counts.users + 1,
      sessions: exported.header.counts.sessions,
      memories: exported.header.counts.memories,
      audit_logs: exported.header.counts.audit_logs + 1 + chunks.length, // + tenant.create + one tenant.import per chunk
    });
    expect(byType(after.lines, 'tenant')[0]!.memory_count).toBe(4);
    // once the old owner accepts their invitation, their identity works in the new tenant and finds
    // its memory by full-text search
    const accepted = await call(`/v1/invitations/${invited[s.owner.id]}/accept`, {
      method: 'POST',
      token: await s.owner.token(),
    });
    expect(accepted.status, await accepted.clone().text()).toBe(200);
    const hits = await expectBody(
      await call('/v1/memories/search?q=quokkaword', { token: await s.owner.token() }),
      200,
      SearchPageSchema,
    );
    expect(hits.data.map((m) => m.id)).toEqual([idMap[s.memories[0]!.id]]);
    // an audit row per chunk, with the id mapping
    const audit = await env.DB.prepare(
      "SELECT new_values FROM audit_logs WHERE tenant_id = ?1 AND action = 'tenant.import'",
    )
      .bind(dst.tenant.id)
      .all<{ new_values: string }>();
    expect(audit.results).toHaveLength(chunks.length);
    expect(Object.assign({}, ...audit.results.map((r) => JSON.parse(r.new_values).id_map))).toEqual(idMap);
  });

  it('invites persons who are users elsewhere like anyone (no oracle); users of this tenant map to the importer', async () => {
    const s = await sourceTenant();
    const { text } = await exportOf(s.token);
    const dst = await createTenant('Copy');
    await setEmbeddingDimensions(dst.tenant.id, 3);
    const report = await expectBody(await importChunk(await dst.owner.token(), text), 200, ImportReportSchema);
    expect(report.users_mapped_to_importer).toEqual([]);
    expect(Object.keys(report.users_invited).sort()).toEqual([s.owner.id, s.member.id].sort());
    expect(report.created).toMatchObject({ users: 3, sessions: 2, memories: 5 }); // the deleted user is imported as deleted
    // Nobody was moved: the source's owner is still the source's.
    expect(await count('SELECT count(*) AS n FROM users WHERE auth0_id = ?1 AND deleted_at IS NULL', s.owner.sub)).toBe(
      1,
    );

    // Into the source tenant itself: its own users are not created again, their rows go to the importer.
    const again = await expectBody(await importChunk(s.token, text), 200, ImportReportSchema);
    expect(again.users_mapped_to_importer.sort()).toEqual([s.owner.id, s.member.id].sort());
    expect(again.users_invited).toEqual({});
    const copied = Object.values(again.id_map);
    const rows = await env.DB.prepare(
      'SELECT id, user_id, session_id FROM memories WHERE tenant_id = ?1 AND id IN (SELECT value FROM json_each(?2))',
    )
      .bind(s.tenant.id, JSON.stringify(copied))
      .all<{ user_id: string; session_id: string | null }>();
    expect(rows.results).toHaveLength(5);
    expect(new Set(rows.results.map((r) => r.user_id))).toEqual(new Set([s.owner.id]));
    for (const r of rows.results.filter((r) => r.session_id)) {
      expect(
        await count(
          'SELECT count(*) AS n FROM sessions WHERE id = ?1 AND tenant_id = ?2 AND user_id = ?3 AND expired_at IS NOT NULL',
          r.session_id,
          s.tenant.id,
          s.owner.id,
        ),
      ).toBe(1);
    }
  });

  it('dry run reports what would be written and writes nothing', async () => {
    const s = await sourceTenant();
    const { text } = await exportOf(s.token);
    const dst = await createTenant();
    await setEmbeddingDimensions(dst.tenant.id, 3);
    const rows = () =>
      Promise.all(
        ['users', 'sessions', 'memories', 'audit_logs'].map((t) =>
          count(`SELECT count(*) AS n FROM ${t} WHERE tenant_id = ?1`, dst.tenant.id),
        ),
      );
    const before = await rows();
    const res = await importChunk(await dst.owner.token(), text, true);
    const report = await expectBody(res, 200, ImportReportSchema);
    expect(report).toMatchObject({
      dry_run: true,
      valid: true,
      created: { users: 3, sessions: 2, memories: 5 },
      errors: [],
    });
    expect(res.headers.get('server-timing')).toMatch(/rows_written=0"/);
    expect(await rows()).toEqual(before);
  });

  it('a bad line anywhere in a chunk writes nothing of it (422 naming the line); dry run lists every error', async () => {
    const s = await sourceTenant();
    const { text } = await exportOf(s.token);
    const dst = await createTenant();
    await setEmbeddingDimensions(dst.tenant.id, 3);
    const token = await dst.owner.token();
    const lines = text.trimEnd().split('\n');
    const memIndex = lines.findIndex((l) => l.includes('"type":"memory"'));
    const bad = JSON.parse(lines[memIndex]!);
    bad.data.importance = 11;
    lines[memIndex] = JSON.stringify(bad);
    lines.push(
      '{not json',
      JSON.stringify({
        type: 'memory',
        data: { ...bad.data, importance: 5, id: newId('mem'), session_id: newId('ses'), access_scope: 'session' },
      }),
    );
    const body = `${lines.join('\n')}\n`;

    const problem = await expectProblem(await importChunk(token, body), 422, 'import_invalid');
    expect(problem.errors!.map((e) => e.path)).toEqual([
      `line ${memIndex + 1}.data.importance`,
      `line ${lines.length - 1}`,
      `line ${lines.length}.data.session_id`,
    ]);
    for (const t of ['sessions', 'memories'])
      expect(await count(`SELECT count(*) AS n FROM ${t} WHERE tenant_id = ?1`, dst.tenant.id)).toBe(0);
    expect(await count('SELECT count(*) AS n FROM users WHERE tenant_id = ?1', dst.tenant.id)).toBe(1);
    expect(
      await count(
        "SELECT count(*) AS n FROM audit_logs WHERE tenant_id = ?1 AND action = 'tenant.import'",
        dst.tenant.id,
      ),
    ).toBe(0);

    const dry = await expectBody(await importChunk(token, body, true), 200, ImportReportSchema);
    expect(dry.valid).toBe(false);
    expect(dry.errors).toEqual(problem.errors);
  });

  it('refuses lines nested too deep for the database (422 naming the line, never a 500 or a "retry" 409); dry run agrees', async () => {
    const dst = await createTenant();
    await setEmbeddingDimensions(dst.tenant.id, 3);
    const token = await dst.owner.token();
    const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    const memory = (id: string, metadata: string) =>
      `{"type":"memory","data":{"id":"${id}","user_id":null,"session_id":null,"content":"deep","tags":[],"metadata":{"x":${metadata}},"importance":5,` +
      `"access_scope":"global","source":null,"embedding":null,"version":1,"created_at":"2026-01-05T09:30:00.000Z","updated_at":"2026-01-05T09:30:00.000Z","deleted_at":null}}`;
    const body = [
      memory(newId('mem'), nested(1500)), // deeper than SQLite's JSON accepts: its CHECK constraint failed
      `{"type":"memory","data":${nested(200_000)}}`, // the line checker recursed into it: stack overflow, 500
      memory(newId('mem'), nested(3)),
    ].join('\n');
    const problem = await expectProblem(await importChunk(token, body), 422, 'import_invalid');
    expect(problem.errors!.map((e) => e.path)).toEqual(['line 1', 'line 2']);
    const dry = await expectBody(await importChunk(token, body, true), 200, ImportReportSchema);
    expect(dry.valid).toBe(false);
    expect(dry.errors).toEqual(problem.errors);
    expect(await count('SELECT count(*) AS n FROM memories WHERE tenant_id = ?1', dst.tenant.id)).toBe(0);
  });

  it('holds import lines to the API limits on metadata: 20 levels deep, 16 KiB for a session', async () => {
    const dst = await createTenant();
    await setEmbeddingDimensions(dst.tenant.id, 3);
    const token = await dst.owner.token();
    const at = '2026-01-05T09:30:00.000Z';
    const nested = (depth: number): unknown => (depth === 0 ? 1 : [nested(depth - 1)]);
    const memory = (metadata: unknown) =>
      JSON.stringify({
        type: 'memory',
        data: {
          id: newId('mem'),
          user_id: null,
          session_id: null,
          content: 'deep',
          tags: [],
          metadata,
          importance: 5,
          access_scope: 'global',
          source: null,
          embedding: null,
          version: 1,
          created_at: at,
          updated_at: at,
          deleted_at: null,
        },
      });
    const session = (metadata: unknown) =>
      JSON.stringify({
        type: 'session',
        data: {
          id: newId('ses'),
          user_id: dst.owner.id,
          mcp_client_id: 'c',
          metadata,
          created_at: at,
          last_activity_at: at,
          expired_at: at,
        },
      });
    const body = [
      memory({ x: nested(20) }), // 21 levels: the API refuses it (422), so must the import
      session({ big: 'x'.repeat(17 * 1024) }), // over the API's 16 KiB for session metadata
      memory({ x: nested(19) }), // 20 levels: fine
    ].join('\n');
    const problem = await expectProblem(await importChunk(token, body), 422, 'import_invalid');
    expect(problem.errors!.map((e) => e.path)).toEqual(['line 1.data.metadata', 'line 2.data.metadata']);
    const dry = await expectBody(await importChunk(token, body, true), 200, ImportReportSchema);
    expect(dry).toMatchObject({ valid: false, errors: problem.errors });
    expect(await count('SELECT count(*) AS n FROM memories WHERE tenant_id = ?1', dst.tenant.id)).toBe(0);
  });

  it('refuses a chunk that repeats an id (422 naming the repeat): the dry run must not promise rows the import then drops', async () => {
    const dst = await createTenant();
    await setEmbeddingDimensions(dst.tenant.id, 3);
    const token = await dst.owner.token();
    const userId = newId('usr');
    const memId = newId('mem');
    const at = '2026-01-05T09:30:00.000Z';
    const user = (sub: string) =>
      JSON.stringify({
        type: 'user',
        data: {
          id: userId,
          auth0_id: sub,
          email: `${crypto.randomUUID().slice(0, 8)}@example.com`,
          name: null,
          role: 'member',
          kind: 'person',
          created_at: at,
          updated_at: at,
          deleted_at: null,
        },
      });
    const memory = (content: string) =>
      JSON.stringify({
        type: 'memory',
        data: {
          id: memId,
          user_id: userId,
          session_id: null,
          content,
          tags: [],
          metadata: {},
          importance: 5,
          access_scope: 'global',
          source: null,
          embedding: null,
          version: 1,
          created_at: at,
          updated_at: at,
          deleted_at: null,
        },
      });
    const body = [
      user(`auth0|a-${crypto.randomUUID()}`),
      user(`auth0|b-${crypto.randomUUID()}`),
      memory('first'),
      memory('second'),
    ].join('\n');
    const problem = await expectProblem(await importChunk(token, body), 422, 'import_invalid');
    expect(problem.errors!.map((e) => e.path)).toEqual(['line 2.data.id', 'line 4.data.id']);
    const dry = await expectBody(await importChunk(token, body, true), 200, ImportReportSchema);
    expect(dry).toMatchObject({ valid: false, errors: problem.errors });
    for (const t of ['memories', 'users'])
      expect(await count(`SELECT count(*) AS n FROM ${t} WHERE tenant_id = ?1`, dst.tenant.id)).toBe(
        t === 'users' ? 1 : 0,
      );
  });

  it('re-sending a chunk writes nothing twice', async () => {
    const s = await sourceTenant();
    const { text } = await exportOf(s.token);
    const dst = await createTenant();
    await setEmbeddingDimensions(dst.tenant.id, 3);
    const token = await dst.owner.token();
    const first = await expectBody(await importChunk(token, text), 200, ImportReportSchema);
    const again = await expectBody(await importChunk(token, text), 200, ImportReportSchema);
    expect(again.created).toEqual({ users: 0, sessions: 0, memories: 0, audit_logs: 0 });
    expect(again.skipped.existing).toBe(
      first.created.users + first.created.sessions + first.created.memories + first.created.audit_logs,
    );
    expect(again.id_map).toEqual(first.id_map);
    expect(await count('SELECT count(*) AS n FROM memories WHERE tenant_id = ?1', dst.tenant.id)).toBe(5);
  });

  it("enforces the plan's memory quota for the whole chunk (403, nothing written)", async () => {
    const s = await sourceTenant();
    const { text } = await exportOf(s.token);
    const dst = await createTenant();
    await setEmbeddingDimensions(dst.tenant.id, 3);
    await env.DB.prepare('UPDATE tenants SET memory_count = 998 WHERE id = ?1').bind(dst.tenant.id).run(); // free plan: 1,000
    await expectProblem(await importChunk(await dst.owner.token(), text), 403, 'quota_exceeded');
    expect(await count('SELECT count(*) AS n FROM memories WHERE tenant_id = ?1', dst.tenant.id)).toBe(0);
  });

  it('refuses non-owners, JSON bodies, unknown formats and oversized chunks', async () => {
    const t = await createTenant();
    const admin = await t.addUser('admin');
    const token = await t.owner.token();
    const line = JSON.stringify({
      format: 'memoria.export',
      version: 1,
      tenant_id: t.tenant.id,
      exported_at: new Date().toISOString(),
      counts: { users: 0, memories: 0, sessions: 0, audit_logs: 0 },
    });
    await expectProblem(await importChunk(await admin.token(), line), 403, 'insufficient_role');
    await expectProblem(
      await call('/v1/import', { method: 'POST', token, json: { type: 'user' } }),
      415,
      'unsupported_media_type',
    );
    const v2 = await expectProblem(
      await importChunk(token, line.replace('"version":1', '"version":2')),
      422,
      'import_invalid',
    );
    expect(v2.errors![0]!.path).toBe('line 1');
    await expectProblem(await importChunk(token, 'x'.repeat(4 * 1024 * 1024 + 1)), 413, 'payload_too_large');
    const ok = await expectBody(await importChunk(token, line), 200, ImportReportSchema);
    expect(ok.skipped.ignored).toBe(1);
    expect(
      await count(
        "SELECT count(*) AS n FROM audit_logs WHERE tenant_id = ?1 AND action = 'tenant.import'",
        t.tenant.id,
      ),
    ).toBe(0); // nothing written, nothing audited
  });
});

describe('POST /v1/import: vectors', () => {
  it("imports a memory's vector as searchable, and refuses one that does not fit the tenant's dimensions", async () => {
    const src = await sourceTenant();
    // Global, so the importer sees it: the source's owner arrives as a person who has not joined.
    await env.DB.prepare("UPDATE memories SET access_scope = 'global' WHERE id = ?1").bind(src.memories[0]!.id).run();
    const body = (await exportOf(src.token)).text;
    const dst = await createTenant();
    const token = await dst.owner.token();
    const refused = await expectProblem(await importChunk(token, body), 422, 'import_invalid');
    expect(refused.errors?.[0]?.message).toContain('has 3 dimensions, but the tenant has no embedding configuration');
    await setEmbeddingDimensions(dst.tenant.id, 3);
    expect((await importChunk(token, body)).status).toBe(200);
    const res = await call('/v1/memories/search', {
      method: 'POST',
      token,
      json: { vector: [0.1, -0.123456789012345, 3e-7], top_k: 1 },
    });
    const hits = (await res.json()) as { data: { memory: { content: string; embedding_status: string } }[] };
    expect(hits.data.map((h) => [h.memory.content, h.memory.embedding_status])).toEqual([
      ['Owner prefers quokkaword in the morning', 'current'],
    ]);
  });
});
