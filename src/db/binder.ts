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

/**
 * `parts` joined by a binary operator (+, OR, AND) as a balanced tree: D1 refuses an expression
 * tree deeper than 100, which a flat chain of 64 query terms (each a nested subquery) exceeds.
 */
export function balancedSql(parts: string[], operator: '+' | 'OR' | 'AND'): string {
  if (parts.length === 1) return parts[0]!;
  const half = Math.ceil(parts.length / 2);
  return `(${balancedSql(parts.slice(0, half), operator)} ${operator} ${balancedSql(parts.slice(half), operator)})`;
}
