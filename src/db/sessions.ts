// Every SQL statement on `sessions` (MCP client sessions). A session belongs to its user; owners
// and admins also see (and may end) every session of their tenant, members only their own.
// A session is live while expired_at IS NULL; the cron (src/scheduled.ts) expires idle ones.
import { newId } from '../lib/ids';
import { planLimitSql } from '../lib/plans';
import { toIso } from '../lib/time';
import { auditIdTimePart, auditInsertSql, auditStatement, perRowAuditIdSql, type RequestMeta } from './audit';
import { Binder, prepared } from './binder';
import { withCaller } from './caller';
import { type IdempotencyKey, idempotencyLookup, idempotencyStore, keyIsFreshSql } from './idempotency';

export interface SessionRow {
  id: string;
  tenant_id: string;
  user_id: string;
  mcp_client_id: string;
  metadata: string;
  created_at: number;
  last_activity_at: number;
  expired_at: number | null;
}

export function toSession(row: SessionRow) {
  return {
    id: row.id,
    user_id: row.user_id,
    mcp_client_id: row.mcp_client_id,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    status: row.expired_at === null ? ('active' as const) : ('expired' as const),
    created_at: toIso(row.created_at),
    last_activity_at: toIso(row.last_activity_at),
    expired_at: toIso(row.expired_at),
  };
}

const COLUMNS =
  's.id, s.tenant_id, s.user_id, s.mcp_client_id, s.metadata, s.created_at, s.last_activity_at, s.expired_at';

/** The sessions `s` the caller may see: own ones; every one of the tenant for owners/admins. */
const VISIBLE = `s.tenant_id = (SELECT tenant_id FROM caller)
  AND (s.user_id = (SELECT user_id FROM caller) OR (SELECT role FROM caller) IN ('owner', 'admin'))`;

const RETURNING = 'RETURNING id, tenant_id, user_id, mcp_client_id, metadata, created_at, last_activity_at, expired_at';

/**
 * Opens a session for the caller unless the tenant already has its plan's number of live
 * sessions or the Idempotency-Key was already used (then nothing is written).
 * Results: [lookup, replayed session] when `idem` is given, then [insert (RETURNING), audit, store].
 */
export function createSessionStatements(
  db: D1Database,
  sub: string,
  input: { mcpClientId: string; metadata: Record<string, unknown> },
  meta: RequestMeta,
  now: number,
  idem: IdempotencyKey | null,
) {
  const id = newId('ses', now);
  const b = new Binder(sub);
  const insert = prepared(
    db,
    b,
    withCaller(`INSERT INTO sessions (id, tenant_id, user_id, mcp_client_id, metadata, created_at, last_activity_at)
      SELECT ${b.bind(id)}, c.tenant_id, c.user_id, ${b.bind(input.mcpClientId)}, ${b.bind(JSON.stringify(input.metadata))}, ${b.bind(now)}, ${b.bind(now)}
      FROM caller c JOIN tenants t ON t.id = c.tenant_id
      WHERE (SELECT count(*) FROM sessions l WHERE l.tenant_id = c.tenant_id AND l.expired_at IS NULL) < ${planLimitSql('sessions', 't.plan')}
        AND ${keyIsFreshSql(b, idem)}
      ${RETURNING}`),
  );
  const audit = auditStatement(
    db,
    sub,
    {
      action: 'session.create',
      resourceType: 'session',
      resourceId: id,
      newValues: { mcp_client_id: input.mcpClientId, metadata: input.metadata },
    },
    meta,
    now,
    {
      sql: 'EXISTS (SELECT 1 FROM sessions WHERE id = ?12)',
      params: [id],
    },
  );
  if (!idem) return { id, statements: [insert, audit] };
  const replayed = db
    .prepare(
      withCaller(`SELECT ${COLUMNS} FROM idempotency_keys i, caller c JOIN sessions s ON s.id = json_extract(i.response_body, '$.id') AND s.tenant_id = c.tenant_id
        WHERE i.tenant_id = c.tenant_id AND i.key = ?2 AND i.expires_at > ?3 AND i.request_hash = ?4`),
    )
    .bind(sub, idem.key, idem.now, idem.hash);
  const store = idempotencyStore(
    db,
    sub,
    idem,
    { status: 201, body: JSON.stringify({ id }) },
    (sb) => `EXISTS (SELECT 1 FROM sessions WHERE id = ${sb.bind(id)})`,
  );
  return { id, statements: [idempotencyLookup(db, sub, idem), replayed, insert, audit, store] };
}

export function getSessionStatement(db: D1Database, sub: string, id: string) {
  return db.prepare(withCaller(`SELECT ${COLUMNS} FROM sessions s WHERE s.id = ?2 AND ${VISIBLE}`)).bind(sub, id);
}

export type SessionStatus = 'active' | 'expired' | 'all';

/** One page, newest first, keyset on (created_at, id); fetches limit + 1 rows to know if more follow. */
export function listSessionsStatement(
  db: D1Database,
  sub: string,
  q: { status: SessionStatus; userId?: string; limit: number; after?: [number, string] },
) {
  const where = [VISIBLE];
  if (q.status === 'active') where.push('s.expired_at IS NULL');
  if (q.status === 'expired') where.push('s.expired_at IS NOT NULL');
  where.push('(?2 IS NULL OR s.user_id = ?2)');
  where.push('(?3 IS NULL OR (s.created_at, s.id) < (?3, ?4))');
  return db
    .prepare(
      withCaller(
        `SELECT ${COLUMNS} FROM sessions s WHERE ${where.join(' AND ')} ORDER BY s.created_at DESC, s.id DESC LIMIT ?5`,
      ),
    )
    .bind(sub, q.userId ?? null, q.after?.[0] ?? null, q.after?.[1] ?? null, q.limit + 1);
}

/**
 * Heartbeat: a session idle past the timeout is expired now (with its audit row) instead of being
 * revived; a live one gets last_activity_at = now. Only the session's own user can heartbeat it.
 * Results: [expire, expire audit, heartbeat (RETURNING), heartbeat audit, the session as seen after].
 */
export function heartbeatStatements(
  db: D1Database,
  sub: string,
  id: string,
  meta: RequestMeta,
  now: number,
  idleTimeoutMs: number,
) {
  const own = 'id = ?2 AND user_id = (SELECT user_id FROM caller) AND tenant_id = (SELECT tenant_id FROM caller)';
  return [
    db
      .prepare(
        withCaller(`UPDATE sessions SET expired_at = ?3 WHERE ${own} AND expired_at IS NULL AND last_activity_at < ?4`),
      )
      .bind(sub, id, now, now - idleTimeoutMs),
    auditStatement(
      db,
      sub,
      { action: 'session.expire', resourceType: 'session', resourceId: id, newValues: { reason: 'idle_timeout' } },
      meta,
      now,
      {
        sql: 'EXISTS (SELECT 1 FROM sessions WHERE id = ?12 AND expired_at = ?13 AND user_id = c.user_id)',
        params: [id, now],
      },
    ),
    db
      .prepare(
        withCaller(`UPDATE sessions SET last_activity_at = max(last_activity_at, ?3) WHERE ${own} AND expired_at IS NULL
        ${RETURNING}`),
      )
      .bind(sub, id, now),
    auditStatement(db, sub, { action: 'session.heartbeat', resourceType: 'session', resourceId: id }, meta, now, {
      sql: 'EXISTS (SELECT 1 FROM sessions WHERE id = ?12 AND expired_at IS NULL AND user_id = c.user_id)',
      params: [id],
    }),
    getSessionStatement(db, sub, id),
  ];
}

/** Ends a live session the caller may see. Results: [end (RETURNING), audit, the session as seen after]. */
export function endSessionStatements(db: D1Database, sub: string, id: string, meta: RequestMeta, now: number) {
  return [
    db
      .prepare(
        withCaller(`UPDATE sessions AS s SET expired_at = ?3 WHERE s.id = ?2 AND s.expired_at IS NULL AND ${VISIBLE}
        ${RETURNING}`),
      )
      .bind(sub, id, now),
    auditStatement(db, sub, { action: 'session.end', resourceType: 'session', resourceId: id }, meta, now, {
      sql: 'EXISTS (SELECT 1 FROM sessions WHERE id = ?12 AND tenant_id = c.tenant_id AND expired_at = ?13)',
      params: [id, now],
    }),
    getSessionStatement(db, sub, id),
  ];
}

/** Cron: expires up to `limit` sessions idle since before `cutoff`, each with a system audit row (no user). */
export function expireIdleSessionsStatements(db: D1Database, cutoff: number, now: number, limit: number) {
  const batch = `SELECT id FROM sessions WHERE expired_at IS NULL AND last_activity_at < ?1 ORDER BY last_activity_at, id LIMIT ?2`;
  return [
    db
      .prepare(
        `INSERT INTO audit_logs (id, tenant_id, user_id, action, resource_type, resource_id, old_values, new_values, created_at)
         SELECT ${perRowAuditIdSql('?3')}, s.tenant_id, NULL, 'session.expire', 'session', s.id, NULL,
                json_object('reason', 'idle_timeout', 'user_id', s.user_id), ?4
         FROM sessions s WHERE s.id IN (${batch})`,
      )
      .bind(cutoff, limit, auditIdTimePart(now), now),
    db.prepare(`UPDATE sessions SET expired_at = ?3 WHERE id IN (${batch})`).bind(cutoff, limit, now),
  ];
}

/**
 * Ends every live session of user `userId` (of the caller's tenant) when `guard` (a self-contained
 * SQL condition built with the same binder) holds, with one `session.end` audit row each (reason
 * `user_removed`). Results: [audit, update]. Put them in the batch BEFORE the user's removal, so the
 * guard and the caller lookup still see the state before it (the caller may be removing themselves).
 */
export function endUserSessionsStatements(
  db: D1Database,
  sub: string,
  userId: string,
  meta: RequestMeta,
  now: number,
  guard: (b: Binder) => string,
): D1PreparedStatement[] {
  const a = new Binder(sub);
  const audit = prepared(
    db,
    a,
    withCaller(
      auditInsertSql(
        a,
        {
          action: 'session.end',
          resourceType: 'session',
          resourceIdSql: 's.id',
          oldSql: 'NULL',
          newSql: `json_object('reason', 'user_removed')`,
          idSql: perRowAuditIdSql(a.bind(auditIdTimePart(now))),
        },
        meta,
        now,
        `caller c JOIN sessions s ON s.tenant_id = c.tenant_id AND s.user_id = ${a.bind(userId)} AND s.expired_at IS NULL WHERE ${guard(a)}`,
      ),
    ),
  );
  const u = new Binder(sub);
  const update = prepared(
    db,
    u,
    withCaller(`UPDATE sessions SET expired_at = ${u.bind(now)}
      WHERE tenant_id = (SELECT tenant_id FROM caller) AND user_id = ${u.bind(userId)} AND expired_at IS NULL AND ${guard(u)}`),
  );
  return [audit, update];
}
