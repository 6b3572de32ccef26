import { env, runInDurableObject } from 'cloudflare:test';
import { z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { runAsCaller } from '../../src/auth/caller';
import type { RateLimiter } from '../../src/durable/rate-limiter';
import { PLANS } from '../../src/lib/plans';
import { securedRoute } from '../../src/lib/route';
import { createTenant } from '../helpers/fixtures';
import { call } from '../helpers/http';

const FREE = PLANS.free.requestsPerMinute;
const parse = (h: string | null) =>
  Object.fromEntries([...(h ?? '').matchAll(/;(\w)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
const roundTrips = (res: Response) => Number(/round_trips=(\d+)/.exec(res.headers.get('server-timing') ?? '')?.[1]);

async function burst(token: string, n: number) {
  const out: Response[] = [];
  for (let i = 0; i < n; i++) out.push(await call('/v1/me', { token }));
  return out;
}

describe('rate limiting per tenant by plan', () => {
  it('announces the quota on every authenticated response, from the first request on', async () => {
    const { owner } = await createTenant();
    const token = await owner.token();
    const [first, second] = await burst(token, 2);
    for (const res of [first!, second!]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-policy')).toBe(`"default";q=${FREE};w=60`);
    }
    expect(parse(first!.headers.get('ratelimit'))).toMatchObject({ r: FREE - 1 });
    expect(parse(second!.headers.get('ratelimit'))).toMatchObject({ r: FREE - 2 });
    const { t } = parse(second!.headers.get('ratelimit'));
    expect(t).toBeGreaterThanOrEqual(1);
    expect(t).toBeLessThanOrEqual(60);
    // The limiter costs no D1: still one round trip (the caller batch).
    expect(roundTrips(second!)).toBe(1);
  });

  it(`refuses request ${FREE + 1} of a free tenant with 429, Retry-After and no D1 work`, async () => {
    const { owner, addUser } = await createTenant();
    const member = await addUser('member');
    // Two users of one tenant share its quota.
    const half = await burst(await owner.token(), FREE / 2);
    const rest = await burst(await member.token(), FREE / 2);
    expect([...half, ...rest].every((r) => r.status === 200)).toBe(true);
    expect(parse(rest.at(-1)!.headers.get('ratelimit')).r).toBe(0);

    const refused = await call('/v1/me', { token: await owner.token() });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(await refused.json()).toMatchObject({ status: 429, code: 'rate_limited' });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(parse(refused.headers.get('ratelimit'))).toEqual({ r: 0, t: retryAfter });
    expect(refused.headers.get('ratelimit-policy')).toBe(`"default";q=${FREE};w=60`);
    expect(roundTrips(refused)).toBe(0);

    // Another tenant is unaffected.
    const other = await createTenant();
    expect((await call('/v1/me', { token: await other.owner.token() })).status).toBe(200);
  });

  it('opens a new window once the old one has passed', async () => {
    const { owner, tenant } = await createTenant();
    const token = await owner.token();
    await burst(token, FREE);
    expect((await call('/v1/me', { token })).status).toBe(429);
    const stub = env.RATE_LIMITER!.get(env.RATE_LIMITER!.idFromName(tenant.id));
    await runInDurableObject(stub, (instance: RateLimiter) => {
      (instance as unknown as { windowStart: number }).windowStart -= 60_000;
    });
    const res = await call('/v1/me', { token });
    expect(res.status).toBe(200);
    expect(parse(res.headers.get('ratelimit')).r).toBe(FREE - 1);
  });

  it('uses the plan from the tenant row: a pro tenant gets the pro quota', async () => {
    const { owner, tenant } = await createTenant();
    const token = await owner.token();
    await env.DB.prepare("UPDATE tenants SET plan = 'pro' WHERE id = ?1").bind(tenant.id).run();
    const res = await call('/v1/me', { token });
    expect(res.headers.get('ratelimit-policy')).toBe(`"default";q=${PLANS.pro.requestsPerMinute};w=60`);
  });

  it('lets at most one request of a concurrent cold flood past the check', async () => {
    const { owner } = await createTenant();
    const token = await owner.token();
    const responses = await Promise.all(Array.from({ length: FREE + 20 }, () => call('/v1/me', { token })));
    const ok = responses.filter((r) => r.status === 200).length;
    expect(ok).toBe(FREE);
    expect(responses.filter((r) => r.status === 429)).toHaveLength(20);
  });

  it('charges and labels a request refused by validation before it reached D1, in at most one round trip', async () => {
    // A route whose query is validated before its handler runs the caller batch.
    const app = createApp();
    app.openapi(
      securedRoute([], {
        method: 'get',
        path: '/v1/test-validated',
        operationId: 'testValidated',
        request: { query: z.object({ n: z.coerce.number().int() }) },
        responses: {
          200: { description: 'ok', content: { 'application/json': { schema: z.object({ ok: z.boolean() }) } } },
        },
      }),
      async (c) => {
        await runAsCaller(c, []);
        return c.json({ ok: true }, 200);
      },
    );
    const { owner } = await createTenant();
    const headers = { authorization: `Bearer ${await owner.token()}` };
    const bad = await app.request('/v1/test-validated?n=x', { headers }, env);
    expect(bad.status).toBe(400);
    expect(roundTrips(bad)).toBe(1);
    expect(parse(bad.headers.get('ratelimit')).r).toBe(FREE - 1);
    const good = await app.request('/v1/test-validated?n=1', { headers }, env);
    expect(good.status).toBe(200);
    expect(roundTrips(good)).toBe(1);
    expect(parse(good.headers.get('ratelimit')).r).toBe(FREE - 2);
    const badAgain = await app.request('/v1/test-validated?n=x', { headers }, env);
    expect(roundTrips(badAgain)).toBe(0); // the tenant is known now: no lookup at all
    expect(parse(badAgain.headers.get('ratelimit')).r).toBe(FREE - 3);
  });
});
