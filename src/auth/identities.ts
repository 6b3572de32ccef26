// Adding, removing and re-binding a user keeps the directory in step with the shard's users
// table (src/db/directory.ts). With one database the directory follows in the write's own batch;
// across shards it is a saga: reserve the identity, write on the shard, then confirm the
// reservation or release it. A crash in between leaves a reservation the shard does not confirm,
// which the next claim of that identity reclaims.
import type { Context } from 'hono';
import {
  activateIdentityStatement,
  followUsersStatements,
  type IdentityEntry,
  lookupIdentity,
  releaseIdentityStatement,
  reserveIdentity,
  shardNames,
  tenantShard,
} from '../db/directory';
import type { AppEnv } from '../env';
import { ApiError } from '../lib/problem';
import { notProvisioned } from './middleware';

const oneDatabase = (c: Context<AppEnv>) => shardNames(c.env).length === 1 && shardNames(c.env)[0] === 'DB';

/**
 * Binds identity `sub` to a new user of a tenant: `write(extra)` runs the shard's batch with
 * `extra` appended and returns the results of `extra`. Returns the entry that holds the identity
 * elsewhere (then nothing was written), or null.
 */
export async function bindIdentity(
  c: Context<AppEnv>,
  target: {
    sub: string;
    placement: () => Promise<{ tenantId: string; shard: string }>;
    /** The database of the write (default: the shard's own); the caller's router for its own tenant. */
    db?: D1Database;
  },
  write: (extra: D1PreparedStatement[], db: D1Database) => Promise<D1Result[]>,
): Promise<IdentityEntry | null> {
  const now = Date.now();
  if (oneDatabase(c)) {
    await write(followUsersStatements(c.env.DB, { sub: target.sub }, now), c.env.DB);
    return null;
  }
  const dir = c.get('databases').DB;
  const { tenantId, shard } = await target.placement();
  const held = await reserveIdentity(c.get('databases'), { auth0_id: target.sub, tenant_id: tenantId, shard }, now);
  if (held) return held;
  let bound = false;
  try {
    // The shard decides: after the batch, does a live user of this tenant hold the identity?
    const db = target.db ?? c.get('databases')[shard as 'DB'];
    const [probe] = await write(
      [
        db
          .prepare('SELECT 1 AS live FROM users WHERE auth0_id = ?1 AND tenant_id = ?2 AND deleted_at IS NULL')
          .bind(target.sub, tenantId),
      ],
      db,
    );
    bound = (probe?.results.length ?? 0) > 0;
  } finally {
    await (bound
      ? activateIdentityStatement(dir, target.sub, tenantId, Date.now())
      : releaseIdentityStatement(dir, target.sub, tenantId)
    ).run();
  }
  return null;
}

/** Appended to a shard write that may remove user `userId`: with one database the directory follows. */
export function unbindStatements(c: Context<AppEnv>, userId: string): D1PreparedStatement[] {
  return oneDatabase(c) ? followUsersStatements(c.env.DB, { userId }, Date.now()) : [];
}

/** The shard and tenant holding invitation `id` (null: none does). */
export async function invitationPlacement(
  c: Context<AppEnv>,
  id: string,
): Promise<{ tenantId: string; shard: string } | null> {
  const databases = c.get('databases');
  const found = await Promise.all(
    shardNames(c.env).map(async (shard) => {
      const row = await databases[shard as 'DB']
        .prepare('SELECT tenant_id FROM invitations WHERE id = ?1')
        .bind(id)
        .first<{ tenant_id: string }>();
      return row ? { tenantId: row.tenant_id, shard } : null;
    }),
  );
  return found.find((f) => f !== null) ?? null;
}

/** The caller's tenant and shard, as the directory records them (across shards only). */
export async function callerPlacement(c: Context<AppEnv>): Promise<{ tenantId: string; shard: string }> {
  const entry = await lookupIdentity(c.get('databases').DB, c.get('auth').sub);
  if (!entry) throw notProvisioned(c.get('requestId'));
  return { tenantId: entry.tenant_id, shard: entry.shard };
}

/** Across shards, after the removal committed: release the identity (its shard no longer holds it). */
export async function releaseIdentity(c: Context<AppEnv>, sub: string, tenantId: string): Promise<void> {
  if (oneDatabase(c)) return;
  const dir = c.get('databases').DB;
  await releaseIdentityStatement(dir, sub, tenantId).run();
}

/**
 * Import binds live services directly (src/routes/data/index.ts). With one database the users
 * table keeps their identities unique; across shards: the identities another tenant holds in the
 * directory (the import maps those to the importer, as one database does).
 */
export async function identitiesHeldElsewhere(c: Context<AppEnv>, subs: string[], tenantId: string) {
  if (oneDatabase(c)) return new Set<string>();
  const dir = c.get('databases').DB;
  const entries = await Promise.all(subs.map((sub) => lookupIdentity(dir, sub)));
  return new Set(entries.flatMap((e) => (e && e.tenant_id !== tenantId ? [e.auth0_id] : [])));
}

/**
 * Runs an import's write with the identities it binds held in the directory: reserved before,
 * confirmed after it committed, released if it did not (the saga of bindIdentity). `write` must
 * throw when the shard wrote nothing.
 */
export async function withImportedIdentities<T>(
  c: Context<AppEnv>,
  tenantId: string,
  subs: string[],
  write: () => Promise<T>,
): Promise<T> {
  if (oneDatabase(c) || subs.length === 0) return write();
  const databases = c.get('databases');
  const shard = await tenantShard(databases, tenantId);
  if (!shard) throw new ApiError('conflict', "The caller's tenant is not placed on a shard yet; retry the chunk.");
  const reserved: string[] = [];
  let written = false;
  try {
    for (const sub of subs) {
      if (await reserveIdentity(databases, { auth0_id: sub, tenant_id: tenantId, shard }))
        throw new ApiError(
          'conflict',
          `The identity ${sub} joined another tenant meanwhile; nothing was written. Retry the chunk.`,
        );
      reserved.push(sub);
    }
    const result = await write();
    written = true;
    return result;
  } finally {
    for (const sub of reserved)
      await (written
        ? activateIdentityStatement(databases.DB, sub, tenantId, Date.now())
        : releaseIdentityStatement(databases.DB, sub, tenantId)
      ).run();
  }
}
