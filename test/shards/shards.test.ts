import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { lookupIdentity, shardDb, shardNames } from '../../src/db/directory';
import { provisionTenant } from '../../src/db/provision';
import { runMaintenance } from '../../src/scheduled';
import { createTenant, tenantDb } from '../helpers/fixtures';
import { call } from '../helpers/http';
import { mintToken } from '../helpers/tokens';
import { createMemory, d1Stats, expectProblem } from '../memories/helpers';

const sharded = shardNames(env).length > 1;
const meta = { requestId: 'req_test', ip: null, userAgent: null };

/** Every shard's count of rows matching `sql` (bound to `args`). */
async function countsPerShard(sql: string, ...args: unknown[]) {
  return await Promise.all(
    shardNames(env).map(async (shard) => {
      const row = await shardDb(env, shard)
        .prepare(sql)
        .bind(...args)
        .first<{ n: number }>();
      return row!.n;
    }),
  );
}

/**
 * Two tenants on two different shards. Placement prefers the shard with the fewest memories, so
 * while B lands beside A, A's shard gets a memory more and the next B goes elsewhere.
 */
async function apart() {
  const a = await createTenant('A');
  const token = await a.owner.token();
  for (let i = 0; i < 20; i++) {
    const b = await createTenant('B');
    if ((await shardOf(b.tenant.id)) !== (await shardOf(a.tenant.id))) return { a, b };
    await createMemory(token, { content: `ballast ${i}` });
  }
  throw new Error('placement never chose another shard');
}

async function shardOf(tenantId: string) {
  const row = await env.DB.prepare('SELECT shard FROM directory_tenants WHERE tenant_id = ?1')
    .bind(tenantId)
    .first<{ shard: string }>();
  return row!.shard;
}

describe.skipIf(!sharded)('tenants spread over shards', () => {
  it('places new tenants on the shard with the most room, and each tenant lives on its shard only', async () => {
    const tenants = [];
    for (let i = 0; i < 6; i++) tenants.push(await createTenant());
    const shards = await Promise.all(tenants.map((t) => shardOf(t.tenant.id)));
    expect(new Set(shards).size).toBe(3);
    for (const [i, t] of tenants.entries()) {
      const counts = await countsPerShard('SELECT count(*) AS n FROM tenants WHERE id = ?1', t.tenant.id);
      expect(counts).toEqual(shardNames(env).map((s) => (s === shards[i] ? 1 : 0)));
    }
    // The fullest shard (by memories) gets no new tenant while others have room.
    const { a } = await apart();
    const token = await a.owner.token();
    for (let i = 0; i < 5; i++) await createMemory(token, { content: `filler ${i}` });
    const next = [];
    for (let i = 0; i < 3; i++) next.push(await createTenant());
    for (const t of next) expect(await shardOf(t.tenant.id)).not.toBe(await shardOf(a.tenant.id));
  });

  it("isolates tenants across shards: another shard's ids are 404, and rows stay on their own shard", async () => {
    const { a, b } = await apart();
    const m = await createMemory(await a.owner.token(), { content: 'only on A', access_scope: 'global' });
    const tokenB = await b.owner.token();
    await expectProblem(await call(`/v1/memories/${m.id}`, { token: tokenB }), 404, 'not_found');
    await expectProblem(
      await call(`/v1/memories/${m.id}`, { method: 'PATCH', token: tokenB, json: { content: 'x' } }),
      404,
      'not_found',
    );
    const list = (await (await call('/v1/memories', { token: tokenB })).json()) as { data: unknown[] };
    expect(list.data).toEqual([]);
    expect(await countsPerShard('SELECT count(*) AS n FROM memories WHERE id = ?1', m.id)).toEqual(
      await Promise.all(shardNames(env).map(async (s) => (s === (await shardOf(a.tenant.id)) ? 1 : 0))),
    );
    // A's owner still reads it, in one round trip once warm.
    const res = await call(`/v1/memories/${m.id}`, { token: await a.owner.token() });
    expect(res.status).toBe(200);
    expect(d1Stats(res).roundTrips).toBe(1);
  });

  it('keeps an identity unique across shards: users, provisioning and invitations refuse it elsewhere', async () => {
    const { a, b } = await apart();
    const tokenB = await b.owner.token();
    const service = await a.addUser('member', 'service');
    await expectProblem(
      await call('/v1/users', {
        method: 'POST',
        token: tokenB,
        json: { auth0_id: service.sub, email: 'dup@example.com', role: 'member', kind: 'service' },
      }),
      409,
      'auth0_id_taken',
    );
    await expectProblem(
      await call('/v1/tenants', {
        method: 'POST',
        token: await a.owner.token(),
        json: { name: 'Second', email: 'second@example.com' },
      }),
      409,
      'already_provisioned',
    );
    const taken = a.owner.sub;
    const invite = await call('/v1/invitations', {
      method: 'POST',
      token: tokenB,
      json: { email: a.owner.email, auth0_id: taken, role: 'member' },
    });
    expect(invite.status).toBe(201);
    const { id } = (await invite.json()) as { id: string };
    await expectProblem(
      await call(`/v1/invitations/${id}/accept`, { method: 'POST', token: await a.owner.token() }),
      409,
      'already_provisioned',
    );
    for (const sub of [taken, service.sub]) {
      const counts = await countsPerShard('SELECT count(*) AS n FROM users WHERE auth0_id = ?1', sub);
      expect(counts.reduce((x, y) => x + y)).toBe(1);
    }
  });

  it('follows a user re-bound to a tenant on another shard: the stale shard is detected in the batch', async () => {
    const { a, b } = await apart();
    const member = await a.addUser('member', 'service');
    const token = await member.token();
    await createMemory(token, { content: 'written on A' }); // the isolate now remembers A's shard
    const removed = await call(`/v1/users/${member.id}`, { method: 'DELETE', token: await a.owner.token() });
    expect(removed.status).toBe(204);
    expect(await lookupIdentity(env.DB, member.sub)).toBeNull();
    const added = await call('/v1/users', {
      method: 'POST',
      token: await b.owner.token(),
      json: { auth0_id: member.sub, email: 'moved@example.com', role: 'member', kind: 'service' },
    });
    expect(added.status).toBe(201);
    expect(await lookupIdentity(env.DB, member.sub)).toMatchObject({
      tenant_id: b.tenant.id,
      shard: await shardOf(b.tenant.id),
      state: 'active',
    });
    const res = await call('/v1/me', { token });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { tenant: { id: string } }).tenant.id).toBe(b.tenant.id);
    // The remembered shard's batch (nothing found), the directory, then B's shard.
    expect(d1Stats(res).roundTrips).toBe(3);
    const list = (await (await call('/v1/memories', { token })).json()) as { data: { content: string }[] };
    expect(list.data).toEqual([]);
  });
});

describe('provisioning is a saga that converges after a crash at any step', () => {
  for (const step of ['reserved', 'created'] as const) {
    it(`a crash after "${step}": the owner's retry finishes it, with the same tenant and nothing twice`, async () => {
      const sub = `auth0|crash-${crypto.randomUUID()}`;
      const input = { name: 'Crashy', owner: { auth0Id: sub, email: 'crash@example.com' } };
      await expect(
        provisionTenant(env, input, meta, {
          after: (s) => {
            if (s === step) throw new Error('crash');
          },
        }),
      ).rejects.toThrow('crash');
      const reserved = await lookupIdentity(env.DB, sub);
      expect(reserved).toMatchObject({ state: 'pending' });
      const token = await mintToken({ sub });
      // The shard is the authority: before "created" it has no such user, after it, it does.
      expect((await call('/v1/me', { token })).status).toBe(step === 'reserved' ? 403 : 200);
      const retry = await call('/v1/tenants', {
        method: 'POST',
        token,
        json: { name: 'Ignored on resume', email: 'crash@example.com' },
      });
      expect(retry.status).toBe(201);
      const me = (await retry.json()) as { tenant: { id: string; name: string } };
      expect(me.tenant).toMatchObject({ id: reserved!.tenant_id, name: 'Crashy' });
      expect(await lookupIdentity(env.DB, sub)).toMatchObject({ tenant_id: reserved!.tenant_id, state: 'active' });
      const db = await tenantDb(reserved!.tenant_id);
      const rows = await db
        .prepare(
          `SELECT (SELECT count(*) FROM tenants WHERE id = ?1) AS tenants, (SELECT count(*) FROM users WHERE auth0_id = ?2) AS users,
                  (SELECT count(*) FROM subscriptions WHERE tenant_id = ?1) AS subscriptions,
                  (SELECT count(*) FROM audit_logs WHERE tenant_id = ?1 AND action = 'tenant.create') AS audits`,
        )
        .bind(reserved!.tenant_id, sub)
        .first();
      expect(rows).toEqual({ tenants: 1, users: 1, subscriptions: 1, audits: 1 });
      expect((await call('/v1/me', { token })).status).toBe(200);
    });
  }

  it('the cron finishes provisioning nobody retried, once the grace period passed', async () => {
    const sub = `auth0|abandoned-${crypto.randomUUID()}`;
    const input = { name: 'Abandoned', owner: { auth0Id: sub, email: 'gone@example.com' } };
    await expect(
      provisionTenant(env, input, meta, {
        after: () => {
          throw new Error('crash');
        },
      }),
    ).rejects.toThrow('crash');
    const { tenant_id } = (await lookupIdentity(env.DB, sub))!;
    await runMaintenance(env, { now: Date.now() + 120_000 });
    expect(await lookupIdentity(env.DB, sub)).toMatchObject({ tenant_id, state: 'active' });
    const state = await env.DB.prepare('SELECT state, pending FROM directory_tenants WHERE tenant_id = ?1')
      .bind(tenant_id)
      .first();
    expect(state).toEqual({ state: 'active', pending: null });
    expect((await call('/v1/me', { token: await mintToken({ sub }) })).status).toBe(200);
  });

  it('a reservation the shard never confirmed is reclaimed by the next claim of that identity', async () => {
    const { b } = await (async () => ({ b: await createTenant('Claimer') }))();
    const sub = `stale${crypto.randomUUID().replace(/-/g, '')}@clients`;
    // A reservation for a tenant whose shard has no such user (a user add that crashed after step 1).
    await env.DB.prepare(
      `INSERT INTO directory_identities (auth0_id, tenant_id, shard, state, updated_at) VALUES (?1, 'ten_ghost', ?2, 'pending', 0)`,
    )
      .bind(sub, shardNames(env)[0])
      .run();
    const res = await call('/v1/users', {
      method: 'POST',
      token: await b.owner.token(),
      json: { auth0_id: sub, email: 'reclaimed@example.com', role: 'member', kind: 'service' },
    });
    expect(res.status).toBe(201);
    expect(await lookupIdentity(env.DB, sub)).toMatchObject({ tenant_id: b.tenant.id, state: 'active' });
  });
});
