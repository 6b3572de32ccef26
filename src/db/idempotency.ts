// Stored responses for Idempotency-Key (migrations/005). Everything runs inside the request's one
// batch: the lookup reads the key before the writes, every write is guarded by keyIsFreshSql()
// (so a key already stored — by an earlier or a concurrent request, batches are serialised —
// writes nothing twice), and the store statement runs after the writes, only if they happened.
import { IDEMPOTENCY_TTL_MS } from '../lib/limits';
import { Binder, prepared } from './binder';
import { withCaller } from './caller';

export interface IdempotencyRow {
  request_hash: string;
  status: number;
  response_body: string;
  headers: string;
}

export interface IdempotencyKey {
  key: string;
  hash: string;
  now: number;
}

/** The caller's live stored response for `key`, if any (place before the writes). */
export function idempotencyLookup(db: D1Database, sub: string, k: IdempotencyKey): D1PreparedStatement {
  return db
    .prepare(
      withCaller(
        `SELECT i.request_hash, i.status, i.response_body, i.headers FROM idempotency_keys i, caller c
         WHERE i.tenant_id = c.tenant_id AND i.key = ?2 AND i.expires_at > ?3`,
      ),
    )
    .bind(sub, k.key, k.now);
}

/** SQL condition (needs the `caller` CTE): no live stored response for the key yet. */
export function keyIsFreshSql(b: Binder, k: IdempotencyKey | null): string {
  if (!k) return '1';
  return `NOT EXISTS (SELECT 1 FROM idempotency_keys i WHERE i.tenant_id = (SELECT tenant_id FROM caller) AND i.key = ${b.bind(k.key)} AND i.expires_at > ${b.bind(k.now)})`;
}

/**
 * Stores the response for the key when `onlyIf` holds (SQL built with the same binder, e.g.
 * "the row we inserted exists"). `body` is JSON text, or `bodySql` an SQL expression computed
 * after the writes (e.g. the ids of the created rows). An expired row for the key is replaced.
 */
export function idempotencyStore(
  db: D1Database,
  sub: string,
  k: IdempotencyKey,
  response: { status: number; body?: string; bodySql?: (b: Binder) => string; headers?: Record<string, string> },
  onlyIf: (b: Binder) => string = () => '1',
): D1PreparedStatement {
  const b = new Binder(sub);
  const body = response.bodySql ? response.bodySql(b) : b.bind(response.body ?? 'null');
  const sql = withCaller(
    `INSERT OR REPLACE INTO idempotency_keys (tenant_id, key, request_hash, status, response_body, headers, created_at, expires_at)
     SELECT c.tenant_id, ${b.bind(k.key)}, ${b.bind(k.hash)}, ${b.bind(response.status)}, ${body}, ${b.bind(JSON.stringify(response.headers ?? {}))},
            ${b.bind(k.now)}, ${b.bind(k.now + IDEMPOTENCY_TTL_MS)}
     FROM caller c WHERE ${keyIsFreshSql(b, k)} AND ${onlyIf(b)}`,
  );
  return prepared(db, b, sql);
}
