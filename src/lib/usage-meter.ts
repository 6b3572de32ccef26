import type { Context } from 'hono';
import { shardDb } from '../db/directory';
import type { D1Stats } from '../db/instrument';
import { addUsageStatement, type MeteredUsage } from '../db/usage';
import type { AppEnv } from '../env';
import { USAGE_FLUSH_INTERVAL_MS } from './limits';
import { utcDay } from './time';

// Usage counting without touching the request path (DESIGN.md budget: no extra round trip, no
// write on a read). Each request's counts (1 request, 1 search if it was one, the D1 rows it read)
// are added to this isolate's in-memory totals per tenant and UTC day. The totals are written
// with ONE upsert statement, after a response (ctx.waitUntil), at most once per
// USAGE_FLUSH_INTERVAL_MS per isolate, whatever the number of tenants or requests: the one
// deliberate background write. What an evicted isolate had not flushed yet (at most one interval's
// worth) is lost; a failed flush is put back and retried with the next one.
//
// Counted: requests that resolved a caller (runAsCaller sets `caller`), whatever their status.
// Not folded into write batches: a write's cost (Server-Timing rows_written) stays its own.

/** The routes that count as a search. */
const SEARCH_PATHS = new Set(['/v1/memories/search']);

type PendingUsage = MeteredUsage & { shard: string };
const pending = new Map<string, PendingUsage>();
let lastFlushAt = 0;
let flushing: Promise<void> = Promise.resolve();

/** Adds the finished request to the isolate's totals and starts a flush when one is due. */
export function meterRequest(c: Context<AppEnv>, stats: D1Stats, now = Date.now()): void {
  const tenantId = c.get('caller')?.tenant_id; // set by runAsCaller
  if (!tenantId) return;
  const day = utcDay(now);
  const shard = c.get('shard') ?? 'DB';
  const key = `${shard}|${tenantId}|${day}`;
  let row = pending.get(key);
  if (!row) pending.set(key, (row = { shard, tenant_id: tenantId, day, requests: 0, searches: 0, rows_read: 0 }));
  row.requests++;
  if (SEARCH_PATHS.has(c.req.path)) row.searches++;
  row.rows_read += stats.rowsRead;

  if (now - lastFlushAt < USAGE_FLUSH_INTERVAL_MS) return;
  let waitUntil: (p: Promise<unknown>) => void;
  try {
    const ctx = c.executionCtx;
    waitUntil = ctx.waitUntil.bind(ctx);
  } catch {
    return; // no execution context (e.g. app.request in a script): keep the counts for later
  }
  lastFlushAt = now;
  // SHARD_n bindings are the shards themselves; DB (the one-database default) is the request's.
  waitUntil(flushUsage((shard) => shardDb(c.env, shard)));
}

/**
 * Writes and clears the isolate's totals, after any flush in progress, each tenant's on its own
 * shard (`db` names the database of a shard, or is the one database). Tests call it directly.
 */
export function flushUsage(db: D1Database | ((shard: string) => D1Database)): Promise<void> {
  const of = typeof db === 'function' ? db : () => db;
  return (flushing = flushing.then(async () => {
    const byShard = new Map<string, PendingUsage[]>();
    for (const r of pending.values()) byShard.set(r.shard, [...(byShard.get(r.shard) ?? []), r]);
    pending.clear();
    for (const [shard, rows] of byShard) await writePending(of(shard), rows);
  }));
}

async function writePending(db: D1Database, rows: PendingUsage[]): Promise<void> {
  try {
    await addUsageStatement(db, rows).run();
  } catch (err) {
    for (const r of rows) {
      const key = `${r.shard}|${r.tenant_id}|${r.day}`;
      const now = pending.get(key);
      if (now) {
        now.requests += r.requests;
        now.searches += r.searches;
        now.rows_read += r.rows_read;
      } else pending.set(key, r);
    }
    console.error(
      JSON.stringify({
        event: 'usage_flush_failed',
        rows: rows.length,
        message: err instanceof Error ? err.message : String(err),
      }),
    );
  }
}
