import { env } from 'cloudflare:test';
import type { Role } from '../../src/db/caller';
import { shardDb } from '../../src/db/directory';
import { provisionTenant } from '../../src/db/provision';
import { newId } from '../../src/lib/ids';
import { mintToken, type TokenOptions } from './tokens';

const meta = { requestId: 'req_test', ip: '127.0.0.1', userAgent: 'vitest' };
let counter = 0;

export interface TestUser {
  id: string;
  sub: string;
  email: string;
  role: Role;
  tenantId: string;
  token: (opts?: TokenOptions) => Promise<string>;
}

const userOf = (id: string, sub: string, email: string, role: Role, tenantId: string): TestUser => ({
  id,
  sub,
  email,
  role,
  tenantId,
  token: (opts = {}) => mintToken({ sub, ...opts }),
});

/** A fresh tenant with its owner (through the real repository), unique per call. */
export async function createTenant(name = 'Test tenant') {
  const n = ++counter;
  const sub = `auth0|owner-${crypto.randomUUID()}`;
  const email = `owner${n}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const outcome = await provisionTenant(env, { name, owner: { auth0Id: sub, email } }, meta);
  if (outcome.kind !== 'created') throw new Error('a fresh identity was refused');
  const { tenant, user } = outcome;
  const db = shardDb(env, outcome.shard);
  const owner = userOf(user.id, sub, email, 'owner', tenant.id);
  return {
    tenant,
    owner,
    /** Adds a user with the given role directly in D1 (the users API has its own tests). */
    async addUser(role: Role, kind: 'person' | 'service' = 'person'): Promise<TestUser> {
      const id = newId('usr');
      const userSub = kind === 'service' ? `${crypto.randomUUID()}@clients` : `auth0|${role}-${crypto.randomUUID()}`;
      const userEmail = `${role}-${crypto.randomUUID().slice(0, 8)}@example.com`;
      const now = Date.now();
      await db
        .prepare(
          'INSERT INTO users (id, tenant_id, auth0_id, email, role, kind, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)',
        )
        .bind(id, tenant.id, userSub, userEmail, role, kind, now)
        .run();
      await env.DB.prepare(
        `INSERT INTO directory_identities (auth0_id, tenant_id, shard, state, updated_at) VALUES (?1, ?2, ?3, 'active', ?4)`,
      )
        .bind(userSub, tenant.id, outcome.shard, now)
        .run();
      return userOf(id, userSub, userEmail, role, tenant.id);
    },
  };
}

/** Moves a tenant to another plan, e.g. 'team' for a test that sends more requests a minute than the free plan's rate limit allows. */
export async function setPlan(tenantId: string, plan: 'free' | 'pro' | 'team') {
  const db = await tenantDb(tenantId);
  await db.batch([
    db.prepare('UPDATE tenants SET plan = ?2 WHERE id = ?1').bind(tenantId, plan),
    db.prepare('UPDATE subscriptions SET plan = ?2 WHERE tenant_id = ?1').bind(tenantId, plan),
  ]);
}

/** The database that holds a tenant: its shard, as the directory says. */
export async function tenantDb(tenantId: string): Promise<D1Database> {
  const row = await env.DB.prepare('SELECT shard FROM directory_tenants WHERE tenant_id = ?1')
    .bind(tenantId)
    .first<{ shard: string }>();
  if (!row) throw new Error(`the directory does not know tenant ${tenantId}`);
  return shardDb(env, row.shard);
}

/** Gives a tenant an embedding configuration (PATCH /v1/tenant has its own tests). */
export async function setEmbeddingDimensions(tenantId: string, dimensions: number | null) {
  await (await tenantDb(tenantId))
    .prepare('UPDATE tenants SET embedding_dimensions = ?2 WHERE id = ?1')
    .bind(tenantId, dimensions)
    .run();
}
