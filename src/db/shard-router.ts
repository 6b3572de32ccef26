// The request's database. With one shard it is that database's session, as it always was. With
// several, it is a router that sends each statement and batch to the caller's shard, so routes keep
// using `c.env.DB` and one batch per request.
//
// The isolate remembers identity → shard. A remembered shard is checked inside the request's own
// batch: a first statement asks that shard whether it holds a live user for the identity (the
// shard's users row is the authority). If it does not (the tenant moved, the user was removed or
// re-bound elsewhere), every caller-scoped statement of that batch saw an empty caller and did
// nothing; the router asks the directory once and, when it names another shard, runs the batch
// there. A cold request costs one directory read before its batch.

import type { Env } from '../env';
import { lookupIdentity, shardDb, shardNames } from './directory';
import { type D1Stats, instrumentD1 } from './instrument';
import { resilientD1 } from './resilience';
import { requestSession } from './session';

const MAX_ENTRIES = 10_000;
const shardBySubject = new Map<string, string>();

function remember(sub: string, shard: string) {
  shardBySubject.delete(sub);
  if (shardBySubject.size >= MAX_ENTRIES) shardBySubject.delete(shardBySubject.keys().next().value!);
  shardBySubject.set(sub, shard);
}

/** Records where an identity was just placed, so its next request here is warm. */
export function rememberShard(sub: string, shard: string) {
  remember(sub, shard);
}

type Session = D1Database | D1DatabaseSession;

export interface RequestDatabase {
  /** What routes use as `c.env.DB`. */
  db: D1Database;
  /** The bookmark of the session the request used last (null if it read nothing). */
  bookmark(): string | null;
  /** The shard the request's caller lives on, once a statement ran there. */
  shard(): string | null;
  /**
   * The bindings with DB as the directory itself and each SHARD_n as is, on this request's
   * sessions and counted: for work that spans the directory and shards (src/db/provision.ts).
   */
  direct: Env;
}

export interface RequestRouting {
  bookmark: string | undefined;
  authenticated: boolean;
  stats: D1Stats;
  /** The verified token's subject, once authentication ran. */
  subject: () => string | undefined;
}

export function requestDatabase(env: Env, r: RequestRouting): RequestDatabase {
  const names = shardNames(env);
  const sessions = new Map<string, { raw: Session; db: D1Database }>();
  let last: Session | undefined;
  let lastShard: string | null = null;
  const open = (name: string) => {
    let s = sessions.get(name);
    if (!s) {
      // A bookmark belongs to one database: the client's is for its shard, never the directory.
      const bookmark = name === 'DB' && names[0] !== 'DB' ? undefined : r.bookmark;
      const raw = requestSession(shardDb(env, name), bookmark, r.authenticated);
      s = { raw, db: instrumentD1(raw as unknown as D1Database, r.stats) };
      sessions.set(name, s);
    }
    last = s.raw;
    return s.db;
  };
  const bookmark = () => (last && 'getBookmark' in last ? last.getBookmark() : null);
  const direct = new Proxy(env, {
    get: (target, prop) =>
      typeof prop === 'string' && (prop === 'DB' || /^SHARD_\d+$/.test(prop)) && Reflect.get(target, prop)
        ? resilientD1(open(prop))
        : Reflect.get(target, prop),
  });
  // One shard; or an MCP tool call, an inner request of the app that runs on the outer request's
  // database (already a router, with no withSession of its own).
  if ((names.length === 1 && names[0] === 'DB') || typeof env.DB.withSession !== 'function') {
    return { db: open('DB'), bookmark, shard: () => 'DB', direct };
  }

  /** The subject's shard: remembered, or read from the directory (null: no entry). */
  const resolve = async (sub: string): Promise<{ shard: string | null; remembered: boolean }> => {
    const known = shardBySubject.get(sub);
    if (known) return { shard: known, remembered: true };
    const entry = await lookupIdentity(open('DB'), sub);
    if (entry) remember(sub, entry.shard);
    return { shard: entry?.shard ?? null, remembered: false };
  };

  const runBatch = async (statements: RoutedStatement[]): Promise<D1Result[]> => {
    const sub = r.subject();
    // No caller (public routes) or an identity the directory does not know: the directory
    // database, which holds no tenant data, so caller-scoped statements find nothing.
    const target = sub ? await resolve(sub) : { shard: null, remembered: false };
    if (!sub || !target.shard) return await open('DB').batch(statements.map((s) => s.on(open('DB'))));
    const run = async (shard: string, check: boolean) => {
      const db = open(shard);
      lastShard = shard;
      const real = statements.map((s) => s.on(db));
      if (!check) return { confirmed: true, results: await db.batch(real) };
      const [holder, ...results] = await db.batch([
        db.prepare('SELECT 1 AS live FROM users WHERE auth0_id = ?1 AND deleted_at IS NULL').bind(sub),
        ...real,
      ]);
      return { confirmed: holder!.results.length > 0, results };
    };
    const first = await run(target.shard, target.remembered);
    if (first.confirmed) return first.results;
    shardBySubject.delete(sub);
    const fresh = await resolve(sub);
    if (!fresh.shard || fresh.shard === target.shard) return first.results;
    return (await run(fresh.shard, false)).results;
  };

  const router = {
    prepare: (sql: string) => new RoutedStatement(runBatch, sql, []),
    batch: (statements: D1PreparedStatement[]) => runBatch(statements as unknown as RoutedStatement[]),
    exec: (sql: string) => open('DB').exec(sql),
  };
  return { db: router as unknown as D1Database, bookmark, shard: () => lastShard, direct };
}

/** A statement bound to no database yet: the router prepares it on the shard it picks. */
class RoutedStatement {
  constructor(
    private readonly runBatch: (s: RoutedStatement[]) => Promise<D1Result[]>,
    readonly sql: string,
    readonly args: unknown[],
  ) {}
  bind(...args: unknown[]) {
    return new RoutedStatement(this.runBatch, this.sql, args);
  }
  on(db: D1Database): D1PreparedStatement {
    const stmt = db.prepare(this.sql);
    return this.args.length > 0 ? stmt.bind(...this.args) : stmt;
  }
  private async one(): Promise<D1Result> {
    return (await this.runBatch([this]))[0]!;
  }
  async all() {
    return await this.one();
  }
  async run() {
    return await this.one();
  }
  async first(column?: string) {
    const row = (await this.one()).results[0] as Record<string, unknown> | undefined;
    if (row === undefined) return null;
    return column === undefined ? row : (row[column] ?? null);
  }
  async raw(options?: { columnNames?: boolean }) {
    const rows = (await this.one()).results as Record<string, unknown>[];
    const values = rows.map((row) => Object.values(row));
    return options?.columnNames ? [Object.keys(rows[0] ?? {}), ...values] : values;
  }
}
