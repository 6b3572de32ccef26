import { planLimitSql } from '../lib/plans';
import { toIso } from '../lib/time';
import { auditInsertSql, auditStatement, type RequestMeta } from './audit';
import { Binder, prepared } from './binder';
import { withCaller, type Role } from './caller';

export interface UserRow {
  id: string;
  tenant_id: string;
  auth0_id: string;
  email: string;
  name: string | null;
  role: Role;
  kind: 'person' | 'service';
  created_at: number;
  updated_at: number;
  deleted_at?: number | null;
}

export function toUser(row: UserRow) {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    auth0_id: row.auth0_id,
    email: row.email,
    name: row.name,
    role: row.role,
    kind: row.kind,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
    deleted_at: toIso(row.deleted_at ?? null),
  };
}

const USER_COLUMNS = 'u.id, u.tenant_id, u.auth0_id, u.email, u.name, u.role, u.kind, u.created_at, u.updated_at, u.deleted_at';
const USER_RETURNING = 'RETURNING id, tenant_id, auth0_id, email, name, role, kind, created_at, updated_at, deleted_at';
/** The fields an admin can change, as the row is before the change (audit old_values). */
const auditSnapshot = (id: string) => `(SELECT json_object('email', email, 'name', name, 'role', role) FROM users WHERE id = ${id})`;
const liveUserCount = `(SELECT COUNT(*) FROM users WHERE tenant_id = c.tenant_id AND deleted_at IS NULL)`;

// Role rules (one SQL source of truth, evaluated inside each write's own transaction):
// owners manage everyone; admins manage members (and themselves) and can only grant `member`;
// members manage no one. The last live owner can be neither demoted nor removed. Each verdict is
// one scalar SELECT returning 'ok' or the refusal code, used three ways in a batch: reported to the
// handler, as the write's WHERE guard, and as the audit row's guard (so all three agree).

/** Why creating a user (params: ?auth0Id ?email ?role) would be refused, or 'ok'. */
function userCreateVerdictSql(p: { auth0Id: string; email: string; role: string }): string {
  return `(SELECT CASE
    WHEN c.user_id IS NULL THEN 'no_caller'
    WHEN NOT (c.role = 'owner' OR (c.role = 'admin' AND ${p.role} = 'member')) THEN 'insufficient_role'
    WHEN EXISTS (SELECT 1 FROM users WHERE auth0_id = ${p.auth0Id} AND deleted_at IS NULL) THEN 'auth0_id_taken'
    WHEN EXISTS (SELECT 1 FROM users WHERE tenant_id = c.tenant_id AND email = ${p.email} AND deleted_at IS NULL) THEN 'email_taken'
    WHEN ${liveUserCount} >= (SELECT ${planLimitSql('users', 'plan')} FROM tenants WHERE id = c.tenant_id) THEN 'quota_exceeded'
    ELSE 'ok' END
  FROM (SELECT 1) LEFT JOIN caller c ON 1)`;
}

/**
 * Why changing (mode 'patch': new role/email, NULL = unchanged) or removing (mode 'delete') user
 * `id` would be refused, or 'ok'. `version` is the If-Match version (NULL = no precondition).
 */
function userChangeVerdictSql(mode: 'patch' | 'delete', p: { id: string; role: string; email: string; version: string }): string {
  const losesOwner = mode === 'delete' ? '1' : `COALESCE(${p.role}, 'owner') != 'owner'`;
  return `(SELECT CASE
    WHEN c.user_id IS NULL THEN 'no_caller'
    WHEN c.role NOT IN ('owner', 'admin') THEN 'insufficient_role'
    WHEN t.id IS NULL THEN 'not_found'
    WHEN c.role = 'admin' AND NOT ((t.role = 'member' OR t.id = c.user_id) AND COALESCE(${p.role}, t.role) IN ('member', t.role)) THEN 'insufficient_role'
    WHEN ${p.version} IS NOT NULL AND t.updated_at != ${p.version} THEN 'precondition_failed'
    WHEN t.role = 'owner' AND ${losesOwner}
         AND (SELECT COUNT(*) FROM users WHERE tenant_id = c.tenant_id AND role = 'owner' AND deleted_at IS NULL) < 2 THEN 'last_owner'
    WHEN ${p.email} IS NOT NULL
         AND EXISTS (SELECT 1 FROM users WHERE tenant_id = c.tenant_id AND email = ${p.email} AND deleted_at IS NULL AND id != t.id) THEN 'email_taken'
    ELSE 'ok' END
  FROM (SELECT 1) LEFT JOIN caller c ON 1
  LEFT JOIN users t ON t.id = ${p.id} AND t.tenant_id = c.tenant_id AND t.deleted_at IS NULL)`;
}

export type UserVerdict =
  | 'ok'
  | 'no_caller'
  | 'insufficient_role'
  | 'not_found'
  | 'precondition_failed'
  | 'last_owner'
  | 'email_taken'
  | 'auth0_id_taken'
  | 'quota_exceeded';

export interface UserListQuery {
  limit: number;
  after: [number, string] | null;
  role?: Role;
  kind?: 'person' | 'service';
  includeDeleted: boolean;
}

/** One page (limit + 1 rows, to detect a next page) of the caller's tenant's users; owner/admin only. */
export function listUsersStatement(db: D1Database, sub: string, q: UserListQuery): D1PreparedStatement {
  return db
    .prepare(
      withCaller(
        `SELECT ${USER_COLUMNS} FROM caller c JOIN users u ON u.tenant_id = c.tenant_id
         WHERE c.role IN ('owner', 'admin') AND (?2 = 1 OR u.deleted_at IS NULL)
           AND (?3 IS NULL OR u.role = ?3) AND (?4 IS NULL OR u.kind = ?4)
           AND (?5 IS NULL OR (u.created_at, u.id) > (?5, ?6))
         ORDER BY u.created_at, u.id LIMIT ?7`,
      ),
    )
    .bind(sub, q.includeDeleted ? 1 : 0, q.role ?? null, q.kind ?? null, q.after?.[0] ?? null, q.after?.[1] ?? null, q.limit + 1);
}

/** A user of the caller's tenant (deleted ones included); owner/admin only. */
export function getUserStatement(db: D1Database, sub: string, id: string): D1PreparedStatement {
  return db
    .prepare(withCaller(`SELECT ${USER_COLUMNS} FROM caller c JOIN users u ON u.tenant_id = c.tenant_id AND u.id = ?2 WHERE c.role IN ('owner', 'admin')`))
    .bind(sub, id);
}

export interface NewUser {
  id: string;
  auth0Id: string;
  email: string;
  name: string | null;
  role: Role;
  kind: 'person' | 'service';
}

/** The audit row of a change to user `id`, with its old values read by SQL, written iff `verdict` is 'ok'. */
function changeAudit(db: D1Database, sub: string, action: string, id: string, newValues: unknown, meta: RequestMeta, now: number, verdict: (b: Binder) => string) {
  const b = new Binder(sub);
  const idSql = b.bind(id);
  const newSql = b.bind(newValues === undefined ? null : JSON.stringify(newValues));
  return prepared(db, b, withCaller(auditInsertSql(b, { action, resourceType: 'user', resourceIdSql: idSql, oldSql: auditSnapshot(idSql), newSql }, meta, now, `caller c WHERE ${verdict(b)} = 'ok'`)));
}

// Each write below is [verdict, audit row, write … RETURNING]: the audit row and the write are
// both guarded by the same verdict, evaluated on the state before the write.

/** Creates a user; writes only when the verdict is 'ok'. */
export function createUserStatements(db: D1Database, sub: string, user: NewUser, meta: RequestMeta, now: number): D1PreparedStatement[] {
  const verdict = userCreateVerdictSql({ auth0Id: '?2', email: '?3', role: '?4' });
  const fields = { auth0_id: user.auth0Id, email: user.email, name: user.name, role: user.role, kind: user.kind };
  return [
    db.prepare(withCaller(`SELECT ${verdict} AS verdict`)).bind(sub, user.auth0Id, user.email, user.role),
    auditStatement(db, sub, { action: 'user.create', resourceType: 'user', resourceId: user.id, newValues: fields }, meta, now, {
      sql: `${userCreateVerdictSql({ auth0Id: '?12', email: '?13', role: '?14' })} = 'ok'`,
      params: [user.auth0Id, user.email, user.role],
    }),
    db
      .prepare(
        withCaller(
          `INSERT INTO users (id, tenant_id, auth0_id, email, name, role, kind, created_at, updated_at)
           SELECT ?5, c.tenant_id, ?2, ?3, ?6, ?4, ?7, ?8, ?8 FROM caller c WHERE ${verdict} = 'ok'
           ${USER_RETURNING}`,
        ),
      )
      .bind(sub, user.auth0Id, user.email, user.role, user.id, user.name, user.kind, now),
  ];
}

export interface UserPatch {
  role?: Role;
  email?: string;
  /** undefined = unchanged, null = cleared */
  name?: string | null;
}

/** Changes user `id`. Every update moves updated_at strictly forward: it is the ETag version. */
export function updateUserStatements(
  db: D1Database,
  sub: string,
  id: string,
  patch: UserPatch,
  version: number | null,
  meta: RequestMeta,
  now: number,
): D1PreparedStatement[] {
  const verdict = userChangeVerdictSql('patch', { id: '?2', role: '?3', email: '?4', version: '?5' });
  return [
    db.prepare(withCaller(`SELECT ${verdict} AS verdict`)).bind(sub, id, patch.role ?? null, patch.email ?? null, version),
    changeAudit(db, sub, 'user.update', id, patch, meta, now, (b) =>
      userChangeVerdictSql('patch', { id: b.bind(id), role: b.bind(patch.role), email: b.bind(patch.email), version: b.bind(version) }),
    ),
    db
      .prepare(
        withCaller(
          `UPDATE users SET role = COALESCE(?3, role), email = COALESCE(?4, email), name = CASE WHEN ?6 = 1 THEN ?7 ELSE name END,
             updated_at = MAX(?8, updated_at + 1)
           WHERE id = ?2 AND ${verdict} = 'ok'
           ${USER_RETURNING}`,
        ),
      )
      .bind(sub, id, patch.role ?? null, patch.email ?? null, version, patch.name !== undefined ? 1 : 0, patch.name ?? null, now),
  ];
}

/** Soft-deletes user `id`; their tokens stop working with this commit (the caller CTE skips them). */
export function deleteUserStatements(db: D1Database, sub: string, id: string, version: number | null, meta: RequestMeta, now: number): D1PreparedStatement[] {
  const verdict = userChangeVerdictSql('delete', { id: '?2', role: 'NULL', email: 'NULL', version: '?3' });
  return [
    db.prepare(withCaller(`SELECT ${verdict} AS verdict`)).bind(sub, id, version),
    changeAudit(db, sub, 'user.delete', id, undefined, meta, now, (b) => userChangeVerdictSql('delete', { id: b.bind(id), role: 'NULL', email: 'NULL', version: b.bind(version) })),
    db
      .prepare(
        withCaller(
          `UPDATE users SET deleted_at = ?4, updated_at = MAX(?4, updated_at + 1)
           WHERE id = ?2 AND ${verdict} = 'ok'
           ${USER_RETURNING}`,
        ),
      )
      .bind(sub, id, version, now),
  ];
}
