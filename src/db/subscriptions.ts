import { PLANS, type PlanLimit, planLimitSql } from '../lib/plans';
import { toIso } from '../lib/time';
import { auditInsertSql, type RequestMeta } from './audit';
import { Binder, prepared } from './binder';
import { withCaller } from './caller';
import { liveMemoryCountSql } from './expiry';
import type { Plan } from './tenants';

// One subscription per tenant; tenants.plan mirrors subscriptions.plan and both change in one
// batch, guarded by the same verdict.

export interface SubscriptionRow {
  plan: Plan;
  status: 'active' | 'trialing' | 'past_due' | 'canceled';
  current_period_start: number;
  current_period_end: number;
  updated_at: number;
  memories: number;
  users: number;
  sessions: number;
}

/** What the plan table says about a plan, in API field names. */
export function planLimits(plan: Plan) {
  const l = PLANS[plan];
  return { memories: l.memories, users: l.users, sessions: l.sessions, requests_per_minute: l.requestsPerMinute };
}

export function toSubscription(row: SubscriptionRow) {
  return {
    plan: row.plan,
    status: row.status,
    current_period_start: toIso(row.current_period_start),
    current_period_end: toIso(row.current_period_end),
    updated_at: toIso(row.updated_at),
    limits: planLimits(row.plan),
    usage: { memories: row.memories, users: row.users, sessions: row.sessions },
  };
}

// Usage measured against plan limits: live memories (kept exact by triggers), live users, and
// sessions not yet ended or expired.
const USAGE = {
  memories: liveMemoryCountSql('t'),
  users: '(SELECT COUNT(*) FROM users WHERE tenant_id = t.id AND deleted_at IS NULL)',
  sessions: '(SELECT COUNT(*) FROM sessions WHERE tenant_id = t.id AND expired_at IS NULL)',
} satisfies Partial<Record<PlanLimit, string>>;

/** The caller's subscription with current usage; owner only. */
export function getSubscriptionStatement(db: D1Database, sub: string): D1PreparedStatement {
  return db
    .prepare(
      withCaller(
        `SELECT s.plan, s.status, s.current_period_start, s.current_period_end, s.updated_at,
                ${USAGE.memories} AS memories, ${USAGE.users} AS users, ${USAGE.sessions} AS sessions
         FROM caller c JOIN subscriptions s ON s.tenant_id = c.tenant_id JOIN tenants t ON t.id = c.tenant_id
         WHERE c.role = 'owner'`,
      ),
    )
    .bind(sub);
}

export type PlanChangeVerdict = 'ok' | 'no_caller' | 'insufficient_role' | 'unchanged' | 'plan_limits_exceeded';

/** Why moving to `plan` (an SQL operand) would be refused, 'unchanged', or 'ok'. Reads tenants.plan. */
function planChangeVerdictSql(plan: string): string {
  const exceeds = (Object.keys(USAGE) as (keyof typeof USAGE)[])
    .map((k) => `${USAGE[k]} > ${planLimitSql(k, plan)}`)
    .join(' OR ');
  return `(SELECT CASE
    WHEN c.user_id IS NULL THEN 'no_caller'
    WHEN c.role != 'owner' THEN 'insufficient_role'
    WHEN t.plan = ${plan} THEN 'unchanged'
    WHEN ${exceeds} THEN 'plan_limits_exceeded'
    ELSE 'ok' END
  FROM (SELECT 1) LEFT JOIN caller c ON 1 LEFT JOIN tenants t ON t.id = c.tenant_id)`;
}

/**
 * [verdict, audit, subscriptions update, tenants update, subscription read]. The verdict reads
 * tenants.plan, so tenants is updated last (until then every guard sees the old plan). A
 * downgrade is refused while usage exceeds the target plan's limits, in the same transaction.
 */
export function changePlanStatements(
  db: D1Database,
  sub: string,
  plan: Plan,
  meta: RequestMeta,
  now: number,
): D1PreparedStatement[] {
  const verdict = planChangeVerdictSql('?2');
  const b = new Binder(sub);
  const audit = auditInsertSql(
    b,
    {
      action: 'subscription.update',
      resourceType: 'subscription',
      resourceIdSql: '(SELECT id FROM subscriptions WHERE tenant_id = c.tenant_id)',
      oldSql: `(SELECT json_object('plan', plan) FROM tenants WHERE id = c.tenant_id)`,
      newSql: `json_object('plan', ${b.bind(plan)})`,
    },
    meta,
    now,
    `caller c WHERE ${planChangeVerdictSql(b.bind(plan))} = 'ok'`,
  );
  return [
    db.prepare(withCaller(`SELECT ${verdict} AS verdict`)).bind(sub, plan),
    prepared(db, b, withCaller(audit)),
    db
      .prepare(
        withCaller(
          `UPDATE subscriptions SET plan = ?2, updated_at = MAX(?3, updated_at + 1) WHERE tenant_id = (SELECT tenant_id FROM caller) AND ${verdict} = 'ok'`,
        ),
      )
      .bind(sub, plan, now),
    db
      .prepare(
        withCaller(
          `UPDATE tenants SET plan = ?2, updated_at = MAX(?3, updated_at + 1) WHERE id = (SELECT tenant_id FROM caller) AND ${verdict} = 'ok'`,
        ),
      )
      .bind(sub, plan, now),
    getSubscriptionStatement(db, sub),
  ];
}
