// Tenants are spread over shards (D1 bindings SHARD_0…SHARD_{N-1}); the directory (the DB
// binding) maps each identity to its tenant and shard, and each tenant to its shard. Without SHARD_
// bindings DB is the directory and the only shard: the embedded default.
//
// The directory is a routing hint plus a uniqueness reservation; the shard's own `users` row is
// the authority. There is no transaction across databases, so every change that spans both is a
// sequence of idempotent steps (docs/architecture.md, "Shards"): reserve in the directory, write
// on the shard, confirm in the directory. A reservation the shard does not confirm (a crash between
// steps, a removal whose release was lost) is reclaimed by the next claim after checking the shard.

import type { Env } from '../env';

/** The binding names of the shards, in order; `['DB']` when the deployment has none. */
export function shardNames(env: Env): string[] {
  const names: string[] = [];
  for (let i = 0; env[`SHARD_${i}`]; i++) names.push(`SHARD_${i}`);
  return names.length > 0 ? names : ['DB'];
}

/** The D1 binding of a shard named in the directory. */
export function shardDb(env: Env, name: string): D1Database {
  const db = name === 'DB' ? env.DB : /^SHARD_\d+$/.test(name) ? env[name as `SHARD_${number}`] : undefined;
  if (!db) throw new Error(`The directory names shard ${name}, which this deployment does not bind.`);
  return db;
}

/** The shard holding a tenant's data, by the directory (null: the directory does not know it). */
export async function tenantShard(env: Env, tenantId: string): Promise<string | null> {
  if (shardNames(env)[0] === 'DB') return 'DB';
  const row = await env.DB.prepare('SELECT shard FROM directory_tenants WHERE tenant_id = ?1')
    .bind(tenantId)
    .first<{ shard: string }>();
  return row?.shard ?? null;
}

/** The database holding a tenant's data (work outside a request, such as webhook delivery, has no caller to route by). */
export async function tenantDatabase(env: Env, tenantId: string): Promise<D1Database> {
  const shard = await tenantShard(env, tenantId);
  return shard ? shardDb(env, shard) : env.DB;
}

export interface IdentityEntry {
  auth0_id: string;
  tenant_id: string;
  shard: string;
  state: 'pending' | 'active';
}

export function identityStatement(dir: D1Database, sub: string): D1PreparedStatement {
  return dir
    .prepare('SELECT auth0_id, tenant_id, shard, state FROM directory_identities WHERE auth0_id = ?1')
    .bind(sub);
}

export async function lookupIdentity(dir: D1Database, sub: string): Promise<IdentityEntry | null> {
  return await identityStatement(dir, sub).first<IdentityEntry>();
}

/**
 * Reserves `sub` for a tenant on a shard (state pending) unless another tenant holds it, in one
 * batch with `also` (statements that must themselves check the claim won); returns the entry as
 * it now stands, so the caller sees who holds the identity.
 */
export async function claimIdentity(
  dir: D1Database,
  entry: Omit<IdentityEntry, 'state'>,
  now = Date.now(),
  also: D1PreparedStatement[] = [],
): Promise<IdentityEntry> {
  const results = await dir.batch([
    dir
      .prepare(
        `INSERT INTO directory_identities (auth0_id, tenant_id, shard, state, updated_at) VALUES (?1, ?2, ?3, 'pending', ?4)
         ON CONFLICT (auth0_id) DO NOTHING`,
      )
      .bind(entry.auth0_id, entry.tenant_id, entry.shard, now),
    ...also,
    identityStatement(dir, entry.auth0_id),
  ]);
  return results.at(-1)!.results[0] as unknown as IdentityEntry;
}

/** Marks a reservation confirmed by its shard. */
export function activateIdentityStatement(dir: D1Database, sub: string, tenantId: string, now = Date.now()) {
  return dir
    .prepare(
      `UPDATE directory_identities SET state = 'active', updated_at = ?3 WHERE auth0_id = ?1 AND tenant_id = ?2 AND state <> 'active'`,
    )
    .bind(sub, tenantId, now);
}

/** Drops `sub`'s entry if it still points at `tenantId` (never someone else's newer claim). */
export function releaseIdentityStatement(dir: D1Database, sub: string, tenantId: string) {
  return dir.prepare('DELETE FROM directory_identities WHERE auth0_id = ?1 AND tenant_id = ?2').bind(sub, tenantId);
}

/** The tenant, if any, in which `sub` has a live user on `shard`: the authority over the directory. */
export async function liveTenantOn(shard: D1Database, sub: string): Promise<string | null> {
  const row = await shard
    .prepare('SELECT tenant_id FROM users WHERE auth0_id = ?1 AND deleted_at IS NULL')
    .bind(sub)
    .first<{ tenant_id: string }>();
  return row?.tenant_id ?? null;
}

/**
 * Claims `sub` for `tenantId` on `shard`. Another tenant's entry is only respected when its shard
 * confirms it (a live user, or a tenant still being provisioned); otherwise it is stale and taken
 * over. Returns null when the claim succeeded, or the entry that holds the identity.
 */
export async function reserveIdentity(
  env: Env,
  entry: Omit<IdentityEntry, 'state'>,
  now = Date.now(),
  also: D1PreparedStatement[] = [],
): Promise<IdentityEntry | null> {
  const dir = env.DB;
  for (let attempt = 0; attempt < 2; attempt++) {
    const held = await claimIdentity(dir, entry, now, also);
    if (held.tenant_id === entry.tenant_id) return null;
    if (await confirmedByShard(env, held)) return held;
    // Stale (a crash between steps, or a lost release): the shard disowns it, so take it over.
    await releaseIdentityStatement(dir, held.auth0_id, held.tenant_id).run();
  }
  return await lookupIdentity(dir, entry.auth0_id);
}

/** Whether the shard an entry names agrees that the identity belongs to that tenant. */
async function confirmedByShard(env: Env, held: IdentityEntry): Promise<boolean> {
  const provisioning = await env.DB.prepare(
    `SELECT 1 AS x FROM directory_tenants WHERE tenant_id = ?1 AND state = 'provisioning'`,
  )
    .bind(held.tenant_id)
    .first();
  if (provisioning) return true; // its saga will finish (the owner's retry or the cron)
  let live: string | null;
  try {
    live = await liveTenantOn(shardDb(env, held.shard), held.auth0_id);
  } catch {
    return false; // a shard this deployment no longer binds confirms nothing
  }
  return live === held.tenant_id;
}

/** Room on each shard, and the shard a new tenant goes to (docs/architecture.md, "Placement"). */
export interface ShardLoad {
  shard: string;
  memories: number;
  tenants: number;
}

export async function shardLoads(env: Env): Promise<ShardLoad[]> {
  return await Promise.all(
    shardNames(env).map(async (shard) => {
      const row = await shardDb(env, shard)
        .prepare('SELECT COALESCE(SUM(memory_count), 0) AS memories, COUNT(*) AS tenants FROM tenants')
        .first<{ memories: number; tenants: number }>();
      return { shard, memories: row?.memories ?? 0, tenants: row?.tenants ?? 0 };
    }),
  );
}

/**
 * The shard with the most room: fewest memories (the proxy for bytes: a memory costs about the
 * same everywhere, bench/RESULTS.md), then fewest tenants, then the lowest index.
 */
export function placeTenant(loads: ShardLoad[]): string {
  const sorted = [...loads].sort((a, b) => a.memories - b.memories || a.tenants - b.tenants);
  return sorted[0]!.shard;
}

/**
 * One database (the directory is the shard): the directory entry of `sub` follows the users
 * table in the write's own batch, after the write. Upserted while a live user holds the identity,
 * deleted once none does.
 */
export function followUsersStatements(
  db: D1Database,
  who: { sub: string } | { userId: string },
  now: number,
): D1PreparedStatement[] {
  const [key, value] = 'sub' in who ? ['?1', who.sub] : ['(SELECT auth0_id FROM users WHERE id = ?1)', who.userId];
  const sql = (text: string) => db.prepare(text.replaceAll('?1', key));
  return [
    sql(
      `INSERT INTO directory_identities (auth0_id, tenant_id, shard, state, updated_at)
       SELECT auth0_id, tenant_id, 'DB', 'active', ?2 FROM users WHERE auth0_id = ?1 AND deleted_at IS NULL
       ON CONFLICT (auth0_id) DO UPDATE SET tenant_id = excluded.tenant_id, shard = 'DB', state = 'active', updated_at = excluded.updated_at
       WHERE tenant_id <> excluded.tenant_id OR shard <> 'DB' OR state <> 'active'`,
    ).bind(value, now),
    sql(
      `DELETE FROM directory_identities WHERE auth0_id = ?1
       AND NOT EXISTS (SELECT 1 FROM users WHERE auth0_id = ?1 AND deleted_at IS NULL)`,
    ).bind(value),
  ];
}
