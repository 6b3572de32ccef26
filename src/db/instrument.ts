/** What one request cost in D1: round trips and the rows D1 reports reading and writing. */
export interface D1Stats {
  roundTrips: number;
  rowsRead: number;
  rowsWritten: number;
}

type Meta = { rows_read?: number; rows_written?: number };

/**
 * Wraps a D1 binding so every round trip (batch, exec, or a statement's all/first/run/raw) is
 * counted with its rows read/written. Reported per request in the Server-Timing header; the
 * benchmark reads it to check the performance budget.
 */
export function instrumentD1(db: D1Database, stats: D1Stats): D1Database {
  const real = new WeakMap<object, D1PreparedStatement>();
  const add = (meta: Meta | undefined) => {
    stats.rowsRead += meta?.rows_read ?? 0;
    stats.rowsWritten += meta?.rows_written ?? 0;
  };
  const wrapStatement = (stmt: D1PreparedStatement): D1PreparedStatement => {
    const proxy: D1PreparedStatement = new Proxy(stmt, {
      get(target, prop) {
        if (prop === 'bind') return (...args: unknown[]) => wrapStatement(target.bind(...args));
        if (prop === 'all' || prop === 'run' || prop === 'first' || prop === 'raw') {
          return async (...args: unknown[]) => {
            stats.roundTrips++;
            if (prop === 'all' || prop === 'run') {
              const result = (await (target[prop] as (...a: unknown[]) => Promise<D1Result>)(...args)) as D1Result;
              add(result.meta as Meta);
              return result;
            }
            return (target[prop] as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    real.set(proxy, stmt);
    return proxy;
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => wrapStatement(target.prepare(sql));
      if (prop === 'batch') {
        return async (statements: D1PreparedStatement[]) => {
          stats.roundTrips++;
          const results = await target.batch(statements.map((s) => real.get(s) ?? s));
          for (const r of results) add(r.meta as Meta);
          return results;
        };
      }
      if (prop === 'exec') {
        return async (sql: string) => {
          stats.roundTrips++;
          return target.exec(sql);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export const serverTiming = (s: D1Stats) =>
  `d1;desc="round_trips=${s.roundTrips} rows_read=${s.rowsRead} rows_written=${s.rowsWritten}"`;
