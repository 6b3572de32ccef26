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
} from '../db/directory';
import type { AppEnv } from '../env';
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
