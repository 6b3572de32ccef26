// Expiry (memories.expires_at, epoch ms). A memory is invisible from the moment it expires
// (visibleSql in ./memories.ts); the cron removes it later (src/scheduled.ts). Until then it is
// still in tenants.memory_count, which triggers keep exact for inserts and deletes only, so every
// count shown or checked against a quota subtracts the tenant's expired rows not yet purged (an
// index range of memories_tenant_expires_live, as small as the cron keeps it).

/** The database clock in epoch milliseconds (the same in every statement of a batch, to the ms). */
export const NOW_MS_SQL = `CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`;

/** SQL: memory `m` has not expired. */
export const unexpiredSql = (m = 'm') => `(${m}.expires_at IS NULL OR ${m}.expires_at > ${NOW_MS_SQL})`;

/** SQL: tenant `t`'s live (not deleted, not expired) memories. */
export const liveMemoryCountSql = (t: string) =>
  `(${t}.memory_count - (SELECT count(*) FROM memories ex WHERE ex.tenant_id = ${t}.id AND ex.expires_at IS NOT NULL AND ex.deleted_at IS NULL AND ex.expires_at <= ${NOW_MS_SQL}))`;
