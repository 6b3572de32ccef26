// Purges for the maintenance cron (src/scheduled.ts). Every statement touches at most `limit`
// rows, so each stays far below D1's 30 s query limit whatever the tenant's size.

/** Expired Idempotency-Key records (kept 24 h). */
export function purgeIdempotencyKeysStatement(db: D1Database, now: number, limit: number) {
  return db
    .prepare(
      `DELETE FROM idempotency_keys WHERE (tenant_id, key) IN
         (SELECT tenant_id, key FROM idempotency_keys WHERE expires_at < ?1 LIMIT ?2) RETURNING 1`,
    )
    .bind(now, limit);
}

/** Tenants soft-deleted before `cutoff` (their retention period is over). */
export function purgeableTenantsStatement(db: D1Database, cutoff: number, limit: number) {
  return db
    .prepare('SELECT id FROM tenants WHERE deleted_at IS NOT NULL AND deleted_at < ?1 ORDER BY deleted_at LIMIT ?2')
    .bind(cutoff, limit);
}

// Child rows go first in chunks (memories before sessions: memories.session_id has no cascade);
// each chunk re-checks that the tenant is still deleted past retention, so a tenant restored in
// between loses nothing. The final DELETE of the tenant row cascades to what is left (users,
// subscription, audit log, ...): users cannot go earlier because the append-only audit log
// refuses the ON DELETE SET NULL update while its tenant exists.
const STILL_PURGEABLE = 'EXISTS (SELECT 1 FROM tenants WHERE id = ?1 AND deleted_at IS NOT NULL AND deleted_at < ?2)';

const CHUNKED_CHILDREN: { table: string; key: string[] }[] = [
  { table: 'memories', key: ['seq'] },
  // After memories: deleting them writes their purge tombstones here (migrations/012_memory_changes.sql).
  { table: 'memory_changes', key: ['seq'] },
  { table: 'webhook_deliveries', key: ['id'] },
  { table: 'sessions', key: ['id'] },
  { table: 'usage_daily', key: ['tenant_id', 'day'] },
  { table: 'idempotency_keys', key: ['tenant_id', 'key'] },
];

export const TENANT_CHILD_TABLES = CHUNKED_CHILDREN.length;

/** One chunk-delete statement per child table, in the order they must be emptied (memories return their ids, for the vector index). */
export function purgeTenantChildStatements(db: D1Database, tenantId: string, cutoff: number, limit: number) {
  return CHUNKED_CHILDREN.map(({ table, key }) =>
    db
      .prepare(
        `DELETE FROM ${table} WHERE (${key.join(', ')}) IN (SELECT ${key.join(', ')} FROM ${table} WHERE tenant_id = ?1 LIMIT ?3) AND ${STILL_PURGEABLE} RETURNING ${table === 'memories' ? 'id' : '1'}`,
      )
      .bind(tenantId, cutoff, limit),
  );
}

/** The tenant row itself; FK cascades remove every remaining row of the tenant. */
export function purgeTenantStatement(db: D1Database, tenantId: string, cutoff: number) {
  return db
    .prepare('DELETE FROM tenants WHERE id = ?1 AND deleted_at IS NOT NULL AND deleted_at < ?2 RETURNING id')
    .bind(tenantId, cutoff);
}
