// Provisioning a tenant spans the directory and a shard, with no transaction across them. It is a
// saga of idempotent steps, each safe to run again:
//   1. reserve: the directory records the tenant (state provisioning, with everything step 2
//      needs) and claims the owner's identity for it, in one directory batch;
//   2. create: the shard gets the tenant, subscription, owner and audit row (fixed ids, one batch);
//   3. confirm: the directory marks the identity and the tenant active.
// After a crash at any step the saga converges: the owner's retry of POST /v1/tenants resumes it
// (same ids), and the cron resumes any left for longer than PROVISIONING_GRACE_MS. A shard that
// refuses step 2 (the identity already has a user there) undoes step 1.

import type { Env } from '../env';
import type { RequestMeta } from './audit';
import {
  activateIdentityStatement,
  type IdentityEntry,
  identityStatement,
  placeTenant,
  releaseIdentityStatement,
  reserveIdentity,
  shardDb,
  shardLoads,
} from './directory';
import { rememberShard } from './shard-router';
import { createTenantWithOwner, type NewTenant, newTenantIds, type TenantIds } from './tenants';

export const PROVISIONING_GRACE_MS = 60_000;

export type ProvisionStep = 'reserved' | 'created' | 'confirmed';

export interface ProvisionOptions {
  now?: number;
  /** Called after each step: tests throw here to crash the saga at that point. */
  after?: (step: ProvisionStep) => void | Promise<void>;
}

interface Pending {
  ids: TenantIds;
  input: NewTenant;
  meta: RequestMeta;
  now: number;
}

type Outcome =
  | {
      kind: 'created';
      shard: string;
      tenant: Awaited<ReturnType<typeof createTenantWithOwner>>['tenant'];
      user: Awaited<ReturnType<typeof createTenantWithOwner>>['user'];
    }
  | { kind: 'held'; entry: IdentityEntry };

/** Provisions a tenant for `input.owner`, or resumes that identity's unfinished provisioning. */
export async function provisionTenant(
  env: Env,
  input: NewTenant,
  meta: RequestMeta,
  opts: ProvisionOptions = {},
): Promise<Outcome> {
  const dir = env.DB;
  const sub = input.owner.auth0Id;
  const unfinished = await dir
    .prepare(
      `SELECT t.tenant_id, t.shard, t.pending FROM directory_identities i
       JOIN directory_tenants t ON t.tenant_id = i.tenant_id AND t.state = 'provisioning'
       WHERE i.auth0_id = ?1`,
    )
    .bind(sub)
    .first<{ tenant_id: string; shard: string; pending: string }>();
  if (unfinished) return await finish(env, unfinished.shard, JSON.parse(unfinished.pending) as Pending, opts);

  const now = opts.now ?? Date.now();
  const shard = placeTenant(await shardLoads(env));
  const pending: Pending = { ids: newTenantIds(now), input, meta, now };
  const tenantId = pending.ids.tenantId;
  // The tenant's entry is written only if the claim won, in the claim's own batch.
  const tenantEntry = dir
    .prepare(
      `INSERT INTO directory_tenants (tenant_id, shard, state, pending, updated_at)
       SELECT ?1, ?2, 'provisioning', ?3, ?4
       WHERE EXISTS (SELECT 1 FROM directory_identities WHERE auth0_id = ?5 AND tenant_id = ?1)
       ON CONFLICT (tenant_id) DO NOTHING`,
    )
    .bind(tenantId, shard, JSON.stringify(pending), now, sub);
  const held = await reserveIdentity(env, { auth0_id: sub, tenant_id: tenantId, shard }, now, [tenantEntry]);
  if (held) return { kind: 'held', entry: held };
  await opts.after?.('reserved');
  return await finish(env, shard, pending, opts);
}

/** Steps 2 and 3 for a reserved tenant. */
async function finish(env: Env, shard: string, p: Pending, opts: ProvisionOptions): Promise<Outcome> {
  const dir = env.DB;
  const sub = p.input.owner.auth0Id;
  let created: Awaited<ReturnType<typeof createTenantWithOwner>>;
  try {
    created = await createTenantWithOwner(shardDb(env, shard), p.input, p.meta, p.now, p.ids);
  } catch (err) {
    if (!/UNIQUE constraint failed: users\.auth0_id/.test(String(err))) throw err;
    // The shard already has a live user for this identity: it is the authority, so step 1 is undone.
    await dir.batch([releaseIdentityStatement(dir, sub, p.ids.tenantId), dropTenantStatement(dir, p.ids.tenantId)]);
    const entry = await identityStatement(dir, sub).first<IdentityEntry>();
    return { kind: 'held', entry: entry ?? { auth0_id: sub, tenant_id: '', shard, state: 'active' } };
  }
  await opts.after?.('created');
  const now = Date.now();
  await dir.batch([
    activateIdentityStatement(dir, sub, p.ids.tenantId, now),
    dir
      .prepare(`UPDATE directory_tenants SET state = 'active', pending = NULL, updated_at = ?2 WHERE tenant_id = ?1`)
      .bind(p.ids.tenantId, now),
  ]);
  await opts.after?.('confirmed');
  rememberShard(sub, shard);
  return { kind: 'created', shard, ...created };
}

const dropTenantStatement = (dir: D1Database, tenantId: string) =>
  dir.prepare(`DELETE FROM directory_tenants WHERE tenant_id = ?1 AND state = 'provisioning'`).bind(tenantId);

/** The cron's part: finishes provisioning left unfinished for longer than the grace period. */
export async function resumeProvisioning(env: Env, now: number, limit: number): Promise<number> {
  const { results } = await env.DB.prepare(
    `SELECT tenant_id, shard, pending FROM directory_tenants
     WHERE state = 'provisioning' AND updated_at < ?1 ORDER BY updated_at LIMIT ?2`,
  )
    .bind(now - PROVISIONING_GRACE_MS, limit)
    .all<{ tenant_id: string; shard: string; pending: string }>();
  for (const row of results) await finish(env, row.shard, JSON.parse(row.pending) as Pending, {});
  return results.length;
}
