import { newId } from '../lib/ids';
import { toIso } from '../lib/time';
import { auditInsertSql, type RequestMeta } from './audit';
import { Binder, prepared } from './binder';
import { type Role, withCaller } from './caller';
import { liveMemoryCountSql } from './expiry';

export type Plan = 'free' | 'pro' | 'team';

export interface TenantRow {
  id: string;
  name: string;
  plan: Plan;
  memory_count: number;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  embedding_dimensions?: number | null;
  embedding_model?: string | null;
}

export function toTenant(row: TenantRow) {
  return {
    id: row.id,
    name: row.name,
    plan: row.plan,
    memory_count: row.memory_count,
    embedding: { dimensions: row.embedding_dimensions ?? null, model: row.embedding_model ?? null },
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  };
}

export interface NewTenant {
  name: string;
  owner: { auth0Id: string; email: string; name?: string | null; kind?: 'person' | 'service' };
}

const PERIOD_MS = 30 * 24 * 3600 * 1000;

/** The ids a new tenant gets, chosen once so that creating it again changes nothing. */
export interface TenantIds {
  tenantId: string;
  userId: string;
  subscriptionId: string;
}

export const newTenantIds = (now: number): TenantIds => ({
  tenantId: newId('ten', now),
  userId: newId('usr', now),
  subscriptionId: newId('sub', now),
});

/**
 * Creates a tenant on the free plan with its subscription and its owner, plus the audit row,
 * in one batch. Idempotent for the same ids (provisioning resumes by running it again). Fails
 * (UNIQUE on users.auth0_id) if the subject already has another live user on this database.
 */
export async function createTenantWithOwner(
  db: D1Database,
  input: NewTenant,
  meta: RequestMeta,
  now = Date.now(),
  ids: TenantIds = newTenantIds(now),
) {
  const { tenantId, userId } = ids;
  const tenant = {
    id: tenantId,
    name: input.name,
    plan: 'free' as Plan,
    memory_count: 0,
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
  const user = {
    id: userId,
    tenant_id: tenantId,
    auth0_id: input.owner.auth0Id,
    email: input.owner.email,
    name: input.owner.name ?? null,
    role: 'owner' as const,
    kind: input.owner.kind ?? ('person' as const),
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
  await db.batch([
    db
      .prepare(
        'INSERT INTO tenants (id, name, plan, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (id) DO NOTHING',
      )
      .bind(tenantId, input.name, 'free', now),
    db
      .prepare(
        `INSERT INTO subscriptions (id, tenant_id, plan, status, current_period_start, current_period_end, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5, ?5) ON CONFLICT (tenant_id) DO NOTHING`,
      )
      .bind(ids.subscriptionId, tenantId, 'free', 'active', now, now + PERIOD_MS),
    db
      .prepare(
        `INSERT INTO users (id, tenant_id, auth0_id, email, name, role, kind, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) ON CONFLICT (id) DO NOTHING`,
      )
      .bind(userId, tenantId, user.auth0_id, user.email, user.name, 'owner', user.kind, now),
    db
      .prepare(
        `INSERT INTO audit_logs (id, tenant_id, user_id, action, resource_type, resource_id, old_values, new_values, ip, user_agent, request_id, created_at)
         SELECT ?1, ?2, ?3, 'tenant.create', 'tenant', ?2, NULL, ?4, ?5, ?6, ?7, ?8
         WHERE NOT EXISTS (SELECT 1 FROM audit_logs WHERE tenant_id = ?2 AND action = 'tenant.create')`,
      )
      .bind(
        newId('aud', now),
        tenantId,
        userId,
        JSON.stringify({ name: input.name, plan: 'free', owner: userId }),
        meta.ip,
        meta.userAgent,
        meta.requestId,
        now,
      ),
  ]);
  return { tenant, user };
}

// The caller's tenant: rename, soft delete and restore. Soft delete locks out every token of the
// tenant at once (the caller CTE requires tenants.deleted_at IS NULL); an owner can restore it
// within TENANT_RETENTION_MS, after which the cron purges it.

const TENANT_RETURNING = `RETURNING id, name, plan, ${liveMemoryCountSql('tenants')} AS memory_count, embedding_dimensions, embedding_model, created_at, updated_at, deleted_at`;

/** An audit row about the caller's tenant, written iff `where` (SQL over `caller c`) holds. */
function tenantAudit(
  db: D1Database,
  sub: string,
  action: string,
  meta: RequestMeta,
  now: number,
  where: string,
  values: { oldSql?: string; newValues?: unknown } = {},
) {
  const b = new Binder(sub);
  const newSql = b.bind(values.newValues === undefined ? null : JSON.stringify(values.newValues));
  return prepared(
    db,
    b,
    withCaller(
      auditInsertSql(
        b,
        { action, resourceType: 'tenant', resourceIdSql: 'c.tenant_id', oldSql: values.oldSql ?? 'NULL', newSql },
        meta,
        now,
        `caller c WHERE ${where}`,
      ),
    ),
  );
}

export interface TenantPatch {
  name?: string;
  embedding?: { dimensions: number | null; model: string | null };
}

/**
 * [audit, update … RETURNING]; owner or admin only. The embedding dimensions only change while the
 * tenant stores no vectors (the route tells a refusal apart from the caller row).
 */
export function updateTenantStatements(
  db: D1Database,
  sub: string,
  patch: TenantPatch,
  meta: RequestMeta,
  now: number,
): D1PreparedStatement[] {
  const b = new Binder(sub);
  const sets: string[] = [];
  if (patch.name !== undefined) sets.push(`name = ${b.bind(patch.name)}`);
  const guards = [`c.role IN ('owner', 'admin')`];
  if (patch.embedding) {
    const { dimensions, model } = patch.embedding;
    // Inlined (a validated integer or NULL) so the audit statement shares the guard without parameters.
    const dims = dimensions === null ? 'NULL' : String(Math.trunc(dimensions));
    sets.push(`embedding_dimensions = ${dims}`, `embedding_model = ${b.bind(model)}`);
    guards.push(
      `(SELECT t.embedding_dimensions IS ${dims} OR t.vector_count = 0 FROM tenants t WHERE t.id = c.tenant_id)`,
    );
  }
  const where = guards.join(' AND ');
  // The audit row's old values hold the fields the patch changes.
  const old = [
    ...(patch.name !== undefined ? [`'name', name`] : []),
    ...(patch.embedding
      ? [`'embedding', json_object('dimensions', embedding_dimensions, 'model', embedding_model)`]
      : []),
  ];
  const oldSql = `(SELECT json_object(${old.join(', ')}) FROM tenants WHERE id = c.tenant_id)`;
  return [
    tenantAudit(db, sub, 'tenant.update', meta, now, where, {
      oldSql,
      newValues: patch,
    }),
    prepared(
      db,
      b,
      withCaller(
        `UPDATE tenants SET ${sets.join(', ')}, updated_at = MAX(${b.bind(now)}, updated_at + 1)
         WHERE id = (SELECT c.tenant_id FROM caller c WHERE ${where}) ${TENANT_RETURNING}`,
      ),
    ),
  ];
}

/** [audit, soft delete … RETURNING]; owner only. The audit row goes first: after the delete the caller CTE no longer matches. */
export function deleteTenantStatements(
  db: D1Database,
  sub: string,
  meta: RequestMeta,
  now: number,
): D1PreparedStatement[] {
  return [
    tenantAudit(db, sub, 'tenant.delete', meta, now, `c.role = 'owner'`),
    db
      .prepare(
        withCaller(
          `UPDATE tenants SET deleted_at = ?2, updated_at = MAX(?2, updated_at + 1) WHERE id = (SELECT tenant_id FROM caller WHERE role = 'owner') ${TENANT_RETURNING}`,
        ),
      )
      .bind(sub, now),
  ];
}

export interface RestoreProbe {
  role: Role;
  tenant_id: string;
  deleted_at: number | null;
}

/**
 * Restores the subject's soft-deleted tenant, in one batch: [probe, restore … RETURNING, audit].
 * It cannot use the caller CTE (which skips deleted tenants): the probe finds the subject's live
 * user whatever its tenant's state, and the restore matches only an owner's tenant deleted after
 * `deletedAfter`. The audit row comes last (the tenant is live again) and only if a row changed.
 */
export function restoreTenantStatements(
  db: D1Database,
  sub: string,
  deletedAfter: number,
  meta: RequestMeta,
  now: number,
): D1PreparedStatement[] {
  return [
    db
      .prepare(
        'SELECT u.role, u.tenant_id, t.deleted_at FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.auth0_id = ?1 AND u.deleted_at IS NULL',
      )
      .bind(sub),
    db
      .prepare(
        `UPDATE tenants SET deleted_at = NULL, updated_at = MAX(?2, updated_at + 1)
         WHERE id = (SELECT tenant_id FROM users WHERE auth0_id = ?1 AND deleted_at IS NULL AND role = 'owner')
           AND deleted_at IS NOT NULL AND deleted_at > ?3 ${TENANT_RETURNING}`,
      )
      .bind(sub, now, deletedAfter),
    tenantAudit(db, sub, 'tenant.restore', meta, now, 'changes() = 1'),
  ];
}
