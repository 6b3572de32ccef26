// The caller (user + tenant) is resolved from the verified token subject *inside* the same D1
// batch as the request's own statements: one round trip authenticates and does the work, and a
// deleted user or tenant is locked out at once (no cache to go stale).
//
// Convention for tenant-owned statements: bind the token subject as ?1 and prefix the SQL with
// withCaller(); the CTE `caller(user_id, tenant_id, role)` is then the tenant scope. A statement
// run for an unknown or deleted subject sees an empty `caller` and so reads and writes nothing.

import { liveMemoryCountSql } from './expiry';
import type { UserRow } from './users';

export const CALLER_CTE = `caller AS (
  SELECT u.id AS user_id, u.tenant_id, u.role
  FROM users u JOIN tenants t ON t.id = u.tenant_id
  WHERE u.auth0_id = ?1 AND u.deleted_at IS NULL AND t.deleted_at IS NULL)`;

/** Prefixes a statement with the caller CTE (subject bound as ?1). */
export const withCaller = (sql: string): string => `WITH ${CALLER_CTE}\n${sql}`;

export type Role = 'owner' | 'admin' | 'member';

/** The caller's user (as `user_id`) with its tenant's fields. */
export interface CallerRow extends Omit<UserRow, 'id' | 'deleted_at'> {
  user_id: string;
  tenant_name: string;
  tenant_plan: 'free' | 'pro' | 'team';
  tenant_memory_count: number;
  tenant_created_at: number;
  tenant_updated_at: number;
  /** The tenant's embedding configuration (null: none) and its stored vectors. */
  tenant_embedding_dimensions: number | null;
  tenant_embedding_model: string | null;
  tenant_vector_count: number;
  /** The tenant's enabled webhook endpoints: a write wakes their dispatcher when there are any. */
  tenant_webhooks: number;
}

export function callerStatement(db: D1Database, sub: string): D1PreparedStatement {
  return db
    .prepare(
      `SELECT u.id AS user_id, u.tenant_id, u.auth0_id, u.email, u.name, u.role, u.kind, u.created_at, u.updated_at,
              t.name AS tenant_name, t.plan AS tenant_plan, ${liveMemoryCountSql('t')} AS tenant_memory_count,
              t.created_at AS tenant_created_at, t.updated_at AS tenant_updated_at,
              t.embedding_dimensions AS tenant_embedding_dimensions, t.embedding_model AS tenant_embedding_model,
              t.vector_count AS tenant_vector_count,
              (SELECT count(*) FROM webhook_endpoints w WHERE w.tenant_id = t.id AND w.enabled = 1) AS tenant_webhooks
       FROM users u JOIN tenants t ON t.id = u.tenant_id
       WHERE u.auth0_id = ?1 AND u.deleted_at IS NULL AND t.deleted_at IS NULL`,
    )
    .bind(sub);
}

/**
 * Runs the caller lookup and `statements` in one D1 batch (one round trip, one transaction).
 * Returns the caller row (null when the subject has no live user) and the statements' results.
 */
export async function batchAsCaller(
  db: D1Database,
  sub: string,
  statements: D1PreparedStatement[],
): Promise<{ caller: CallerRow | null; results: D1Result[] }> {
  const [callerResult, ...results] = await db.batch([callerStatement(db, sub), ...statements]);
  const caller = (callerResult!.results[0] as CallerRow | undefined) ?? null;
  return { caller, results };
}
