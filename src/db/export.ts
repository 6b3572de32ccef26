// Tenant export (GET /v1/export) and import (POST /v1/import): every SQL statement and the
// row ↔ export-line mapping. The export format is its own versioned contract (format
// 'memoria.export', version 1), independent of the API shapes, so it carries every stored field.
import { planLimitSql } from '../lib/plans';
import { toIso } from '../lib/time';
import { withCaller } from './caller';
import { liveMemoryCountSql, unexpiredSql } from './expiry';

export const EXPORT_FORMAT = 'memoria.export';
export const EXPORT_VERSION = 1;

/** The kinds of rows after the tenant line, in export order (referenced rows first). */
export const EXPORT_KINDS = ['user', 'session', 'memory', 'audit_log'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

const json = (text: string | null) => (text === null ? null : (JSON.parse(text) as unknown));
type Row = Record<string, unknown>;
const iso = (v: unknown) => toIso(v as number | null);

/** Per kind: table, columns, an estimate of a row's size in bytes, and the row → line data mapping. */
/** A memory's columns as exported (and, with its search text, as imported). */
const MEMORY_COLUMNS = [
  'id',
  'user_id',
  'session_id',
  'content',
  'tags',
  'metadata',
  'importance',
  'access_scope',
  'source',
  'subject_id',
  'agent_id',
  'expires_at',
  'embedding',
  'version',
  'created_at',
  'updated_at',
  'deleted_at',
];

const KINDS: Record<
  ExportKind,
  { table: string; columns: string[]; size: string; toData: (r: Row) => Row; live?: string }
> = {
  user: {
    table: 'users',
    columns: ['id', 'auth0_id', 'email', 'name', 'role', 'kind', 'created_at', 'updated_at', 'deleted_at'],
    size: '300',
    toData: (r) => ({
      ...r,
      created_at: iso(r.created_at),
      updated_at: iso(r.updated_at),
      deleted_at: iso(r.deleted_at),
    }),
  },
  session: {
    table: 'sessions',
    columns: ['id', 'user_id', 'mcp_client_id', 'metadata', 'created_at', 'last_activity_at', 'expired_at'],
    size: '300 + length(metadata)',
    toData: (r) => ({
      ...r,
      metadata: json(r.metadata as string),
      created_at: iso(r.created_at),
      last_activity_at: iso(r.last_activity_at),
      expired_at: iso(r.expired_at),
    }),
  },
  memory: {
    table: 'memories',
    // An expired memory is gone for every reader, the export included (the cron deletes it).
    live: unexpiredSql('memories'),
    columns: MEMORY_COLUMNS,
    size: '400 + length(content) + length(tags) + length(metadata) + coalesce(length(embedding), 0) + coalesce(length(source), 0)',
    toData: (r) => ({
      ...r,
      tags: json(r.tags as string),
      metadata: json(r.metadata as string),
      embedding: json(r.embedding as string | null),
      created_at: iso(r.created_at),
      updated_at: iso(r.updated_at),
      deleted_at: iso(r.deleted_at),
      expires_at: iso(r.expires_at),
    }),
  },
  audit_log: {
    table: 'audit_logs',
    columns: [
      'id',
      'user_id',
      'action',
      'resource_type',
      'resource_id',
      'old_values',
      'new_values',
      'ip',
      'user_agent',
      'request_id',
      'created_at',
    ],
    size: '400 + coalesce(length(old_values), 0) + coalesce(length(new_values), 0) + coalesce(length(user_agent), 0)',
    toData: (r) => ({
      ...r,
      old_values: json(r.old_values as string | null),
      new_values: json(r.new_values as string | null),
      created_at: iso(r.created_at),
    }),
  },
};

export interface TenantExportRow {
  id: string;
  name: string;
  plan: string;
  settings: string;
  memory_count: number;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  users: number;
  memories: number;
  sessions: number;
  audit_logs: number;
}

/** An export limited to the memories of some subjects and/or agents (null: no limit of that kind). */
export interface ExportLabels {
  subject_id: string[] | null;
  agent_id: string[] | null;
}
export const NO_LABELS: ExportLabels = { subject_id: null, agent_id: null };
const labelled = (l: ExportLabels) => ({
  subject: l.subject_id && JSON.stringify(l.subject_id),
  agent: l.agent_id && JSON.stringify(l.agent_id),
});
/** SQL over `memories` with the subject list bound at `s`, the agent list at `a` (either may be NULL). */
const labelSql = (s: string, a: string) =>
  `(${s} IS NULL OR subject_id IN (SELECT value FROM json_each(${s}))) AND (${a} IS NULL OR agent_id IN (SELECT value FROM json_each(${a})))`;

/**
 * The export's first query (with the caller lookup): the tenant and its counts, for an owner only.
 * With labels, only memories are exported (the other kinds count 0).
 */
export function exportStartStatement(db: D1Database, sub: string, labels: ExportLabels = NO_LABELS) {
  const only = labels.subject_id !== null || labels.agent_id !== null;
  const n = (table: string) =>
    table === 'memories'
      ? `(SELECT count(*) FROM memories WHERE tenant_id = t.id AND ${unexpiredSql(table)} AND ${labelSql('?2', '?3')}) AS ${table}`
      : only
        ? `0 AS ${table}`
        : `(SELECT count(*) FROM ${table} WHERE tenant_id = t.id) AS ${table}`;
  return db
    .prepare(
      withCaller(`SELECT t.id, t.name, t.plan, t.settings, ${liveMemoryCountSql('t')} AS memory_count, t.created_at, t.updated_at, t.deleted_at,
        ${n('users')}, ${n('memories')}, ${n('sessions')}, ${n('audit_logs')}
      FROM caller c JOIN tenants t ON t.id = c.tenant_id WHERE c.role = 'owner'`),
    )
    .bind(sub, labelled(labels).subject, labelled(labels).agent);
}

export function tenantLine(t: TenantExportRow) {
  return {
    type: 'tenant' as const,
    data: {
      id: t.id,
      name: t.name,
      plan: t.plan,
      settings: json(t.settings),
      memory_count: t.memory_count,
      created_at: iso(t.created_at),
      updated_at: iso(t.updated_at),
      deleted_at: iso(t.deleted_at),
    },
  };
}

/** Keyset position before any row. */
export const EXPORT_START: [number, string] = [Number.MIN_SAFE_INTEGER, ''];

/**
 * One page of `kind` rows of the tenant after `after`, in (created_at, id) order: at most
 * `maxRows`, and cut once their estimated size passes `maxBytes` (always at least one row), so a
 * page of large memories stays small in memory. Each row carries `_rows`, the page's row count
 * before that cut: a page shorter than `maxRows` and not cut is the kind's last (exportPagesFor).
 */
export function exportPageStatement(
  db: D1Database,
  kind: ExportKind,
  tenantId: string,
  after: [number, string],
  maxRows: number,
  maxBytes: number,
  labels: ExportLabels = NO_LABELS,
) {
  const k = KINDS[kind];
  const live = [k.live, kind === 'memory' ? labelSql('?6', '?7') : undefined].filter(Boolean).join(' AND ');
  return db
    .prepare(
      `SELECT ${k.columns.join(', ')}, _rows FROM (
         SELECT p.*, sum(${k.size}) OVER w AS _bytes, row_number() OVER w AS _n, count(*) OVER () AS _rows FROM (
           SELECT ${k.columns.join(', ')} FROM ${k.table}
           WHERE tenant_id = ?1 AND (created_at, id) > (?2, ?3)${live ? ` AND ${live}` : ''} ORDER BY created_at, id LIMIT ?4
         ) p WINDOW w AS (ORDER BY created_at, id ROWS UNBOUNDED PRECEDING)
       ) WHERE _bytes <= ?5 OR _n = 1 ORDER BY created_at, id`,
    )
    .bind(
      tenantId,
      after[0],
      after[1],
      maxRows,
      maxBytes,
      ...(kind === 'memory' ? [labelled(labels).subject, labelled(labels).agent] : []),
    );
}

export const exportLine = (kind: ExportKind, { _rows, ...row }: Row) => ({ type: kind, data: KINDS[kind].toData(row) });

/**
 * The page queries the export stream makes for `count` rows of a kind: full pages, then the one
 * that comes back short (maybe empty). A page cut early by its size adds one more; rows written
 * while the export runs may add or remove one.
 */
export const exportPagesFor = (count: number, maxRows: number) => Math.floor(count / maxRows) + 1;

// ---------------------------------------------------------------- import

/** Of `ids` (any kind), those already stored in the caller's tenant. */
export function existingIdsStatement(db: D1Database, sub: string, ids: string[]) {
  const inTenant = (table: string) =>
    `SELECT id FROM ${table} WHERE tenant_id = (SELECT tenant_id FROM caller) AND id IN (SELECT value FROM json_each(?2))`;
  return db
    .prepare(
      withCaller(
        `SELECT x.id FROM caller c, (${['users', 'sessions', 'memories', 'audit_logs'].map(inTenant).join(' UNION ALL ')}) x WHERE c.role = 'owner'`,
      ),
    )
    .bind(sub, JSON.stringify(ids));
}

/**
 * Which of `auth0Ids` are live users anywhere ('auth0_id': asked for services only) or in the
 * caller's tenant ('auth0_id_here'), which of `emails` live users of the caller's tenant, and the
 * live user count.
 */
export function importUserConflictsStatement(db: D1Database, sub: string, auth0Ids: string[], emails: string[]) {
  return db
    .prepare(
      withCaller(`SELECT CASE WHEN u.tenant_id = c.tenant_id THEN 'auth0_id_here' ELSE 'auth0_id' END AS kind, u.auth0_id AS value FROM caller c, users u
          WHERE c.role = 'owner' AND u.deleted_at IS NULL AND u.auth0_id IN (SELECT value FROM json_each(?2))
        UNION ALL SELECT 'email', lower(u.email) FROM caller c, users u
          WHERE c.role = 'owner' AND u.tenant_id = c.tenant_id AND u.deleted_at IS NULL AND u.email IN (SELECT value FROM json_each(?3))
        UNION ALL SELECT 'live_users', CAST(count(*) AS TEXT) FROM caller c, users u
          WHERE c.role = 'owner' AND u.tenant_id = c.tenant_id AND u.deleted_at IS NULL`),
    )
    .bind(sub, JSON.stringify(auth0Ids), JSON.stringify(emails));
}

/**
 * The import audit row's guard (parameters from ?12: tenant id, new live memories, new live users):
 * an owner of that tenant, and the plan's quotas hold for the chunk on the state inside the write
 * batch, so parallel chunks cannot pass a quota that each passed alone.
 */
export const IMPORT_AUDIT_GUARD_SQL = `c.role = 'owner' AND c.tenant_id = ?12
  AND (SELECT t.memory_count + ?13 <= ${planLimitSql('memories', 't.plan')}
         AND (SELECT count(*) FROM users u WHERE u.tenant_id = t.id AND u.deleted_at IS NULL) + ?14 <= ${planLimitSql('users', 't.plan')}
       FROM tenants t WHERE t.id = c.tenant_id)`;

/**
 * Marks the chunk's audit rows as imported by this request (AuditLog.imported); rows a re-sent
 * chunk skipped keep their first mark. Guarded by the chunk's audit row like the inserts.
 */
export function markImportedStatement(
  db: D1Database,
  sub: string,
  auditIds: string[],
  requestId: string,
  now: number,
  guardAuditId: string,
) {
  return db
    .prepare(
      withCaller(`INSERT INTO audit_log_imports (audit_id, tenant_id, request_id, imported_at)
        SELECT a.id, a.tenant_id, ?3, ?4 FROM caller c, json_each(?2) j JOIN audit_logs a ON a.id = j.value AND a.tenant_id = c.tenant_id
        WHERE EXISTS (SELECT 1 FROM audit_logs WHERE id = ?5)
        ON CONFLICT DO NOTHING`),
    )
    .bind(sub, JSON.stringify(auditIds), requestId, now, guardAuditId);
}

/** Whether audit row `id` exists (did the guarded chunk write?). */
export const auditExistsStatement = (db: D1Database, id: string) =>
  db.prepare('SELECT EXISTS (SELECT 1 FROM audit_logs WHERE id = ?1) AS written').bind(id);

/** D1 caps a string at 2 MB: rows travel as JSON arrays of at most this many bytes per statement. */
const IMPORT_PARAM_BYTES = 1_500_000;

export const IMPORT_COLUMNS = {
  users: ['id', 'auth0_id', 'email', 'name', 'role', 'kind', 'created_at', 'updated_at', 'deleted_at'],
  // A person's imported user arrives unbound, with the invitation that binds it (import-plan.ts).
  invitations: ['id', 'email', 'auth0_id', 'name', 'role', 'invited_by', 'created_at', 'expires_at', 'user_id'],
  sessions: ['id', 'user_id', 'mcp_client_id', 'metadata', 'created_at', 'last_activity_at', 'expired_at'],
  // The exported columns plus what import recomputes for the importing tenant: the packed vector,
  // its status and the search text.
  memories: [...MEMORY_COLUMNS, 'vector', 'embedding_status', 'search_doc'],
  audit_logs: [
    'id',
    'user_id',
    'action',
    'resource_type',
    'resource_id',
    'old_values',
    'new_values',
    'ip',
    'user_agent',
    'request_id',
    'created_at',
  ],
} as const;
export type ImportTable = keyof typeof IMPORT_COLUMNS;

/** A column's value from an import row; a vector travels as the hex of its float32 bytes (lib/vectors.ts). */
const importValueSql = (col: string) =>
  col === 'vector' ? `unhex(json_extract(j.value, '$.vector'))` : `json_extract(j.value, '$.${col}')`;

/**
 * INSERTs of `rows` (column → value; JSON columns already as JSON text) into the caller's tenant,
 * a few hundred rows per statement through json_each (one bound array instead of 100 params).
 * Guarded: only an owner of `tenantId` (the tenant the search text was computed for) writes.
 * An id that already exists is skipped (ON CONFLICT DO NOTHING), so re-sending a chunk is harmless;
 * each statement returns one row per row written (meta.changes would count trigger writes too).
 * Every statement only writes once audit row `guardAuditId` exists: the chunk's own audit row,
 * written first in the batch under the quota guard (importAuditGuardSql), so the chunk is all or nothing.
 */
export function importInsertStatements(
  db: D1Database,
  sub: string,
  tenantId: string,
  table: ImportTable,
  rows: Row[],
  guardAuditId: string,
): D1PreparedStatement[] {
  const columns = IMPORT_COLUMNS[table];
  const sql = withCaller(`INSERT INTO ${table} (tenant_id, ${columns.join(', ')})
    SELECT c.tenant_id, ${columns.map(importValueSql).join(', ')}
    FROM caller c, json_each(?2) j WHERE c.role = 'owner' AND c.tenant_id = ?3
      AND EXISTS (SELECT 1 FROM audit_logs WHERE id = ?4) ORDER BY j.key
    ON CONFLICT DO NOTHING RETURNING 1`);
  const statements: D1PreparedStatement[] = [];
  let part: string[] = [];
  let bytes = 0;
  const flush = () => {
    if (part.length > 0) statements.push(db.prepare(sql).bind(sub, `[${part.join(',')}]`, tenantId, guardAuditId));
    part = [];
    bytes = 0;
  };
  for (const row of rows) {
    const text = JSON.stringify(row);
    const size = new TextEncoder().encode(text).length;
    if (bytes + size > IMPORT_PARAM_BYTES) flush();
    part.push(text);
    bytes += size + 1;
  }
  flush();
  return statements;
}
