import { OpenAPIHono, z } from '@hono/zod-openapi';
import { requestMeta, requireRole, runAsCaller } from '../../auth/caller';
import {
  changePlanStatements,
  getSubscriptionStatement,
  type PlanChangeVerdict,
  planLimits,
  type SubscriptionRow,
  toSubscription,
} from '../../db/subscriptions';
import type { AppEnv } from '../../env';
import { PLANS } from '../../lib/plans';
import { ApiError } from '../../lib/problem';
import { jsonResponse, problemResponses, securedRoute } from '../../lib/route';
import { countSchema, timestampSchema } from '../../lib/schemas';

export const subscription = new OpenAPIHono<AppEnv>();

const Plan = z.enum(['free', 'pro', 'team']).openapi({ example: 'pro' });

const LimitsSchema = z
  .object({ memories: countSchema, users: countSchema, sessions: countSchema, requests_per_minute: countSchema })
  .openapi('PlanLimits', { example: planLimits('free') });

export const SubscriptionSchema = z
  .object({
    plan: Plan,
    status: z.enum(['active', 'trialing', 'past_due', 'canceled']),
    current_period_start: timestampSchema(),
    current_period_end: timestampSchema('2026-02-04T10:00:00.000Z'),
    updated_at: timestampSchema(),
    limits: LimitsSchema,
    usage: z
      .object({
        memories: countSchema.openapi({ description: 'Live memories.', example: 42 }),
        users: countSchema.openapi({ description: 'Live users (persons and services).', example: 3 }),
        sessions: countSchema.openapi({ description: 'MCP sessions not ended or expired.', example: 1 }),
      })
      .openapi('PlanUsage'),
  })
  .openapi('Subscription');

const ChangePlanSchema = z
  .object({ plan: Plan })
  .strict()
  .openapi('ChangePlan', { example: { plan: 'pro' } });

const PLAN_TABLE = Object.entries(PLANS)
  .map(
    ([p, l]) =>
      `${p}: ${l.memories} memories, ${l.users} users, ${l.sessions} sessions, ${l.requestsPerMinute} requests/min`,
  )
  .join('; ');

const getSubscription = securedRoute(['manage:tenant'], {
  method: 'get',
  path: '/v1/subscription',
  operationId: 'getSubscription',
  tags: ['Subscription'],
  summary: 'Plan, limits and usage',
  description: `Owner only. The tenant's plan, its limits and the current usage against them. Plans: ${PLAN_TABLE}.`,
  responses: { 200: jsonResponse(SubscriptionSchema, 'The subscription'), ...problemResponses('insufficient_role') },
});

subscription.openapi(getSubscription, async (c) => {
  const { caller, results } = await runAsCaller(c, [getSubscriptionStatement(c.env.DB, c.get('auth').sub)]);
  requireRole(caller, 'owner');
  return c.json(toSubscription(results[0]!.results[0] as SubscriptionRow), 200);
});

const changePlan = securedRoute(['manage:tenant'], {
  method: 'put',
  path: '/v1/subscription',
  operationId: 'changePlan',
  tags: ['Subscription'],
  summary: 'Change the plan',
  description:
    `Owner only. Moves the tenant to another plan (the same plan is a no-op). A downgrade is refused with 409 \`plan_limits_exceeded\` ` +
    `while the tenant's memories, users or sessions exceed the target plan's limits. Plans: ${PLAN_TABLE}.`,
  request: { body: { required: true, content: { 'application/json': { schema: ChangePlanSchema } } } },
  responses: {
    200: jsonResponse(SubscriptionSchema, 'The subscription on its new plan'),
    ...problemResponses('insufficient_role', 'plan_limits_exceeded'),
  },
});

subscription.openapi(changePlan, async (c) => {
  const { plan } = c.req.valid('json');
  const { caller, results } = await runAsCaller(
    c,
    changePlanStatements(c.env.DB, c.get('auth').sub, plan, requestMeta(c), Date.now()),
  );
  requireRole(caller, 'owner');
  const verdict = (results[0]!.results[0] as { verdict: PlanChangeVerdict }).verdict;
  const row = results[4]!.results[0] as SubscriptionRow;
  if (verdict === 'plan_limits_exceeded') {
    const target = planLimits(plan);
    const over = (['memories', 'users', 'sessions'] as const)
      .filter((k) => row[k] > target[k])
      .map((k) => `${k} ${row[k]} > ${target[k]}`);
    throw new ApiError(
      'plan_limits_exceeded',
      `The tenant's usage exceeds the ${plan} plan's limits (${over.join(', ')}); reduce it first.`,
    );
  }
  return c.json(toSubscription(row), 200);
});

export const subscriptionRoutes = { getSubscription, changePlan };
