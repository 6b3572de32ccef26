import { withCaller } from './caller';

/** One day of one tenant's counters, as stored in usage_daily. */
export interface UsageDay {
  day: string;
  requests: number;
  memories_created: number;
  memories_deleted: number;
  memories_expired: number;
  searches: number;
  rows_read: number;
}

export const USAGE_COUNTERS = [
  'requests',
  'memories_created',
  'memories_deleted',
  'memories_expired',
  'searches',
  'rows_read',
] as const;

/** Counters the Worker gathers in memory (memories_created/deleted come from triggers, 006). */
export interface MeteredUsage {
  tenant_id: string;
  day: string;
  requests: number;
  searches: number;
  rows_read: number;
}

/**
 * Adds many tenants' metered counters in ONE statement (one JSON parameter, so no bound-parameter
 * limit and one query against D1's per-invocation budget). Tenants that no longer exist are skipped.
 */
export function addUsageStatement(db: D1Database, rows: MeteredUsage[]): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO usage_daily (tenant_id, day, requests, searches, rows_read)
       SELECT json_extract(j.value, '$.tenant_id'), json_extract(j.value, '$.day'), json_extract(j.value, '$.requests'),
              json_extract(j.value, '$.searches'), json_extract(j.value, '$.rows_read')
       FROM json_each(?1) j
       WHERE EXISTS (SELECT 1 FROM tenants t WHERE t.id = json_extract(j.value, '$.tenant_id'))
       ON CONFLICT (tenant_id, day) DO UPDATE SET
         requests = requests + excluded.requests, searches = searches + excluded.searches, rows_read = rows_read + excluded.rows_read`,
    )
    .bind(JSON.stringify(rows));
}

/** The caller's tenant's stored days in [from, to] (YYYY-MM-DD); owner or admin only. */
export function usageSeriesStatement(db: D1Database, sub: string, from: string, to: string): D1PreparedStatement {
  return db
    .prepare(
      withCaller(
        `SELECT u.day, u.requests, u.memories_created, u.memories_deleted, u.memories_expired, u.searches, u.rows_read
         FROM caller c JOIN usage_daily u ON u.tenant_id = c.tenant_id
         WHERE c.role IN ('owner', 'admin') AND u.day BETWEEN ?2 AND ?3 ORDER BY u.day`,
      ),
    )
    .bind(sub, from, to);
}
