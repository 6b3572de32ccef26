// The change feed (GET /v1/changes): rows written by the triggers of migrations/012_memory_changes.sql.

import { toIso } from '../lib/time';
import { Binder, prepared } from './binder';
import { withCaller } from './caller';
import { type MemoryRow, toMemory, visibleSql } from './memories';

export type ChangeType =
  | 'create'
  | 'import'
  | 'update'
  | 'tags_add'
  | 'tag_remove'
  | 'delete'
  | 'restore'
  | 'version_restore'
  | 'purge'
  | 'expire';

export interface ChangeRow {
  seq: number;
  type: ChangeType;
  memory_id: string;
  occurred_at: number;
  /** The state after the change (raw columns as JSON), only when the caller may see the memory now. */
  memory: string | null;
}

/**
 * One page (limit + 1 rows) of the caller's tenant's changes after `afterSeq`, in seq order.
 * A change is listed when the caller may see its memory now (the one visibility predicate), or,
 * once the memory row is gone (purge, expiry), when its last known scope (that of its latest
 * change, the tombstone) let the caller see it (global, or the caller's own private memory). Values are shown only for memories visible now,
 * as for audit rows; a memory purged later keeps its earlier entries with `memory` null.
 */
export function listChangesStatement(db: D1Database, sub: string, afterSeq: number, limit: number) {
  const b = new Binder(sub);
  const sql = `SELECT ch.seq, ch.type, ch.memory_id, ch.occurred_at, CASE WHEN m.id IS NOT NULL THEN ch.memory END AS memory
    FROM caller c JOIN memory_changes ch ON ch.tenant_id = c.tenant_id AND ch.seq > ${b.bind(afterSeq)}
    LEFT JOIN memories m ON m.id = ch.memory_id AND ${visibleSql(b, undefined)}
    WHERE m.id IS NOT NULL OR (NOT EXISTS (SELECT 1 FROM memories g WHERE g.id = ch.memory_id)
      AND EXISTS (SELECT 1 FROM (SELECT l.access_scope, l.user_id FROM memory_changes l WHERE l.memory_id = ch.memory_id ORDER BY l.seq DESC LIMIT 1) l
        WHERE l.access_scope = 'global' OR (l.access_scope = 'private' AND l.user_id = c.user_id)))
    ORDER BY ch.seq LIMIT ${b.bind(limit + 1)}`;
  return prepared(db, b, withCaller(sql));
}

/** A change as the API shows it (the feed's entries and the webhooks' `data`). */
export function toChange(r: ChangeRow) {
  return {
    seq: r.seq,
    type: r.type,
    memory_id: r.memory_id,
    occurred_at: toIso(r.occurred_at)!,
    // The stored state as a MemoryRow (tags and metadata stay JSON text, as in the table).
    memory: r.memory === null ? null : toMemory(JSON.parse(r.memory) as MemoryRow),
  };
}

/** Cron: deletes up to `limit` changes older than `cutoff` (the feed's retention). */
export function pruneChangesStatement(db: D1Database, cutoff: number, limit: number) {
  return db
    .prepare(
      'DELETE FROM memory_changes WHERE seq IN (SELECT seq FROM memory_changes WHERE occurred_at < ?1 LIMIT ?2) RETURNING 1',
    )
    .bind(cutoff, limit);
}
