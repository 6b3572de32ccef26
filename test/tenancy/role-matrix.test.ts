import { env } from 'cloudflare:test';
import type { RouteConfig } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { ALL_SCOPES, type Scope } from '../../src/auth/scopes';
import { subscriptionRoutes } from '../../src/routes/subscription';
import { tenantRoutes } from '../../src/routes/tenants/lifecycle';
import { usageRoutes } from '../../src/routes/usage';
import { userRoutes } from '../../src/routes/users';
import { call } from '../helpers/http';
import { checked } from './check';
import { auditCount, setPlan, staffedTenant, uniqueEmail, uniqueSub } from './setup';

type World = Awaited<ReturnType<typeof staffedTenant>>;
type Role = 'owner' | 'admin' | 'member';

interface Case {
  name: string;
  route: RouteConfig;
  path: (w: World, actor: Role) => string;
  json?: (w: World) => unknown;
  /** Runs before the request (e.g. put the tenant in a state). */
  setup?: (w: World) => Promise<void>;
  expect: Record<Role, number>;
}

const self = (w: World, actor: Role) => `/v1/users/${w.actors[actor].id}`;
const newUser = (role: Role) => () => ({ auth0_id: uniqueSub(), email: uniqueEmail(), role });
// The staffed tenant already has the free plan's 5 users: creation cases run on pro.
const onPro = async (w: World) => setPlan(w.tenant.id, 'pro');

// Every route of this area × every role. Mutations that succeed must leave exactly one audit row;
// refused ones none.
const CASES: Case[] = [
  {
    name: 'list users',
    route: userRoutes.listUsers,
    path: () => '/v1/users',
    expect: { owner: 200, admin: 200, member: 403 },
  },
  {
    name: 'create a member',
    route: userRoutes.createUser,
    path: () => '/v1/users',
    json: newUser('member'),
    setup: onPro,
    expect: { owner: 201, admin: 201, member: 403 },
  },
  {
    name: 'create an admin',
    route: userRoutes.createUser,
    path: () => '/v1/users',
    json: newUser('admin'),
    setup: onPro,
    expect: { owner: 201, admin: 403, member: 403 },
  },
  {
    name: 'create an owner',
    route: userRoutes.createUser,
    path: () => '/v1/users',
    json: newUser('owner'),
    setup: onPro,
    expect: { owner: 201, admin: 403, member: 403 },
  },
  {
    name: 'get a member',
    route: userRoutes.getUser,
    path: (w) => `/v1/users/${w.targets.member2.id}`,
    expect: { owner: 200, admin: 200, member: 403 },
  },
  {
    name: 'rename a member',
    route: userRoutes.updateUser,
    path: (w) => `/v1/users/${w.targets.member2.id}`,
    json: () => ({ name: 'Renamed' }),
    expect: { owner: 200, admin: 200, member: 403 },
  },
  {
    name: 'promote a member to admin',
    route: userRoutes.updateUser,
    path: (w) => `/v1/users/${w.targets.member2.id}`,
    json: () => ({ role: 'admin' }),
    expect: { owner: 200, admin: 403, member: 403 },
  },
  {
    name: 'rename another admin',
    route: userRoutes.updateUser,
    path: (w) => `/v1/users/${w.targets.admin2.id}`,
    json: () => ({ name: 'Renamed' }),
    expect: { owner: 200, admin: 403, member: 403 },
  },
  {
    name: 'demote another admin',
    route: userRoutes.updateUser,
    path: (w) => `/v1/users/${w.targets.admin2.id}`,
    json: () => ({ role: 'member' }),
    expect: { owner: 200, admin: 403, member: 403 },
  },
  {
    name: "raise one's own role to owner",
    route: userRoutes.updateUser,
    path: self,
    json: () => ({ role: 'owner' }),
    expect: { owner: 200, admin: 403, member: 403 },
  },
  {
    name: "raise one's own role to admin",
    route: userRoutes.updateUser,
    path: self,
    json: () => ({ role: 'admin' }),
    expect: { owner: 409, admin: 200, member: 403 },
  },
  {
    name: 'remove a member',
    route: userRoutes.deleteUser,
    path: (w) => `/v1/users/${w.targets.member2.id}`,
    expect: { owner: 204, admin: 204, member: 403 },
  },
  {
    name: 'remove another admin',
    route: userRoutes.deleteUser,
    path: (w) => `/v1/users/${w.targets.admin2.id}`,
    expect: { owner: 204, admin: 403, member: 403 },
  },
  {
    name: 'read the tenant',
    route: tenantRoutes.getTenant,
    path: () => '/v1/tenant',
    expect: { owner: 200, admin: 200, member: 200 },
  },
  {
    name: 'rename the tenant',
    route: tenantRoutes.updateTenant,
    path: () => '/v1/tenant',
    json: () => ({ name: 'Renamed' }),
    expect: { owner: 200, admin: 200, member: 403 },
  },
  {
    name: 'delete the tenant',
    route: tenantRoutes.deleteTenant,
    path: () => '/v1/tenant',
    expect: { owner: 200, admin: 403, member: 403 },
  },
  {
    name: 'restore a live tenant',
    route: tenantRoutes.restoreTenant,
    path: () => '/v1/tenant/restore',
    expect: { owner: 409, admin: 403, member: 403 },
  },
  {
    name: 'restore a deleted tenant',
    route: tenantRoutes.restoreTenant,
    path: () => '/v1/tenant/restore',
    setup: async (w) =>
      void (await env.DB.prepare('UPDATE tenants SET deleted_at = ?2 WHERE id = ?1')
        .bind(w.tenant.id, Date.now() - 1000)
        .run()),
    expect: { owner: 200, admin: 403, member: 403 },
  },
  {
    name: 'read the subscription',
    route: subscriptionRoutes.getSubscription,
    path: () => '/v1/subscription',
    expect: { owner: 200, admin: 403, member: 403 },
  },
  {
    name: 'change the plan',
    route: subscriptionRoutes.changePlan,
    path: () => '/v1/subscription',
    json: () => ({ plan: 'pro' }),
    expect: { owner: 200, admin: 403, member: 403 },
  },
  {
    name: 'read usage',
    route: usageRoutes.getUsage,
    path: () => '/v1/usage',
    expect: { owner: 200, admin: 200, member: 403 },
  },
];

const isMutation = (route: RouteConfig) => route.method !== 'get';
const declaredScopes = (route: RouteConfig) => (route.security as { bearerAuth: Scope[] }[])[0]!.bearerAuth;

describe('role matrix (owner/admin/member × every tenancy route)', () => {
  for (const c of CASES) {
    for (const role of ['owner', 'admin', 'member'] as const) {
      const status = c.expect[role];
      it(`${role}: ${c.name} → ${status}`, async () => {
        const w = await staffedTenant();
        await c.setup?.(w);
        const before = await auditCount(w.tenant.id);
        const res = await call(c.path(w, role), {
          method: c.route.method.toUpperCase(),
          token: await w.actors[role].token(),
          json: c.json?.(w),
        });
        const body = await checked(c.route, res, status);
        if (status === 403) expect(body).toMatchObject({ code: 'insufficient_role' });
        const written = (await auditCount(w.tenant.id)) - before;
        expect(written, 'audit rows written').toBe(isMutation(c.route) && status < 300 ? 1 : 0);
      });
    }
  }
});

describe('scopes', () => {
  const routes = [...new Set(CASES.map((c) => c.route))];
  for (const route of routes) {
    const needed = declaredScopes(route);
    if (needed.length === 0) {
      it(`${route.operationId} needs no scope`, async () => {
        const w = await staffedTenant();
        const res = await call('/v1/tenant', { token: await w.owner.token({ scopes: [] }) });
        await checked(route, res, 200);
      });
      continue;
    }
    it(`${route.operationId} refuses a token without ${needed.join(' ')} (403 insufficient_scope), even for an owner`, async () => {
      const w = await staffedTenant();
      const c = CASES.find((x) => x.route === route)!;
      const before = await auditCount(w.tenant.id);
      const res = await call(c.path(w, 'owner'), {
        method: route.method.toUpperCase(),
        token: await w.owner.token({ scopes: ALL_SCOPES.filter((s) => !needed.includes(s)) }),
        json: c.json?.(w),
      });
      expect(await checked(route, res, 403)).toMatchObject({ code: 'insufficient_scope' });
      expect(await auditCount(w.tenant.id)).toBe(before);
    });
  }
});
