import { ApiError } from '../lib/problem';

// D1 failures, handled in one place. Transient errors (lost connection, the database object
// reset) on READ-ONLY calls are retried with backoff; a call that writes is never retried (its
// outcome is unknown: it may have committed) and neither is "overloaded" (retrying adds load).
// Whatever still fails with such an error becomes 503 + Retry-After, never a raw 500.
// Other errors (constraints, SQL) pass through unchanged.

const TRANSIENT = [
  /Network connection lost/i,
  /object to be reset/i,
  /reset because its code was updated/i,
  /transient issue/i,
  /isolate exceeded its memory limit/i,
  /internal error/i,
];
const OVERLOADED = [/overloaded/i, /too many requests queued/i, /queued for too long/i];
const WRITES =
  /\b(INSERT|UPDATE|DELETE|REPLACE|UPSERT|CREATE|DROP|ALTER|PRAGMA|VACUUM|REINDEX|ANALYZE|ATTACH|DETACH)\b/i;

export const READ_ATTEMPTS = 3;
const BACKOFF_MS = [20, 80];

type Kind = 'transient' | 'overloaded';
function classify(err: unknown): Kind | null {
  if (err instanceof ApiError) return null;
  const message = err instanceof Error ? err.message : String(err);
  if (OVERLOADED.some((p) => p.test(message))) return 'overloaded';
  if (TRANSIENT.some((p) => p.test(message))) return 'transient';
  return null;
}

function unavailable(kind: Kind, wrote: boolean, err: unknown): ApiError {
  console.error(
    JSON.stringify({
      event: 'd1_unavailable',
      kind,
      write: wrote,
      message: err instanceof Error ? err.message : String(err),
    }),
  );
  const retryAfter = kind === 'overloaded' ? 5 : 2;
  return new ApiError(
    'database_unavailable',
    `The database is temporarily unavailable; retry after ${retryAfter} s.` +
      (wrote ? ' A write may or may not have been applied: retry it with the same Idempotency-Key.' : ''),
    { headers: { 'Retry-After': String(retryAfter) } },
  );
}

async function attempt<T>(readOnly: boolean, run: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await run();
    } catch (err) {
      const kind = classify(err);
      if (!kind) throw err;
      if (!readOnly || kind === 'overloaded' || i >= READ_ATTEMPTS) throw unavailable(kind, !readOnly, err);
      const base = BACKOFF_MS[i - 1] ?? 80;
      await new Promise((resolve) => setTimeout(resolve, base + Math.random() * base));
    }
  }
}

/** Wraps a D1 binding with the retry/503 policy above. */
export function resilientD1(db: D1Database): D1Database {
  const inner = new WeakMap<object, { stmt: D1PreparedStatement; readOnly: boolean }>();
  const wrapStatement = (stmt: D1PreparedStatement, readOnly: boolean): D1PreparedStatement => {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        if (prop === 'bind') return (...args: unknown[]) => wrapStatement(target.bind(...args), readOnly);
        const value = Reflect.get(target, prop, target);
        if (prop === 'all' || prop === 'run' || prop === 'first' || prop === 'raw') {
          return (...args: unknown[]) =>
            attempt(readOnly, () => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    inner.set(proxy, { stmt, readOnly });
    return proxy;
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => wrapStatement(target.prepare(sql), !WRITES.test(sql));
      if (prop === 'batch') {
        return (statements: D1PreparedStatement[]) => {
          const unwrapped = statements.map((s) => inner.get(s) ?? { stmt: s, readOnly: false });
          return attempt(
            unwrapped.every((s) => s.readOnly),
            () => target.batch(unwrapped.map((s) => s.stmt)),
          );
        };
      }
      if (prop === 'exec') return (sql: string) => attempt(false, () => target.exec(sql));
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
