/** What a D1 round trip does: succeed, fail before reaching D1, or fail after it committed. */
export type Fault = 'ok' | { before: string } | { after: string };

/**
 * Wraps a D1 binding so its round trips follow `script` (one entry per call, then 'ok'), the way a
 * flaky network or an overloaded database would. `state.calls` counts the round trips tried.
 */
export function faultyD1(db: D1Database, script: Fault[]) {
  const state = { calls: 0 };
  const real = new WeakMap<object, D1PreparedStatement>();
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
    real.set(proxy, stmt);
    return proxy;
  };
  const binding = new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => wrap(target.prepare(sql));
      if (prop === 'batch')
        return (stmts: D1PreparedStatement[]) => run(() => target.batch(stmts.map((s) => real.get(s) ?? s)));
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { binding, state };
}
