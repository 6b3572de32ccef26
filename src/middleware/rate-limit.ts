import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { type CallerRow, callerStatement } from '../db/caller';
import type { Plan } from '../db/tenants';
import type { RateDecision, RateLimiter } from '../durable/rate-limiter';
import type { AppEnv } from '../env';
import {
  ANONYMOUS_REQUESTS_PER_MINUTE_PER_IP,
  RATE_LIMIT_WINDOW_SECONDS,
  UNPROVISIONED_REQUESTS_PER_MINUTE,
} from '../lib/limits';
import { PLANS } from '../lib/plans';
import { ApiError, problemResponse } from '../lib/problem';

// Per-tenant rate limiting by plan, counted in one RateLimiter Durable Object per tenant (exact,
// no D1 write). The tenant and plan are only known from the caller row of the request's own D1
// batch, so this isolate remembers subject → {tenant, plan} from every resolved request:
//  - known subject: the tenant's quota is taken BEFORE the handler touches D1, and a 429 costs
//    no D1 at all. The entry is refreshed from each request's caller row (plan changes apply on
//    the next request).
//  - unknown ("cold") subject: the request runs, the caller row it resolved names the tenant, and
//    the quota is charged afterwards. Concurrent cold requests for the same subject wait for the
//    first one, so a flood lets at most one request per subject and isolate past the check. A
//    request that never reached D1 (e.g. a 422) looks the caller up itself: still ≤ 1 round trip.
//  - a subject with no user (403 not_provisioned; each such request costs a D1 lookup) draws on a
//    small budget of its own, keyed by subject; once this isolate knows it, it is charged before
//    any D1 work, so a flood of them is 429 without touching D1.
//  - a request with no or an invalid token (no subject at all) draws on its client IP's budget
//    (rateLimitAnonymous), and so does each unprovisioned subject's request: minting new subjects
//    does not escape it. The IP is CF-Connecting-IP, which Cloudflare's edge sets and overwrites;
//    a request without it (only off Cloudflare: local runs) has no IP budget.

const WINDOW_MS = RATE_LIMIT_WINDOW_SECONDS * 1000;
const MAX_KNOWN = 10_000;
const known = new Map<string, { tenantId: string; plan: Plan }>();
const cold = new Map<string, Promise<void>>();
const unprovisioned = new Set<string>();

function remember(sub: string, caller: Pick<CallerRow, 'tenant_id' | 'tenant_plan'>) {
  if (known.size >= MAX_KNOWN) known.clear();
  known.set(sub, { tenantId: caller.tenant_id, plan: caller.tenant_plan });
}

// A limiter id is derived (hashed) from its name once per isolate, not on every request:
// the CPU profile of GET /v1/memories/{id} (bench/RESULTS.md) had take() as the app's top frame.
const limiterIds = new WeakMap<DurableObjectNamespace<RateLimiter>, Map<string, DurableObjectId>>();
function limiterOf(ns: DurableObjectNamespace<RateLimiter>, name: string) {
  let ids = limiterIds.get(ns);
  if (!ids || ids.size >= MAX_KNOWN) limiterIds.set(ns, (ids = new Map()));
  let id = ids.get(name);
  if (!id) ids.set(name, (id = ns.idFromName(name)));
  return ns.get(id);
}

/** Takes one request from the tenant's quota; null when the limiter is absent or failing (fail open). */
const take = (c: Context<AppEnv>, tenant: { tenantId: string; plan: Plan }) =>
  takeFrom(c, tenant.tenantId, PLANS[tenant.plan].requestsPerMinute);

interface Taken {
  decision: RateDecision;
  who: string;
}

/** Takes one request from the client IP's budget for requests no user makes (limiter names no tenant id can equal). */
async function takeAnonymous(c: Context<AppEnv>): Promise<Taken | null> {
  const ip = c.req.header('cf-connecting-ip');
  const decision = ip ? await takeFrom(c, `ip:${ip.slice(0, 64)}`, ANONYMOUS_REQUESTS_PER_MINUTE_PER_IP) : null;
  return decision && { decision, who: 'A client address, for requests without a user behind them,' };
}

/** Takes one request from an unprovisioned subject's own budget and from its client IP's; the tighter one answers. */
async function takeUnprovisioned(c: Context<AppEnv>, sub: string): Promise<Taken | null> {
  const [own, ip] = await Promise.all([
    takeFrom(c, `unprovisioned:${sub}`, UNPROVISIONED_REQUESTS_PER_MINUTE),
    takeAnonymous(c),
  ]);
  const mine = own && { decision: own, who: 'An access token whose subject is no user yet' };
  if (!mine || !ip) return mine ?? ip;
  if (mine.decision.allowed !== ip.decision.allowed) return mine.decision.allowed ? ip : mine;
  return ip.decision.remaining < mine.decision.remaining ? ip : mine;
}

async function takeFrom(c: Context<AppEnv>, name: string, limit: number): Promise<RateDecision | null> {
  const ns = c.env.RATE_LIMITER;
  if (!ns) return null;
  try {
    return await limiterOf(ns, name).take(limit, WINDOW_MS);
  } catch (err) {
    console.error(
      JSON.stringify({ event: 'rate_limiter_failed', request_id: c.get('requestId'), message: String(err) }),
    );
    return null;
  }
}

export function rateLimitHeaders(d: RateDecision): Record<string, string> {
  const t = Math.max(1, Math.ceil(d.resetMs / 1000));
  return {
    'RateLimit-Policy': `"default";q=${d.limit};w=${RATE_LIMIT_WINDOW_SECONDS}`,
    RateLimit: `"default";r=${d.remaining};t=${t}`,
    ...(d.allowed ? {} : { 'Retry-After': String(t) }),
  };
}

function tooMany(d: RateDecision, who = "The tenant's plan"): ApiError {
  return new ApiError(
    'rate_limited',
    `${who} allows ${d.limit} requests per ${RATE_LIMIT_WINDOW_SECONDS} s; retry after the Retry-After delay.`,
    {
      headers: rateLimitHeaders(d),
    },
  );
}

const setHeaders = (c: Context<AppEnv>, d: RateDecision | null) => {
  if (d) for (const [k, v] of Object.entries(rateLimitHeaders({ ...d, allowed: true }))) c.res.headers.set(k, v);
};

/** Runs after requireAuth on every authenticated route (see lib/route.ts). */
export const rateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const sub = c.get('auth').sub;
  if (!known.has(sub)) await cold.get(sub);
  const tenant = known.get(sub);

  if (tenant) {
    const decision = await take(c, tenant);
    if (decision && !decision.allowed) throw tooMany(decision);
    await next();
    const caller = c.get('caller');
    if (caller) remember(sub, caller);
    setHeaders(c, decision);
    return;
  }

  if (unprovisioned.has(sub)) {
    const taken = await takeUnprovisioned(c, sub);
    if (taken && !taken.decision.allowed) throw tooMany(taken.decision, taken.who);
    await next();
    const caller = c.get('caller');
    if (caller) {
      unprovisioned.delete(sub);
      remember(sub, caller);
    }
    setHeaders(c, taken?.decision ?? null);
    return;
  }

  let release!: () => void;
  cold.set(sub, new Promise<void>((resolve) => (release = resolve)));
  try {
    await next();
    let caller: Pick<CallerRow, 'tenant_id' | 'tenant_plan'> | null | undefined = c.get('caller');
    if (!caller && (c.get('d1')?.roundTrips ?? 0) === 0)
      caller = await callerStatement(c.env.DB, sub).first<CallerRow>();
    if (!caller) {
      // No live user for this subject: charge its own budget, before D1 from now on.
      if (unprovisioned.size >= MAX_KNOWN) unprovisioned.clear();
      unprovisioned.add(sub);
      const taken = await takeUnprovisioned(c, sub);
      if (taken && !taken.decision.allowed) replaceWith429(c, taken);
      else setHeaders(c, taken?.decision ?? null);
      return;
    }
    remember(sub, caller);
    setHeaders(c, await take(c, { tenantId: caller.tenant_id, plan: caller.tenant_plan }));
  } finally {
    cold.delete(sub);
    release();
  }
});

/**
 * Runs before requireAuth: a request refused for its token (none, malformed, forged, expired) is
 * charged to its client IP's budget, and past the budget it is answered 429 instead of 401.
 */
export const rateLimitAnonymous = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (!(c.error instanceof ApiError) || c.error.code !== 'invalid_token') return;
  const taken = await takeAnonymous(c);
  if (taken && !taken.decision.allowed) replaceWith429(c, taken);
});

/** Answers 429 instead of the response already made (a fresh subject's budget is only known afterwards). */
function replaceWith429(c: Context<AppEnv>, taken: Taken) {
  c.res = undefined; // replace it whole: none of its headers (WWW-Authenticate) carry over
  c.res = problemResponse(c, tooMany(taken.decision, taken.who));
}
