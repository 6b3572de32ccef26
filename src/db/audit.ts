import { newId } from '../lib/ids';
import { toIso } from '../lib/time';
import { Binder, prepared } from './binder';
import { withCaller } from './caller';
import { visibleNowSql } from './memories';

/** Who did it and from where; recorded on every audit row. */
export interface RequestMeta {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
}

export interface AuditEntry {
  /** Given when later statements of the batch must find the row (e.g. as their guard). */
  id?: string;
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
      entry.id ?? newId('aud', now),
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

/**
 * INSERT … SELECT of one audit row whose resource id and old/new values are SQL expressions over
 * `from` (e.g. "memories m, caller c WHERE <the change's guard>"), so the row is written exactly
 * when the guarded change is, with the values the change sees. Params go through `b`.
 */
export function auditInsertSql(
  b: Binder,
  a: { action: string; resourceType: string; resourceIdSql: string; oldSql: string; newSql: string; idSql?: string },
  meta: RequestMeta,
  now: number,
  from: string,
): string {
  return `INSERT INTO audit_logs (id, tenant_id, user_id, action, resource_type, resource_id, old_values, new_values, ip, user_agent, request_id, created_at)
    SELECT ${a.idSql ?? b.bind(newId('aud', now))}, c.tenant_id, c.user_id, ${b.bind(a.action)}, ${b.bind(a.resourceType)}, ${a.resourceIdSql}, ${a.oldSql}, ${a.newSql},
           ${b.bind(meta.ip)}, ${b.bind(meta.userAgent?.slice(0, 512) ?? null)}, ${b.bind(meta.requestId)}, ${b.bind(now)}
    FROM ${from}`;
}

/** The ULID time part of an audit id made at `now`, for perRowAuditIdSql. */
export const auditIdTimePart = (now: number) => newId('aud', now).slice(4, 14);

/**
 * An id per row for an INSERT … SELECT that writes several audit rows (`idSql` above): the time
 * part (`timePartSql`, the bound auditIdTimePart) and 16 random hex digits.
 */
export const perRowAuditIdSql = (timePartSql: string) => `'aud_' || ${timePartSql} || upper(hex(randomblob(8)))`;

// ---------------------------------------------------------------- reads (GET /v1/audit-logs)

export interface AuditRow {
  id: string;
  tenant_id: string;
  user_id: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  old_values: string | null;
  new_values: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  created_at: number;
  imported_request_id: string | null;
  imported_at: number | null;
  /** 0 when the row is about a memory the caller may not see now (auditCols). */
  values_visible?: number;
}

/** The field names of audit values with their content gone (for callers who may not see the memory). */
function redacted(values: Record<string, unknown> | null): Record<string, unknown> | null {
  return values === null ? null : Object.fromEntries(Object.keys(values).map((k) => [k, null]));
}

export function toAuditLog(row: AuditRow) {
  // Every writer stores a JSON object (the changed fields) or NULL.
  const parse = (text: string | null) => (text === null ? null : (JSON.parse(text) as Record<string, unknown>));
  const hide = row.values_visible === 0;
  return {
    id: row.id,
    user_id: row.user_id,
    action: row.action,
    resource_type: row.resource_type,
    resource_id: row.resource_id,
    old_values: hide ? redacted(parse(row.old_values)) : parse(row.old_values),
    new_values: hide ? redacted(parse(row.new_values)) : parse(row.new_values),
    values_redacted: hide,
    imported:
      row.imported_at === null
        ? null
        : { request_id: row.imported_request_id ?? '', imported_at: toIso(row.imported_at) },
    ip: row.ip,
    user_agent: row.user_agent,
    request_id: row.request_id,
    created_at: toIso(row.created_at),
  };
}

/** Only owners and admins read the audit trail; others' statements read nothing. */
const AUDIT_READER = `c.role IN ('owner', 'admin')`;
/**
 * Whether caller `c` may see the values of audit row `a`: rows about a memory only while the caller
 * may see that memory now (a purged memory: nobody). Every route that serves audit rows selects it.
 */
export const auditValuesVisibleSql = () => `(a.resource_type <> 'memory' OR EXISTS (
  SELECT 1 FROM memories m WHERE m.id = a.resource_id AND ${visibleNowSql()}))`;
const auditCols =
  () => `a.id, a.tenant_id, a.user_id, a.action, a.resource_type, a.resource_id, a.old_values, a.new_values, a.ip, a.user_agent, a.request_id, a.created_at,
  (SELECT i.request_id FROM audit_log_imports i WHERE i.audit_id = a.id) AS imported_request_id,
  (SELECT i.imported_at FROM audit_log_imports i WHERE i.audit_id = a.id) AS imported_at,
  ${auditValuesVisibleSql()} AS values_visible`;

export function getAuditLogStatement(db: D1Database, sub: string, id: string): D1PreparedStatement {
  return db
    .prepare(
      withCaller(
        `SELECT ${auditCols()} FROM audit_logs a, caller c WHERE a.id = ?2 AND a.tenant_id = c.tenant_id AND ${AUDIT_READER}`,
      ),
    )
    .bind(sub, id);
}

export interface AuditFilters {
  resource_type?: string;
  resource_id?: string;
  user_id?: string;
  action?: string;
  since?: number;
  until?: number;
  /** `imported`: rows POST /v1/import wrote; `native`: the tenant's own trail. */
  origin?: 'native' | 'imported';
}

/** The equality filters, most selective first, with the index that serves each in list order. */
const AUDIT_FILTER_INDEXES: [keyof AuditFilters, string][] = [
  ['resource_id', 'audit_logs_tenant_resource_order'],
  ['user_id', 'audit_logs_tenant_user_order'],
  ['action', 'audit_logs_tenant_action_order'],
  ['resource_type', 'audit_logs_tenant_type_order'],
];

/** Newest first, keyset on (created_at, id); limit + 1 rows. */
export function listAuditLogsStatement(
  db: D1Database,
  sub: string,
  f: AuditFilters,
  limit: number,
  after?: [number, string],
): D1PreparedStatement {
  const b = new Binder(sub);
  const where = [`a.tenant_id = c.tenant_id`, AUDIT_READER];
  if (f.resource_type) where.push(`a.resource_type = ${b.bind(f.resource_type)}`);
  if (f.resource_id) where.push(`a.resource_id = ${b.bind(f.resource_id)}`);
  if (f.user_id) where.push(`a.user_id = ${b.bind(f.user_id)}`);
  if (f.action) where.push(`a.action = ${b.bind(f.action)}`);
  if (f.since !== undefined) where.push(`a.created_at >= ${b.bind(f.since)}`);
  if (f.until !== undefined) where.push(`a.created_at < ${b.bind(f.until)}`);
  if (f.origin === 'native') where.push('NOT EXISTS (SELECT 1 FROM audit_log_imports i WHERE i.audit_id = a.id)');
  if (after) where.push(`(a.created_at, a.id) < (${b.bind(after[0])}, ${b.bind(after[1])})`);
  // Read only what a filter's index bounds (migrations/008): the planner, without statistics,
  // would rather walk the whole log in list order than sort a few matches. Imported rows are
  // found from their own table (CROSS JOIN keeps that order).
  const index = AUDIT_FILTER_INDEXES.find(([key]) => f[key] !== undefined)?.[1];
  const from =
    f.origin === 'imported'
      ? 'caller c CROSS JOIN audit_log_imports i CROSS JOIN audit_logs a'
      : `audit_logs a${index ? ` INDEXED BY ${index}` : ''}, caller c`;
  if (f.origin === 'imported') where.push('i.tenant_id = c.tenant_id AND a.id = i.audit_id');
  return prepared(
    db,
    b,
    withCaller(
      `SELECT ${auditCols()} FROM ${from} WHERE ${where.join(' AND ')} ORDER BY a.created_at DESC, a.id DESC LIMIT ${b.bind(limit + 1)}`,
    ),
  );
}
