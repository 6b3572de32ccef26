import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { PLANS } from '../../src/lib/plans';
import { subscriptionRoutes } from '../../src/routes/subscription';
import { userRoutes } from '../../src/routes/users';
import { createTenant } from '../helpers/fixtures';
import { call } from '../helpers/http';
import { checked, d1Stats } from './check';
import { setPlan, uniqueEmail, uniqueSub } from './setup';

const { getSubscription, changePlan } = subscriptionRoutes;
type Subscription = { plan: string; limits: Record<string, number>; usage: Record<string, number> };

const plans = async (tenantId: string) =>
  env.DB.prepare(
    'SELECT t.plan AS tenant_plan, s.plan AS subscription_plan FROM tenants t JOIN subscriptions s ON s.tenant_id = t.id WHERE t.id = ?1',
  )
    .bind(tenantId)
    .first<{ tenant_plan: string; subscription_plan: string }>();

const addMemories = (tenantId: string, userId: string, n: number) =>
  env.DB.prepare(
    `WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?3)
     INSERT INTO memories (id, tenant_id, user_id, content, created_at, updated_at)
     SELECT 'mem_' || hex(randomblob(13)), ?1, ?2, 'memory ' || i, ?4, ?4 FROM k`,
  )
    .bind(tenantId, userId, n, Date.now())
    .run();

const addSessions = (tenantId: string, userId: string, n: number) =>
  env.DB.prepare(
    `WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?3)
     INSERT INTO sessions (id, tenant_id, user_id, mcp_client_id, created_at, last_activity_at)
     SELECT 'ses_' || hex(randomblob(13)), ?1, ?2, 'client', ?4, ?4 FROM k`,
  )
    .bind(tenantId, userId, n, Date.now())
    .run();

const put = async (token: string, plan: string) => call('/v1/subscription', { method: 'PUT', token, json: { plan } });

describe('GET /v1/subscription', () => {
  it('shows the plan, its limits from the plan table and current usage, in one round trip', async () => {
    const t = await createTenant();
    await t.addUser('member');
    await addMemories(t.tenant.id, t.owner.id, 3);
    await addSessions(t.tenant.id, t.owner.id, 2);
    await env.DB.prepare(
      'UPDATE sessions SET expired_at = ?2 WHERE id = (SELECT id FROM sessions WHERE tenant_id = ?1 LIMIT 1)',
    )
      .bind(t.tenant.id, Date.now())
      .run();
    const res = await call('/v1/subscription', { token: await t.owner.token() });
    expect(d1Stats(res)).toMatchObject({ roundTrips: 1, rowsWritten: 0 });
    const sub = await checked<Subscription>(getSubscription, res, 200);
    expect(sub).toMatchObject({
      plan: 'free',
      status: 'active',
      limits: {
        memories: PLANS.free.memories,
        users: PLANS.free.users,
        sessions: PLANS.free.sessions,
        requests_per_minute: PLANS.free.requestsPerMinute,
      },
      usage: { memories: 3, users: 2, sessions: 1 },
    });
  });
});

describe('PUT /v1/subscription', () => {
  it('moves between plans keeping tenants.plan and subscriptions.plan equal, each change audited once', async () => {
    const t = await createTenant();
    const token = await t.owner.token();
    const path = ['pro', 'team', 'pro', 'free', 'team', 'free'] as const;
    let previous = 'free';
    for (const plan of path) {
      const res = await put(token, plan);
      expect(d1Stats(res).roundTrips).toBe(1);
      const sub = await checked<Subscription>(changePlan, res, 200);
      expect(sub.plan).toBe(plan);
      expect(sub.limits.users).toBe(PLANS[plan].users);
      expect(await plans(t.tenant.id)).toEqual({ tenant_plan: plan, subscription_plan: plan });
      const audit = await env.DB.prepare(
        "SELECT old_values, new_values FROM audit_logs WHERE tenant_id = ?1 AND action = 'subscription.update' ORDER BY id DESC LIMIT 1",
      )
        .bind(t.tenant.id)
        .first<{ old_values: string; new_values: string }>();
      expect([JSON.parse(audit!.old_values).plan, JSON.parse(audit!.new_values).plan]).toEqual([previous, plan]);
      previous = plan;
    }
    expect(
      (await env.DB.prepare(
        "SELECT COUNT(*) AS n FROM audit_logs WHERE tenant_id = ?1 AND action = 'subscription.update'",
      )
        .bind(t.tenant.id)
        .first<{ n: number }>())!.n,
    ).toBe(path.length);
    // The same plan again is a no-op: 200, nothing written.
    const same = await put(token, 'free');
    expect(d1Stats(same).rowsWritten).toBe(0);
    expect((await checked<Subscription>(changePlan, same, 200)).plan).toBe('free');
  });

  it.each([
    [
      'users',
      async (t: Awaited<ReturnType<typeof createTenant>>) => {
        for (let i = 0; i < PLANS.free.users; i++) await t.addUser('member');
      },
    ],
    [
      'memories',
      async (t: Awaited<ReturnType<typeof createTenant>>) =>
        addMemories(t.tenant.id, t.owner.id, PLANS.free.memories + 1),
    ],
    [
      'sessions',
      async (t: Awaited<ReturnType<typeof createTenant>>) =>
        addSessions(t.tenant.id, t.owner.id, PLANS.free.sessions + 1),
    ],
  ])(
    'refuses a downgrade while %s exceed the target plan (409 plan_limits_exceeded), changing nothing',
    async (what, fill) => {
      const t = await createTenant();
      await setPlan(t.tenant.id, 'pro');
      await fill(t);
      const token = await t.owner.token();
      const problem = await checked<{ code: string; detail: string }>(changePlan, await put(token, 'free'), 409);
      expect(problem.code).toBe('plan_limits_exceeded');
      expect(problem.detail).toContain(what);
      expect(await plans(t.tenant.id)).toEqual({ tenant_plan: 'pro', subscription_plan: 'pro' });
      expect(
        (await env.DB.prepare(
          "SELECT COUNT(*) AS n FROM audit_logs WHERE tenant_id = ?1 AND action = 'subscription.update'",
        )
          .bind(t.tenant.id)
          .first<{ n: number }>())!.n,
      ).toBe(0);
    },
  );

  it('a downgrade racing a user creation never lets both through', async () => {
    for (let round = 0; round < 5; round++) {
      const t = await createTenant();
      await setPlan(t.tenant.id, 'pro');
      for (let i = 0; i < PLANS.free.users - 1; i++) await t.addUser('member'); // exactly at the free limit
      const token = await t.owner.token();
      const [downgrade, create] = await Promise.all([
        put(token, 'free'),
        call('/v1/users', {
          method: 'POST',
          token,
          json: { auth0_id: uniqueSub(), email: uniqueEmail(), role: 'member' },
        }),
      ]);
      const users = (await env.DB.prepare('SELECT COUNT(*) AS n FROM users WHERE tenant_id = ?1 AND deleted_at IS NULL')
        .bind(t.tenant.id)
        .first<{ n: number }>())!.n;
      const p = await plans(t.tenant.id);
      expect(p!.tenant_plan).toBe(p!.subscription_plan);
      if (downgrade.status === 200) {
        expect(await checked(userRoutes.createUser, create, 403)).toMatchObject({ code: 'quota_exceeded' });
        expect([p!.tenant_plan, users]).toEqual(['free', PLANS.free.users]);
      } else {
        expect(await checked(changePlan, downgrade, 409)).toMatchObject({ code: 'plan_limits_exceeded' });
        await checked(userRoutes.createUser, create, 201);
        expect([p!.tenant_plan, users]).toEqual(['pro', PLANS.free.users + 1]);
      }
    }
  });

  it('refuses an unknown plan with 422', async () => {
    const t = await createTenant();
    expect(await checked(changePlan, await put(await t.owner.token(), 'gold'), 422)).toMatchObject({
      code: 'validation_failed',
    });
  });
});
