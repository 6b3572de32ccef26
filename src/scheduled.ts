// The maintenance cron ([triggers] in wrangler.toml). Retention rules (README "Retention"):
//  1. sessions idle longer than SESSION_IDLE_TIMEOUT_MINUTES are expired (system audit row each);
//  2. Idempotency-Key records past expires_at are deleted;
//  2b. memories past expires_at are deleted (a system `memory.expire` audit row each);
//  2c. change-feed rows older than CHANGE_FEED_RETENTION_MS are deleted;
//  2d. webhook delivery attempts older than WEBHOOK_DELIVERY_RETENTION_MS are deleted;
//  3. tenants soft-deleted longer than TENANT_RETENTION_MS are erased with every row they own.
// Work is chunked (MAINTENANCE_CHUNK_ROWS rows per statement) and a run stops after
// MAINTENANCE_QUERY_BUDGET D1 queries; whatever is left is picked up by the next run, since every
// step is idempotent and re-selects what still needs doing.

import { pruneChangesStatement } from './db/changes';
import { shardDb, shardNames } from './db/directory';
import { expireMemoriesStatements } from './db/memories';
import { resumeProvisioning } from './db/provision';
import {
  purgeableTenantsStatement,
  purgeIdempotencyKeysStatement,
  purgeTenantChildStatements,
  purgeTenantStatement,
  TENANT_CHILD_TABLES,
} from './db/retention';
import { expireIdleSessionsStatements } from './db/sessions';
import { dueWebhookTenantsStatement, pruneDeliveriesStatement } from './db/webhooks';
import type { Env } from './env';
import {
  CHANGE_FEED_RETENTION_MS,
  MAINTENANCE_CHUNK_ROWS,
  MAINTENANCE_QUERY_BUDGET,
  sessionIdleTimeoutMs,
  TENANT_RETENTION_MS,
  WEBHOOK_DELIVERY_RETENTION_MS,
} from './lib/limits';
import { syncIndex } from './vectors/vectorize';
import { kickWebhooks } from './webhooks/wake';

export const MIN_QUERY_BUDGET = 6 + TENANT_CHILD_TABLES + 1;

export interface MaintenanceReport {
  sessions_expired: number;
  idempotency_keys_purged: number;
  memories_expired: number;
  changes_pruned: number;
  webhook_deliveries_pruned: number;
  tenants_purged: string[];
  rows_purged: number;
  queries: number;
  /** false when the query budget ran out before everything was done (the next run continues). */
  complete: boolean;
}

export interface MaintenanceOptions {
  now?: number;
  chunkRows?: number;
  queryBudget?: number;
}

/**
 * Runs maintenance on every shard, each within its own query budget (the shards are separate
 * databases), then finishes provisioning left unfinished; the report sums the shards'.
 */
export async function runMaintenance(env: Env, opts: MaintenanceOptions = {}): Promise<MaintenanceReport> {
  const now = opts.now ?? Date.now();
  const reports: MaintenanceReport[] = [];
  for (const shard of shardNames(env)) {
    const report = await maintainShard(env, shardDb(env, shard), { ...opts, now });
    // The directory forgets purged tenants and their identities (their users rows are gone).
    if (report.tenants_purged.length > 0) {
      const ids = JSON.stringify(report.tenants_purged);
      await env.DB.batch([
        env.DB.prepare('DELETE FROM directory_identities WHERE tenant_id IN (SELECT value FROM json_each(?1))').bind(
          ids,
        ),
        env.DB.prepare('DELETE FROM directory_tenants WHERE tenant_id IN (SELECT value FROM json_each(?1))').bind(ids),
      ]);
    }
    reports.push(report);
  }
  await resumeProvisioning(env, now, 10);
  return {
    sessions_expired: sum(reports, (r) => r.sessions_expired),
    idempotency_keys_purged: sum(reports, (r) => r.idempotency_keys_purged),
    memories_expired: sum(reports, (r) => r.memories_expired),
    changes_pruned: sum(reports, (r) => r.changes_pruned),
    webhook_deliveries_pruned: sum(reports, (r) => r.webhook_deliveries_pruned),
    tenants_purged: reports.flatMap((r) => r.tenants_purged),
    rows_purged: sum(reports, (r) => r.rows_purged),
    queries: sum(reports, (r) => r.queries),
    complete: reports.every((r) => r.complete),
  };
}

const sum = (reports: MaintenanceReport[], pick: (r: MaintenanceReport) => number) =>
  reports.reduce((total, r) => total + pick(r), 0);

async function maintainShard(env: Env, db: D1Database, opts: MaintenanceOptions & { now: number }) {
  const now = opts.now;
  const chunk = opts.chunkRows ?? MAINTENANCE_CHUNK_ROWS;
  // A run must be able to reach a tenant's final DELETE (6 fixed queries + one per child table +
  // the tenant row) even when no chunk is full, or a small budget would redo the same empty
  // chunks forever.
  const budget = Math.max(opts.queryBudget ?? MAINTENANCE_QUERY_BUDGET, MIN_QUERY_BUDGET);
  const report: MaintenanceReport = {
    sessions_expired: 0,
    idempotency_keys_purged: 0,
    memories_expired: 0,
    changes_pruned: 0,
    webhook_deliveries_pruned: 0,
    tenants_purged: [],
    rows_purged: 0,
    queries: 0,
    complete: false,
  };
  const canQuery = () => report.queries < budget;
  const run = async (stmt: D1PreparedStatement) => {
    report.queries++;
    return (await stmt.all()).results;
  };

  // 1. Idle sessions: the audit insert and the update select the same rows in one transaction.
  const idleCutoff = now - sessionIdleTimeoutMs(env.SESSION_IDLE_TIMEOUT_MINUTES);
  for (;;) {
    if (!canQuery()) return report;
    report.queries++;
    const [, expired] = await db.batch(expireIdleSessionsStatements(db, idleCutoff, now, chunk));
    const n = expired!.meta.changes ?? 0;
    report.sessions_expired += n;
    if (n < chunk) break;
  }

  // 2. Expired idempotency records.
  for (;;) {
    if (!canQuery()) return report;
    const n = (await run(purgeIdempotencyKeysStatement(db, now, chunk))).length;
    report.idempotency_keys_purged += n;
    if (n < chunk) break;
  }

  // 2b. Expired memories (already invisible to every reader; this frees their space and quota).
  for (;;) {
    if (!canQuery()) return report;
    report.queries++;
    const [, , deleted] = await db.batch(expireMemoriesStatements(db, now, chunk));
    const n = deleted!.results.length;
    await syncIndex(env, { remove: (deleted!.results as { id: string }[]).map((r) => r.id) });
    report.memories_expired += n;
    if (n < chunk) break;
  }

  // 2c. Change-feed rows past retention (a cursor older than that is a 410: routes/changes).
  for (;;) {
    if (!canQuery()) return report;
    const n = (await run(pruneChangesStatement(db, now - CHANGE_FEED_RETENTION_MS, chunk))).length;
    report.changes_pruned += n;
    if (n < chunk) break;
  }

  // 2d. Webhook delivery attempts past retention.
  for (;;) {
    if (!canQuery()) return report;
    const n = (await run(pruneDeliveriesStatement(db, now - WEBHOOK_DELIVERY_RETENTION_MS, chunk))).length;
    report.webhook_deliveries_pruned += n;
    if (n < chunk) break;
  }

  // 3. Tenants past retention, child tables chunk by chunk, then the tenant row (cascades).
  const retentionCutoff = now - TENANT_RETENTION_MS;
  for (;;) {
    if (!canQuery()) return report;
    const tenants = (await run(purgeableTenantsStatement(db, retentionCutoff, 10))) as { id: string }[];
    for (const { id } of tenants) {
      for (const stmt of purgeTenantChildStatements(db, id, retentionCutoff, chunk)) {
        for (;;) {
          if (!canQuery()) return report;
          const rows = (await run(stmt)) as { id?: string }[];
          const n = rows.length;
          report.rows_purged += n;
          // Erased memories leave the vector index too (their chunk returns their ids).
          await syncIndex(env, { remove: rows.flatMap((r) => (r.id ? [r.id] : [])) });
          if (n < chunk) break;
        }
      }
      if (!canQuery()) return report;
      if ((await run(purgeTenantStatement(db, id, retentionCutoff))).length > 0) report.tenants_purged.push(id);
    }
    if (tenants.length < 10) break;
  }
  report.complete = true;
  return report;
}

/** Wakes the dispatchers of up to `limit` tenants with webhook deliveries due; returns how many. */
export async function kickDueWebhooks(env: Env, now: number, limit = 1000): Promise<number> {
  const due = [];
  for (const shard of shardNames(env))
    due.push(
      ...(await dueWebhookTenantsStatement(shardDb(env, shard), now, limit).all<{ tenant_id: string }>()).results,
    );
  await Promise.all(due.map((t) => kickWebhooks(env, t.tenant_id)));
  return due.length;
}

/** The Worker's `scheduled` entry point. */
export async function scheduled(controller: ScheduledController, env: Env): Promise<void> {
  const startedAt = Date.now();
  try {
    const report = await runMaintenance(env, { now: controller.scheduledTime });
    const webhook_tenants_woken = await kickDueWebhooks(env, controller.scheduledTime);
    console.log(
      JSON.stringify({
        event: 'maintenance',
        cron: controller.cron,
        duration_ms: Date.now() - startedAt,
        ...report,
        webhook_tenants_woken,
      }),
    );
  } catch (err) {
    console.error(
      JSON.stringify({
        event: 'maintenance_failed',
        cron: controller.cron,
        duration_ms: Date.now() - startedAt,
        message: err instanceof Error ? err.message : String(err),
        stack: err instanceof Error ? err.stack : undefined,
      }),
    );
    throw err;
  }
}
