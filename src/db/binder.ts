/**
 * Numbered SQL parameters built alongside the SQL text, for statements assembled from parts
 * (filters, guards). The token subject is always ?1 (the `caller` CTE convention).
 *   const b = new Binder(sub); const sql = `... WHERE x = ${b.bind(value)}`; stmt.bind(...b.params)
 */
export class Binder {
  readonly params: unknown[];
  constructor(sub: string) {
    this.params = [sub];
  }
  bind(value: unknown): string {
    this.params.push(value === undefined ? null : value);
    return `?${this.params.length}`;
  }
}

/** Prepares `sql` with the binder's parameters. */
export function prepared(db: D1Database, b: Binder, sql: string): D1PreparedStatement {
  return db.prepare(sql).bind(...b.params);
}
