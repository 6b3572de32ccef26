import { planLimitSql } from '../lib/plans';
import { toIso } from '../lib/time';
import { auditInsertSql, type RequestMeta } from './audit';
import { Binder, prepared } from './binder';
import { type Role, withCaller } from './caller';
import { type IdempotencyKey, keyIsFreshSql } from './idempotency';
import { removedUserMemoriesStatements } from './memories';
import { endUserSessionsStatements } from './sessions';

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

const USER_COLUMNS =
  'u.id, u.tenant_id, u.auth0_id, u.email, u.name, u.role, u.kind, u.created_at, u.updated_at, u.deleted_at';
const USER_RETURNING = 'RETURNING id, tenant_id, auth0_id, email, name, role, kind, created_at, updated_at, deleted_at';
/** The fields an admin can change, as the row is before the change (audit old_values). */
const auditSnapshot = (id: string) =>
  `(SELECT json_object('email', email, 'name', name, 'role', role) FROM users WHERE id = ${id})`;
const liveUserCount = `(SELECT COUNT(*) FROM users WHERE tenant_id = c.tenant_id AND deleted_at IS NULL)`;

// Role rules (one SQL source of truth, evaluated inside each write's own transaction):
// owners manage everyone; admins manage members (and themselves) and can only grant `member`;
// members manage no one. The last live owner can be neither demoted nor removed. Each verdict is
// one scalar SELECT returning 'ok' or the refusal code, used three ways in a batch: reported to the
// handler, as the write's WHERE guard, and as the audit row's guard (so all three agree).

/** Why creating a user (SQL operands) would be refused, or 'ok'. */
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
 * `id` would be refused, or 'ok'. `versions`: JSON array of the versions If-Match accepts, NULL
 * for no precondition.
 */
function userChangeVerdictSql(
  mode: 'patch' | 'delete',
  p: { id: string; role: string; email: string; versions: string },
): string {
  const losesOwner = mode === 'delete' ? '1' : `COALESCE(${p.role}, 'owner') != 'owner'`;
  return `(SELECT CASE
    WHEN c.user_id IS NULL THEN 'no_caller'
    WHEN c.role NOT IN ('owner', 'admin') THEN 'insufficient_role'
    WHEN t.id IS NULL THEN 'not_found'
    WHEN c.role = 'admin' AND NOT ((t.role = 'member' OR t.id = c.user_id) AND COALESCE(${p.role}, t.role) IN ('member', t.role)) THEN 'insufficient_role'
    WHEN ${p.versions} IS NOT NULL AND t.updated_at NOT IN (SELECT value FROM json_each(${p.versions})) THEN 'precondition_failed'
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
    .bind(
      sub,
      q.includeDeleted ? 1 : 0,
      q.role ?? null,
      q.kind ?? null,
      q.after?.[0] ?? null,
      q.after?.[1] ?? null,
      q.limit + 1,
    );
}

/** A user of the caller's tenant (deleted ones included); owner/admin only. */
export function getUserStatement(db: D1Database, sub: string, id: string): D1PreparedStatement {
  return db
    .prepare(
      withCaller(
        `SELECT ${USER_COLUMNS} FROM caller c JOIN users u ON u.tenant_id = c.tenant_id AND u.id = ?2 WHERE c.role IN ('owner', 'admin')`,
      ),
    )
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

/**
 * The three statements of a guarded write, each with its own parameters: [verdict, audit row,
 * write … RETURNING]. `verdict(b)` is the rule's SQL; the audit row and the write happen only when
 * it is 'ok' (and `extra`, e.g. a fresh Idempotency-Key, holds), evaluated on the state before the write.
 */
function guardedWrite(
  db: D1Database,
  sub: string,
  verdict: (b: Binder) => string,
  audit: (b: Binder, where: string) => string,
  write: (b: Binder, where: string) => string,
  extra: (b: Binder) => string = () => '1',
): D1PreparedStatement[] {
  const guard = (b: Binder) => `${verdict(b)} = 'ok' AND ${extra(b)}`;
  const v = new Binder(sub);
  const a = new Binder(sub);
  const w = new Binder(sub);
  return [
    prepared(db, v, withCaller(`SELECT ${verdict(v)} AS verdict`)),
    prepared(db, a, withCaller(audit(a, guard(a)))),
    prepared(db, w, withCaller(write(w, guard(w)))),
  ];
}

const userAudit = (
  b: Binder,
  action: string,
  id: string,
  old: boolean,
  newValues: unknown,
  meta: RequestMeta,
  now: number,
  where: string,
) => {
  const idSql = b.bind(id);
  const newSql = b.bind(newValues === undefined ? null : JSON.stringify(newValues));
  return auditInsertSql(
    b,
    { action, resourceType: 'user', resourceIdSql: idSql, oldSql: old ? auditSnapshot(idSql) : 'NULL', newSql },
    meta,
    now,
    `caller c WHERE ${where}`,
  );
};

/** If-Match versions as an SQL operand: a JSON array, or NULL for no precondition. */
const versionsSql = (b: Binder, versions: number[] | undefined) =>
  b.bind(versions === undefined ? null : JSON.stringify(versions));

/** Creates a user. With an Idempotency-Key, nothing is written when the key was used already. */
export function createUserStatements(
  db: D1Database,
  sub: string,
  user: NewUser,
  meta: RequestMeta,
  now: number,
  idem: IdempotencyKey | null,
): D1PreparedStatement[] {
  const fields = { auth0_id: user.auth0Id, email: user.email, name: user.name, role: user.role, kind: user.kind };
  return guardedWrite(
    db,
    sub,
    (b) => userCreateVerdictSql({ auth0Id: b.bind(user.auth0Id), email: b.bind(user.email), role: b.bind(user.role) }),
    (b, where) => userAudit(b, 'user.create', user.id, false, fields, meta, now, where),
    (b, where) =>
      `INSERT INTO users (id, tenant_id, auth0_id, email, name, role, kind, created_at, updated_at)
       SELECT ${b.bind(user.id)}, c.tenant_id, ${b.bind(user.auth0Id)}, ${b.bind(user.email)}, ${b.bind(user.name)}, ${b.bind(user.role)}, ${b.bind(user.kind)}, ${b.bind(now)}, ${b.bind(now)}
       FROM caller c WHERE ${where} ${USER_RETURNING}`,
    (b) => keyIsFreshSql(b, idem),
  );
}

/** The user an earlier request with this Idempotency-Key created (its stored body is the user id). */
export function replayedUserStatement(db: D1Database, sub: string, k: IdempotencyKey): D1PreparedStatement {
  const b = new Binder(sub);
  return prepared(
    db,
    b,
    withCaller(
      `SELECT ${USER_COLUMNS} FROM idempotency_keys i, caller c JOIN users u ON u.id = json_extract(i.response_body, '$') AND u.tenant_id = c.tenant_id
       WHERE i.tenant_id = c.tenant_id AND i.key = ${b.bind(k.key)} AND i.expires_at > ${b.bind(k.now)} AND i.request_hash = ${b.bind(k.hash)}`,
    ),
  );
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
  versions: number[] | undefined,
  meta: RequestMeta,
  now: number,
): D1PreparedStatement[] {
  return guardedWrite(
    db,
    sub,
    (b) =>
      userChangeVerdictSql('patch', {
        id: b.bind(id),
        role: b.bind(patch.role),
        email: b.bind(patch.email),
        versions: versionsSql(b, versions),
      }),
    (b, where) => userAudit(b, 'user.update', id, true, patch, meta, now, where),
    (b, where) => {
      const name = patch.name === undefined ? 'name' : b.bind(patch.name);
      return `UPDATE users SET role = COALESCE(${b.bind(patch.role)}, role), email = COALESCE(${b.bind(patch.email)}, email), name = ${name},
                updated_at = MAX(${b.bind(now)}, updated_at + 1)
              WHERE id = ${b.bind(id)} AND ${where} ${USER_RETURNING}`;
    },
  );
}

const deleteVerdict = (id: string, versions: number[] | undefined) => (b: Binder) =>
  userChangeVerdictSql('delete', { id: b.bind(id), role: 'NULL', email: 'NULL', versions: versionsSql(b, versions) });

/**
 * Ends the live sessions of user `id` and soft-deletes their private and session memories if
 * removing them is allowed ([audit, update] each, see endUserSessionsStatements and
 * removedUserMemoriesStatements): run them just before deleteUserStatements, in the same batch.
 */
export function removedUserSessionsStatements(
  db: D1Database,
  sub: string,
  id: string,
  versions: number[] | undefined,
  meta: RequestMeta,
  now: number,
): D1PreparedStatement[] {
  const verdict = deleteVerdict(id, versions);
  const guard = (b: Binder) => `${verdict(b)} = 'ok'`;
  return [
    ...endUserSessionsStatements(db, sub, id, meta, now, guard),
    ...removedUserMemoriesStatements(db, sub, id, meta, now, guard),
  ];
}

/** Soft-deletes user `id`; their tokens stop working with this commit (the caller CTE skips them). */
export function deleteUserStatements(
  db: D1Database,
  sub: string,
  id: string,
  versions: number[] | undefined,
  meta: RequestMeta,
  now: number,
): D1PreparedStatement[] {
  return guardedWrite(
    db,
    sub,
    deleteVerdict(id, versions),
    (b, where) => userAudit(b, 'user.delete', id, true, undefined, meta, now, where),
    (b, where) =>
      `UPDATE users SET deleted_at = ${b.bind(now)}, updated_at = MAX(${b.bind(now)}, updated_at + 1) WHERE id = ${b.bind(id)} AND ${where} ${USER_RETURNING}`,
  );
}
