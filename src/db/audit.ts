import { newId } from '../lib/ids';
import { withCaller } from './caller';

/** Who did it and from where; recorded on every audit row. */
export interface RequestMeta {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
}

export interface AuditEntry {
  action: string;
  resourceType: string;
  resourceId: string | null;
  oldValues?: unknown;
  newValues?: unknown;
}

/**
 * An audit row for the caller (subject bound as ?1), to put in the SAME batch as the change.
 * `onlyIf` is an SQL condition (with its params numbered after the fixed ones) that must hold
 * for the row to be written, so a change that matched nothing leaves no audit row.
 */
export function auditStatement(
  db: D1Database,
  sub: string,
  entry: AuditEntry,
  meta: RequestMeta,
  now: number,
  onlyIf: { sql: string; params: unknown[] } = { sql: '1', params: [] },
): D1PreparedStatement {
  const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
  return db
    .prepare(
      withCaller(
        `INSERT INTO audit_logs (id, tenant_id, user_id, action, resource_type, resource_id, old_values, new_values, ip, user_agent, request_id, created_at)
         SELECT ?2, c.tenant_id, c.user_id, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11 FROM caller c WHERE ${onlyIf.sql}`,
      ),
    )
    .bind(
      sub,
      newId('aud', now),
      entry.action,
      entry.resourceType,
      entry.resourceId,
      json(entry.oldValues),
      json(entry.newValues),
      meta.ip,
      meta.userAgent?.slice(0, 512) ?? null,
      meta.requestId,
      now,
      ...onlyIf.params,
    );
}
