import type { Plan } from '../db/tenants';

/** Plan limits: the one table every enforcement point reads (quotas, rate limits, downgrades). */
export const PLANS: Record<Plan, { memories: number; users: number; sessions: number; requestsPerMinute: number }> = {
  free: { memories: 1_000, users: 5, sessions: 10, requestsPerMinute: 120 },
  pro: { memories: 100_000, users: 50, sessions: 200, requestsPerMinute: 1_200 },
  team: { memories: 1_000_000, users: 500, sessions: 2_000, requestsPerMinute: 6_000 },
};

export type PlanLimit = keyof (typeof PLANS)['free'];

/** The same table as an SQL CASE over a plan column, for quota checks inside a write statement. */
export function planLimitSql(limit: PlanLimit, planColumn: string): string {
  const arms = Object.entries(PLANS).map(([plan, limits]) => `WHEN '${plan}' THEN ${limits[limit]}`);
  return `(CASE ${planColumn} ${arms.join(' ')} ELSE 0 END)`;
}
