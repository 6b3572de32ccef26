/** What a D1 round trip does: succeed, fail before reaching D1, or fail after it committed. */
export type Fault = 'ok' | { before: string } | { after: string };

/**
 * Wraps a D1 binding so its round trips follow `script` (one entry per call, then 'ok'), the way a
 * flaky network or an overloaded database would. `state.calls` counts the round trips tried.
 */
export function faultyD1(db: D1Database, script: Fault[]) {
  const state = { calls: 0 };
  const statements = new WeakMap<object, D1PreparedStatement>();
  const run = async <T>(go: () => Promise<T>): Promise<T> => {
    const fault = script[state.calls++] ?? 'ok';
    if (fault !== 'ok' && 'before' in fault) throw new Error(fault.before);
    const result = await go();
    if (fault !== 'ok' && 'after' in fault) throw new Error(fault.after);
    return result;
  };
  const wrap = (stmt: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        if (prop === 'bind') return (...args: unknown[]) => wrap(target.bind(...args));
        const value = Reflect.get(target, prop, target);
        if (prop === 'all' || prop === 'run' || prop === 'first' || prop === 'raw') {
          return (...args: unknown[]) =>
            run(() => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    statements.set(proxy, stmt);
    return proxy;
  };
  // A session (src/db/session.ts) follows the same script as the binding it came from.
  const wrapDb = <T extends object>(db: T): T =>
    new Proxy(db, {
      get(target, prop) {
        const real = target as unknown as D1Database;
        if (prop === 'prepare') return (sql: string) => wrap(real.prepare(sql));
        if (prop === 'batch')
          return (stmts: D1PreparedStatement[]) => run(() => real.batch(stmts.map((s) => statements.get(s) ?? s)));
        if (prop === 'withSession') return (constraint?: string) => wrapDb(real.withSession(constraint));
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  const binding = wrapDb(db);
  return { binding, state };
}
