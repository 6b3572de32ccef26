// Invitations: how a person joins a tenant. An owner or admin invites an email (optionally bound to
// an Auth0 `sub`); the invited person accepts with their own token. Nothing binds the identity to
// the tenant before that, and no answer tells the inviter whether the identity exists elsewhere.
import { planLimitSql } from '../lib/plans';
import { toIso } from '../lib/time';
import { auditInsertSql, type RequestMeta } from './audit';
import { Binder, prepared } from './binder';
import { type Role, withCaller } from './caller';

export interface InvitationRow {
  id: string;
  tenant_id: string;
  email: string;
  auth0_id: string | null;
  name: string | null;
  role: Role;
  invited_by: string | null;
  created_at: number;
  expires_at: number;
  accepted_at: number | null;
  revoked_at: number | null;
  user_id: string | null;
}

export function toInvitation(row: InvitationRow, now = Date.now()) {
  const status: 'pending' | 'accepted' | 'revoked' | 'expired' =
    row.accepted_at !== null
      ? 'accepted'
      : row.revoked_at !== null
        ? 'revoked'
        : row.expires_at <= now
          ? 'expired'
          : 'pending';
  return {
    id: row.id,
    email: row.email,
    auth0_id: row.auth0_id,
    name: row.name,
    role: row.role,
    status,
    invited_by: row.invited_by,
    user_id: row.user_id,
    created_at: toIso(row.created_at)!,
    expires_at: toIso(row.expires_at)!,
    accepted_at: toIso(row.accepted_at),
    revoked_at: toIso(row.revoked_at),
  };
}

const COLS =
  'i.id, i.tenant_id, i.email, i.auth0_id, i.name, i.role, i.invited_by, i.created_at, i.expires_at, i.accepted_at, i.revoked_at, i.user_id';
const RETURNING =
  'RETURNING id, tenant_id, email, auth0_id, name, role, invited_by, created_at, expires_at, accepted_at, revoked_at, user_id';
const liveUsers = (tenant: string) => `(SELECT count(*) FROM users WHERE tenant_id = ${tenant} AND deleted_at IS NULL)`;
const userLimit = (tenant: string) => `(SELECT ${planLimitSql('users', 'plan')} FROM tenants WHERE id = ${tenant})`;

export type InvitationVerdict =
  | 'ok'
  | 'insufficient_role'
  | 'email_taken'
  | 'quota_exceeded'
  | 'not_found'
  | 'already_member'
  | 'already_accepted'
  | 'already_revoked';

export interface NewInvitation {
  id: string;
  email: string;
  auth0Id: string | null;
  name: string | null;
  role: Role;
  expiresAt: number;
}

/** [verdict, audit, INSERT … RETURNING]: owners invite any role, admins members; the same role rules as users. */
export function createInvitationStatements(
  db: D1Database,
  sub: string,
  inv: NewInvitation,
  meta: RequestMeta,
  now: number,
): D1PreparedStatement[] {
  const verdict = (b: Binder) => `(SELECT CASE
      WHEN NOT (c.role = 'owner' OR (c.role = 'admin' AND ${b.bind(inv.role)} = 'member')) THEN 'insufficient_role'
      WHEN EXISTS (SELECT 1 FROM users WHERE tenant_id = c.tenant_id AND email = ${b.bind(inv.email)} AND deleted_at IS NULL) THEN 'email_taken'
      WHEN ${liveUsers('c.tenant_id')} >= ${userLimit('c.tenant_id')} THEN 'quota_exceeded'
      ELSE 'ok' END FROM caller c)`;
  const v = new Binder(sub);
  const a = new Binder(sub);
  const w = new Binder(sub);
  const fields = {
    email: inv.email,
    auth0_id: inv.auth0Id,
    name: inv.name,
    role: inv.role,
    expires_at: toIso(inv.expiresAt),
  };
  return [
    prepared(db, v, withCaller(`SELECT ${verdict(v)} AS verdict`)),
    prepared(
      db,
      a,
      withCaller(
        auditInsertSql(
          a,
          {
            action: 'invitation.create',
            resourceType: 'invitation',
            resourceIdSql: a.bind(inv.id),
            oldSql: 'NULL',
            newSql: a.bind(JSON.stringify(fields)),
          },
          meta,
          now,
          `caller c WHERE ${verdict(a)} = 'ok'`,
        ),
      ),
    ),
    prepared(
      db,
      w,
      withCaller(`INSERT INTO invitations (id, tenant_id, email, auth0_id, name, role, invited_by, created_at, expires_at)
        SELECT ${w.bind(inv.id)}, c.tenant_id, ${w.bind(inv.email)}, ${w.bind(inv.auth0Id)}, ${w.bind(inv.name)}, ${w.bind(inv.role)}, c.user_id, ${w.bind(now)}, ${w.bind(inv.expiresAt)}
        FROM caller c WHERE ${verdict(w)} = 'ok' ${RETURNING}`),
    ),
  ];
}

/**
 * Revoking invitation `id`: [verdict, audit, UPDATE … RETURNING]. Owners revoke any invitation,
 * admins member invitations (the rule for creating them); an accepted one is refused, and a
 * revoked one is left as it is (no second audit row).
 */
export function revokeInvitationStatements(
  db: D1Database,
  sub: string,
  id: string,
  meta: RequestMeta,
  now: number,
): D1PreparedStatement[] {
  const verdict = (b: Binder) => `(SELECT CASE
      WHEN c.role NOT IN ('owner', 'admin') THEN 'insufficient_role'
      WHEN i.id IS NULL THEN 'not_found'
      WHEN c.role = 'admin' AND i.role <> 'member' THEN 'insufficient_role'
      WHEN i.accepted_at IS NOT NULL THEN 'already_accepted'
      WHEN i.revoked_at IS NOT NULL THEN 'already_revoked'
      ELSE 'ok' END
    FROM caller c LEFT JOIN invitations i ON i.tenant_id = c.tenant_id AND i.id = ${b.bind(id)})`;
  const v = new Binder(sub);
  const a = new Binder(sub);
  const w = new Binder(sub);
  return [
    prepared(db, v, withCaller(`SELECT ${verdict(v)} AS verdict`)),
    prepared(
      db,
      a,
      withCaller(
        auditInsertSql(
          a,
          {
            action: 'invitation.revoke',
            resourceType: 'invitation',
            resourceIdSql: a.bind(id),
            oldSql: `json_object('status', 'pending')`,
            newSql: `json_object('status', 'revoked')`,
          },
          meta,
          now,
          `caller c WHERE ${verdict(a)} = 'ok'`,
        ),
      ),
    ),
    prepared(
      db,
      w,
      withCaller(`UPDATE invitations SET revoked_at = ${w.bind(now)}
        WHERE id = ${w.bind(id)} AND tenant_id = (SELECT tenant_id FROM caller) AND ${verdict(w)} = 'ok' ${RETURNING}`),
    ),
  ];
}

/** One page (limit + 1 rows) of the caller's tenant's invitations, oldest first; owner/admin only. */
export function listInvitationsStatement(db: D1Database, sub: string, limit: number, after: [number, string] | null) {
  return db
    .prepare(
      withCaller(`SELECT ${COLS} FROM caller c JOIN invitations i ON i.tenant_id = c.tenant_id
        WHERE c.role IN ('owner', 'admin') AND (?2 IS NULL OR (i.created_at, i.id) > (?2, ?3))
        ORDER BY i.created_at, i.id LIMIT ?4`),
    )
    .bind(sub, after?.[0] ?? null, after?.[1] ?? null, limit + 1);
}

/** An invitation of the caller's tenant; owner/admin only. */
export function getInvitationStatement(db: D1Database, sub: string, id: string) {
  return db
    .prepare(
      withCaller(
        `SELECT ${COLS} FROM caller c JOIN invitations i ON i.tenant_id = c.tenant_id AND i.id = ?2 WHERE c.role IN ('owner', 'admin')`,
      ),
    )
    .bind(sub, id);
}

/**
 * The auth0_id of a user imported before they joined: no token carries it (an Auth0 `sub` is
 * `<connection>|<id>` or `<client_id>@clients`), so the row binds nobody until its invitation is accepted.
 */
export const pendingAuth0Id = (invitationId: string) => `pending:${invitationId}`;
export const isPendingAuth0Id = (auth0Id: string) => auth0Id.startsWith('pending:');

/**
 * Accepting invitation `id` as the token's subject (who is no user yet): [verdict, user INSERT …
 * RETURNING, user bind UPDATE … RETURNING, audit rows, invitation UPDATE]. The invitation matches
 * when it names this `sub`, or names no `sub` and its email is the token's verified email; it must
 * be pending in a live tenant. An invitation with a `user_id` (a user imported before they joined)
 * binds that user to the `sub`; any other creates the user. Anything else is 'not_found', whatever
 * the reason, so the answer reveals nothing.
 */
export function acceptInvitationStatements(
  db: D1Database,
  sub: string,
  p: { id: string; verifiedEmail: string | null; userId: string },
  meta: RequestMeta,
  now: number,
): D1PreparedStatement[] {
  const match = (
    b: Binder,
  ) => `i.id = ${b.bind(p.id)} AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > ${b.bind(now)}
    AND (i.auth0_id = ?1 OR (i.auth0_id IS NULL AND i.email = ${b.bind(p.verifiedEmail)}))
    AND EXISTS (SELECT 1 FROM tenants t WHERE t.id = i.tenant_id AND t.deleted_at IS NULL)
    AND (i.user_id IS NULL OR EXISTS (SELECT 1 FROM users pu WHERE pu.id = i.user_id AND pu.deleted_at IS NULL AND pu.auth0_id = 'pending:' || i.id))`;
  const verdict = (b: Binder) => `(SELECT CASE
      WHEN i.id IS NULL THEN 'not_found'
      WHEN EXISTS (SELECT 1 FROM users WHERE auth0_id = ?1 AND deleted_at IS NULL) THEN 'already_member'
      WHEN EXISTS (SELECT 1 FROM users WHERE tenant_id = i.tenant_id AND email = i.email AND deleted_at IS NULL AND id IS NOT i.user_id) THEN 'email_taken'
      WHEN i.user_id IS NULL AND ${liveUsers('i.tenant_id')} >= ${userLimit('i.tenant_id')} THEN 'quota_exceeded'
      ELSE 'ok' END FROM (SELECT 1) LEFT JOIN invitations i ON ${match(b)})`;
  const v = new Binder(sub);
  const u = new Binder(sub);
  const bu = new Binder(sub);
  const up = new Binder(sub);
  const userId = (b: Binder) => b.bind(p.userId);
  const USER_COLS = 'id, tenant_id, auth0_id, email, name, role, kind, created_at, updated_at, deleted_at';
  // After the insert or bind, and before the invitation is marked accepted, the caller CTE resolves
  // to the user this request created or bound: the audit rows are theirs.
  const audit = (
    action: string,
    type: string,
    idSql: (b: Binder) => string,
    values: (b: Binder) => string,
    when: (b: Binder) => string,
  ) => {
    const b = new Binder(sub);
    return prepared(
      db,
      b,
      withCaller(
        auditInsertSql(
          b,
          { action, resourceType: type, resourceIdSql: idSql(b), oldSql: 'NULL', newSql: values(b) },
          meta,
          now,
          `caller c JOIN invitations i ON i.id = ${b.bind(p.id)} WHERE i.accepted_at IS NULL AND c.user_id = coalesce(i.user_id, ${userId(b)}) AND ${when(b)}`,
        ),
      ),
    );
  };
  return [
    prepared(db, v, `SELECT ${verdict(v)} AS verdict`),
    prepared(
      db,
      u,
      `INSERT INTO users (id, tenant_id, auth0_id, email, name, role, kind, created_at, updated_at)
       SELECT ${userId(u)}, i.tenant_id, ?1, i.email, i.name, i.role, 'person', ${u.bind(now)}, ${u.bind(now)}
       FROM invitations i WHERE ${match(u)} AND i.user_id IS NULL AND ${verdict(u)} = 'ok'
       RETURNING ${USER_COLS}`,
    ),
    prepared(
      db,
      bu,
      `UPDATE users SET auth0_id = ?1, updated_at = ${bu.bind(now)}
       WHERE id = (SELECT i.user_id FROM invitations i WHERE ${match(bu)}) AND ${verdict(bu)} = 'ok'
       RETURNING ${USER_COLS}`,
    ),
    audit(
      'user.create',
      'user',
      () => 'c.user_id',
      () =>
        `json_object('auth0_id', ?1, 'email', i.email, 'name', i.name, 'role', i.role, 'kind', 'person', 'invitation_id', i.id)`,
      () => 'i.user_id IS NULL',
    ),
    audit(
      'user.update',
      'user',
      () => 'c.user_id',
      () => `json_object('auth0_id', ?1, 'invitation_id', i.id)`,
      () => 'i.user_id IS NOT NULL',
    ),
    audit(
      'invitation.accept',
      'invitation',
      (b) => b.bind(p.id),
      () => `json_object('user_id', c.user_id)`,
      () => '1',
    ),
    prepared(
      db,
      up,
      `UPDATE invitations SET accepted_at = ${up.bind(now)}, user_id = coalesce(user_id, ${userId(up)})
       WHERE id = ${up.bind(p.id)} AND accepted_at IS NULL
         AND EXISTS (SELECT 1 FROM users WHERE id = coalesce(invitations.user_id, ${userId(up)}) AND auth0_id = ?1 AND deleted_at IS NULL)`,
    ),
  ];
}
