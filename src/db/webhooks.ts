// Webhook endpoints and their delivery attempts (migrations/014_webhooks.sql). The routes' statements
// are scoped by the caller CTE and need the owner or admin role; the delivery engine
// (src/webhooks/deliver.ts) works on one tenant at a time by id, outside any request.
import { toIso } from '../lib/time';
import { auditInsertSql, type RequestMeta } from './audit';
import { Binder, prepared } from './binder';
import { withCaller } from './caller';
import type { ChangeType } from './changes';
import { unexpiredSql } from './expiry';

export type WebhookEvent = `memory.${ChangeType}`;

export interface WebhookRow {
  id: string;
  tenant_id: string;
  url: string;
  description: string | null;
  events: string | null;
  enabled: number;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  cursor: number;
  failure_count: number;
  next_attempt_at: number | null;
  created_at: number;
  updated_at: number;
}

export type DeliveryError = 'timeout' | 'connection_failed' | 'http_status' | 'redirect' | 'url_refused';

export interface DeliveryRow {
  id: string;
  tenant_id: string;
  endpoint_id: string;
  message_id: string;
  event_type: string;
  seq: number | null;
  attempt: number;
  status: 'succeeded' | 'failed';
  response_status: number | null;
  error: DeliveryError | null;
  duration_ms: number;
  next_retry_at: number | null;
  created_at: number;
}

export function toWebhook(row: WebhookRow) {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events === null ? null : (JSON.parse(row.events) as WebhookEvent[]),
    enabled: row.enabled === 1,
    disabled_reason: row.disabled_reason as 'failing' | null,
    consecutive_failures: row.failure_count,
    next_attempt_at: toIso(row.next_attempt_at),
    created_at: toIso(row.created_at)!,
    updated_at: toIso(row.updated_at)!,
  };
}

export function toDelivery(row: DeliveryRow) {
  return {
    id: row.id,
    message_id: row.message_id,
    event_type: row.event_type,
    seq: row.seq,
    attempt: row.attempt,
    status: row.status,
    response_status: row.response_status,
    error: row.error,
    duration_ms: row.duration_ms,
    next_retry_at: toIso(row.next_retry_at),
    created_at: toIso(row.created_at)!,
  };
}

const MANAGER = `c.role IN ('owner', 'admin')`;
const COLS = `w.id, w.tenant_id, w.url, w.description, w.events, w.enabled, w.disabled_reason, w.secret, w.previous_secret,
  w.previous_secret_expires_at, w.cursor, w.failure_count, w.next_attempt_at, w.created_at, w.updated_at`;
const RETURNING = `RETURNING ${COLS.replaceAll('w.', '')}`;
/** The endpoint `id` of the caller's tenant, for an owner or admin. */
const endpointOf = (b: Binder, id: string) =>
  `caller c JOIN webhook_endpoints w ON w.id = ${b.bind(id)} AND w.tenant_id = c.tenant_id WHERE ${MANAGER}`;

export interface NewWebhook {
  id: string;
  url: string;
  description: string | null;
  events: string[] | null;
  enabled: boolean;
  secret: string;
}

export type CreateVerdict = 'ok' | 'insufficient_role' | 'quota_exceeded';

/**
 * [verdict, audit, INSERT … RETURNING]. The endpoint starts at the tenant's latest change: it
 * receives what happens from now on (GET /v1/changes has the past).
 */
export function createWebhookStatements(
  db: D1Database,
  sub: string,
  w: NewWebhook,
  maxEndpoints: number,
  meta: RequestMeta,
  now: number,
): D1PreparedStatement[] {
  const verdict = (b: Binder) => `(SELECT CASE WHEN NOT ${MANAGER} THEN 'insufficient_role'
      WHEN (SELECT count(*) FROM webhook_endpoints WHERE tenant_id = c.tenant_id) >= ${b.bind(maxEndpoints)} THEN 'quota_exceeded'
      ELSE 'ok' END FROM caller c)`;
  const events = w.events === null ? null : JSON.stringify(w.events);
  const v = new Binder(sub);
  const a = new Binder(sub);
  const i = new Binder(sub);
  const audited = { url: w.url, description: w.description, events: w.events, enabled: w.enabled };
  return [
    prepared(db, v, withCaller(`SELECT ${verdict(v)} AS verdict`)),
    prepared(
      db,
      a,
      withCaller(
        auditInsertSql(
          a,
          {
            action: 'webhook.create',
            resourceType: 'webhook',
            resourceIdSql: a.bind(w.id),
            oldSql: 'NULL',
            newSql: a.bind(JSON.stringify(audited)),
          },
          meta,
          now,
          `caller c WHERE ${verdict(a)} = 'ok'`,
        ),
      ),
    ),
    prepared(
      db,
      i,
      withCaller(`INSERT INTO webhook_endpoints (id, tenant_id, url, description, events, enabled, secret, cursor, created_at, updated_at)
        SELECT ${i.bind(w.id)}, c.tenant_id, ${i.bind(w.url)}, ${i.bind(w.description)}, ${i.bind(events)}, ${i.bind(w.enabled ? 1 : 0)}, ${i.bind(w.secret)},
          (SELECT COALESCE(MAX(seq), 0) FROM memory_changes WHERE tenant_id = c.tenant_id), ${i.bind(now)}, ${i.bind(now)}
        FROM caller c WHERE ${verdict(i)} = 'ok' ${RETURNING}`),
    ),
  ];
}

/** One page (limit + 1 rows) of the tenant's endpoints, oldest first. */
export function listWebhooksStatement(db: D1Database, sub: string, limit: number, after: [number, string] | null) {
  return db
    .prepare(
      withCaller(`SELECT ${COLS} FROM caller c JOIN webhook_endpoints w ON w.tenant_id = c.tenant_id
        WHERE ${MANAGER} AND (?2 IS NULL OR (w.created_at, w.id) > (?2, ?3)) ORDER BY w.created_at, w.id LIMIT ?4`),
    )
    .bind(sub, after?.[0] ?? null, after?.[1] ?? null, limit + 1);
}

export function getWebhookStatement(db: D1Database, sub: string, id: string) {
  const b = new Binder(sub);
  return prepared(db, b, withCaller(`SELECT ${COLS} FROM ${endpointOf(b, id)}`));
}

export interface WebhookPatch {
  url?: string;
  description?: string | null;
  events?: string[] | null;
  enabled?: boolean;
}

/** [audit of the old and new values, UPDATE … RETURNING]; re-enabling clears the failure state. */
export function updateWebhookStatements(
  db: D1Database,
  sub: string,
  id: string,
  patch: WebhookPatch,
  meta: RequestMeta,
  now: number,
): D1PreparedStatement[] {
  const a = new Binder(sub);
  const u = new Binder(sub);
  const keys = Object.keys(patch) as (keyof WebhookPatch)[];
  const oldSql = `json_object(${keys
    .map((k) =>
      k === 'enabled'
        ? `'enabled', json(CASE w.enabled WHEN 1 THEN 'true' ELSE 'false' END)`
        : k === 'events'
          ? `'events', json(w.events)`
          : `'${k}', w.${k}`,
    )
    .join(', ')})`;
  const set: string[] = [`updated_at = ${u.bind(now)}`];
  if (patch.url !== undefined) set.push(`url = ${u.bind(patch.url)}`);
  if (patch.description !== undefined) set.push(`description = ${u.bind(patch.description)}`);
  if (patch.events !== undefined)
    set.push(`events = ${u.bind(patch.events === null ? null : JSON.stringify(patch.events))}`);
  if (patch.enabled !== undefined) {
    set.push(`enabled = ${u.bind(patch.enabled ? 1 : 0)}`, 'disabled_reason = NULL');
    if (patch.enabled) set.push('failure_count = 0', 'next_attempt_at = NULL');
  }
  return [
    prepared(
      db,
      a,
      withCaller(
        auditInsertSql(
          a,
          {
            action: 'webhook.update',
            resourceType: 'webhook',
            resourceIdSql: 'w.id',
            oldSql,
            newSql: a.bind(JSON.stringify(patch)),
          },
          meta,
          now,
          endpointOf(a, id),
        ),
      ),
    ),
    prepared(
      db,
      u,
      withCaller(`UPDATE webhook_endpoints SET ${set.join(', ')}
        WHERE id = (SELECT w.id FROM ${endpointOf(u, id)}) ${RETURNING}`),
    ),
  ];
}

/** [audit, DELETE … RETURNING id]; the endpoint's attempts go with it (cascade). */
export function deleteWebhookStatements(db: D1Database, sub: string, id: string, meta: RequestMeta, now: number) {
  const a = new Binder(sub);
  const d = new Binder(sub);
  return [
    prepared(
      db,
      a,
      withCaller(
        auditInsertSql(
          a,
          {
            action: 'webhook.delete',
            resourceType: 'webhook',
            resourceIdSql: 'w.id',
            oldSql: `json_object('url', w.url, 'description', w.description, 'events', json(w.events))`,
            newSql: 'NULL',
          },
          meta,
          now,
          endpointOf(a, id),
        ),
      ),
    ),
    prepared(
      db,
      d,
      withCaller(`DELETE FROM webhook_endpoints WHERE id = (SELECT w.id FROM ${endpointOf(d, id)}) RETURNING id`),
    ),
  ];
}

/** [audit, UPDATE … RETURNING]: `secret` signs from now on, the old one too until `graceUntil`. */
export function rotateWebhookSecretStatements(
  db: D1Database,
  sub: string,
  id: string,
  secret: string,
  graceUntil: number,
  meta: RequestMeta,
  now: number,
) {
  const a = new Binder(sub);
  const u = new Binder(sub);
  return [
    prepared(
      db,
      a,
      withCaller(
        auditInsertSql(
          a,
          {
            action: 'webhook.rotate_secret',
            resourceType: 'webhook',
            resourceIdSql: 'w.id',
            oldSql: 'NULL',
            newSql: `json_object('previous_secret_expires_at', ${a.bind(toIso(graceUntil))})`,
          },
          meta,
          now,
          endpointOf(a, id),
        ),
      ),
    ),
    // SET reads the row as it was: the old secret becomes the previous one.
    prepared(
      db,
      u,
      withCaller(`UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_expires_at = ${u.bind(graceUntil)},
        secret = ${u.bind(secret)}, updated_at = ${u.bind(now)}
        WHERE id = (SELECT w.id FROM ${endpointOf(u, id)}) ${RETURNING}`),
    ),
  ];
}

/** [the endpoint's id (no row: not found), one page (limit + 1 rows) of its attempts, newest first (by rowid, the insertion order)]. */
export function listDeliveriesStatements(
  db: D1Database,
  sub: string,
  id: string,
  limit: number,
  before: number | null,
) {
  const e = new Binder(sub);
  const d = new Binder(sub);
  return [
    prepared(db, e, withCaller(`SELECT w.id FROM ${endpointOf(e, id)}`)),
    prepared(
      db,
      d,
      withCaller(`SELECT d.id, d.tenant_id, d.endpoint_id, d.message_id, d.event_type, d.seq, d.attempt, d.status, d.response_status,
          d.error, d.duration_ms, d.next_retry_at, d.created_at, d.rowid AS position
        FROM caller c JOIN webhook_endpoints w ON w.id = ${d.bind(id)} AND w.tenant_id = c.tenant_id
        JOIN webhook_deliveries d ON d.endpoint_id = w.id
        WHERE ${MANAGER} AND (${d.bind(before)} IS NULL OR d.rowid < ?${d.params.length})
        ORDER BY d.rowid DESC LIMIT ${d.bind(limit + 1)}`),
    ),
  ];
}

// ---------------------------------------------------------------- delivery engine (no caller)

/** A live tenant's enabled endpoints (nothing leaves a deleted tenant, even during its retention period). */
export function enabledWebhooksStatement(db: D1Database, tenantId: string) {
  return db
    .prepare(
      `SELECT ${COLS} FROM webhook_endpoints w JOIN tenants t ON t.id = w.tenant_id AND t.deleted_at IS NULL
       WHERE w.tenant_id = ?1 AND w.enabled = 1`,
    )
    .bind(tenantId);
}

/**
 * Up to `limit` changes after `cursor` that endpoint `w` receives, in seq order: every change of the
 * tenant but session-scoped ones (as in GET /v1/changes), narrowed by its events filter. A
 * tenant-level endpoint sees what any member may: `memory` only while the memory is global (the
 * change's scope and the memory's now); others' private memories arrive with `memory` null, as
 * the audit log shows an admin their changes without their values.
 */
export function pendingChangesStatement(db: D1Database, w: WebhookRow, cursor: number, limit: number) {
  return db
    .prepare(
      `SELECT ch.seq, ch.type, ch.memory_id, ch.occurred_at,
        CASE WHEN ch.access_scope = 'global' AND EXISTS (SELECT 1 FROM memories m WHERE m.id = ch.memory_id
          AND m.access_scope = 'global' AND ${unexpiredSql()}) THEN ch.memory END AS memory
      FROM memory_changes ch WHERE ch.tenant_id = ?1 AND ch.seq > ?2 AND ch.access_scope <> 'session'
        AND (?3 IS NULL OR 'memory.' || ch.type IN (SELECT value FROM json_each(?3)))
      ORDER BY ch.seq LIMIT ?4`,
    )
    .bind(w.tenant_id, cursor, w.events, limit);
}

const DELIVERY_COLS =
  'id, tenant_id, endpoint_id, message_id, event_type, seq, attempt, status, response_status, error, duration_ms, next_retry_at, created_at';

/** Inserts attempts (one JSON parameter, whatever their number) unless their endpoint is gone. */
export function insertDeliveriesStatement(db: D1Database, endpointId: string, rows: DeliveryRow[]) {
  const fields = DELIVERY_COLS.split(', ')
    .map((f) => `json_extract(value, '$.${f}')`)
    .join(', ');
  return db
    .prepare(
      `INSERT INTO webhook_deliveries (${DELIVERY_COLS}) SELECT ${fields} FROM json_each(?1)
       WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = ?2)`,
    )
    .bind(JSON.stringify(rows), endpointId);
}

export interface Progress {
  cursor: number;
  failureCount: number;
  nextAttemptAt: number | null;
  /** Disabled for failing too long: the endpoint stops and a system audit row says why. */
  disable: boolean;
}

/** One run's outcome on an endpoint, in one batch: its attempts, cursor and failure state (and the audit row of a disable). */
export function saveProgressStatements(
  db: D1Database,
  w: WebhookRow,
  p: Progress,
  attempts: DeliveryRow[],
  now: number,
  auditId: string,
) {
  const statements = [
    insertDeliveriesStatement(db, w.id, attempts),
    db
      .prepare(
        `UPDATE webhook_endpoints SET cursor = MAX(cursor, ?2), failure_count = ?3, next_attempt_at = ?4,
          enabled = CASE WHEN ?5 THEN 0 ELSE enabled END, disabled_reason = CASE WHEN ?5 THEN 'failing' ELSE disabled_reason END
        WHERE id = ?1`,
      )
      .bind(w.id, p.cursor, p.failureCount, p.nextAttemptAt, p.disable ? 1 : 0),
  ];
  if (p.disable) {
    statements.push(
      db
        .prepare(
          `INSERT INTO audit_logs (id, tenant_id, user_id, action, resource_type, resource_id, old_values, new_values, created_at)
           SELECT ?1, tenant_id, NULL, 'webhook.disable', 'webhook', id, json_object('enabled', json('true')),
             json_object('enabled', json('false'), 'disabled_reason', 'failing', 'consecutive_failures', ?3), ?4
           FROM webhook_endpoints WHERE id = ?2`,
        )
        .bind(auditId, w.id, p.failureCount, now),
    );
  }
  return statements;
}

/** Tenants with an enabled endpoint that has changes waiting and no retry scheduled later (the cron kicks them). */
export function dueWebhookTenantsStatement(db: D1Database, now: number, limit: number) {
  return db
    .prepare(
      `SELECT DISTINCT w.tenant_id FROM webhook_endpoints w JOIN tenants t ON t.id = w.tenant_id AND t.deleted_at IS NULL
       WHERE w.enabled = 1 AND (w.next_attempt_at IS NULL OR w.next_attempt_at <= ?1)
         AND EXISTS (SELECT 1 FROM memory_changes ch WHERE ch.tenant_id = w.tenant_id AND ch.seq > w.cursor) LIMIT ?2`,
    )
    .bind(now, limit);
}

/** Cron: deletes up to `limit` attempts older than `cutoff`. */
export function pruneDeliveriesStatement(db: D1Database, cutoff: number, limit: number) {
  return db
    .prepare(
      'DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries WHERE created_at < ?1 LIMIT ?2) RETURNING 1',
    )
    .bind(cutoff, limit);
}
