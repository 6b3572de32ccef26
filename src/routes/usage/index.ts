import { OpenAPIHono, z } from '@hono/zod-openapi';
import { requireRole, runAsCaller } from '../../auth/caller';
import { USAGE_COUNTERS, type UsageDay, usageSeriesStatement } from '../../db/usage';
import type { AppEnv } from '../../env';
import { USAGE_FLUSH_INTERVAL_MS, USAGE_MAX_DAYS } from '../../lib/limits';
import { invalidRequest } from '../../lib/problem';
import { jsonResponse, problemResponses, securedRoute } from '../../lib/route';
import { countSchema } from '../../lib/schemas';
import { utcDay } from '../../lib/time';

export const usage = new OpenAPIHono<AppEnv>();

const DAY_MS = 24 * 3600 * 1000;
const DEFAULT_DAYS = 30;

/** A calendar date YYYY-MM-DD (UTC); '2026-02-30' is not one. */
const Day = z
  .string()
  .max(10)
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD')
  .refine(
    (d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
    'not a calendar date',
  );

const CountersSchema = z.object({
  requests: countSchema.openapi({ description: "Authenticated API requests made with the tenant's tokens." }),
  memories_created: countSchema,
  memories_deleted: countSchema,
  memories_expired: countSchema.openapi({
    description: 'Memories the maintenance cron removed because their `expires_at` passed.',
  }),
  searches: countSchema.openapi({ description: 'Full-text searches.' }),
  rows_read: countSchema.openapi({ description: "Database rows read on the tenant's behalf." }),
});

const UsageDaySchema = CountersSchema.extend({ day: z.string().max(10).openapi({ example: '2026-01-05' }) }).openapi(
  'UsageDay',
);

export const UsageReportSchema = z
  .object({
    from: z.string().max(10).openapi({ example: '2026-01-01' }),
    to: z.string().max(10).openapi({ example: '2026-01-31' }),
    data: z
      .array(UsageDaySchema)
      .max(USAGE_MAX_DAYS)
      .openapi({ description: 'One entry per day from `from` to `to`, days without activity as zeros.' }),
    totals: CountersSchema.openapi('UsageTotals'),
  })
  .openapi('UsageReport', {
    example: {
      from: '2026-01-01',
      to: '2026-01-02',
      data: [
        {
          day: '2026-01-01',
          requests: 120,
          memories_created: 14,
          memories_deleted: 2,
          memories_expired: 0,
          searches: 31,
          rows_read: 2480,
        },
        {
          day: '2026-01-02',
          requests: 0,
          memories_created: 0,
          memories_deleted: 0,
          memories_expired: 0,
          searches: 0,
          rows_read: 0,
        },
      ],
      totals: {
        requests: 120,
        memories_created: 14,
        memories_deleted: 2,
        memories_expired: 0,
        searches: 31,
        rows_read: 2480,
      },
    },
  });

const msOf = (day: string) => Date.parse(`${day}T00:00:00Z`);

const getUsage = securedRoute(['manage:tenant'], {
  method: 'get',
  path: '/v1/usage',
  operationId: 'getUsage',
  tags: ['Usage'],
  summary: 'Daily usage',
  description:
    `Owner or admin. Daily counters of the tenant (UTC days) from \`from\` to \`to\` inclusive, at most ${USAGE_MAX_DAYS} days ` +
    `(default: the last ${DEFAULT_DAYS} days). Memory counts are exact at once; requests, searches and rows read reach the report ` +
    `within about ${USAGE_FLUSH_INTERVAL_MS / 1000} s.`,
  request: {
    query: z.object({
      from: Day.optional().openapi({
        description: `First day (YYYY-MM-DD); default \`to\` minus ${DEFAULT_DAYS - 1} days.`,
        example: '2026-01-01',
      }),
      to: Day.optional().openapi({ description: 'Last day (YYYY-MM-DD); default today (UTC).', example: '2026-01-31' }),
    }),
  },
  responses: { 200: jsonResponse(UsageReportSchema, 'The daily series'), ...problemResponses('insufficient_role') },
});

usage.openapi(getUsage, async (c) => {
  const q = c.req.valid('query');
  const to = q.to ?? utcDay(Date.now());
  const from = q.from ?? utcDay(msOf(to) - (DEFAULT_DAYS - 1) * DAY_MS);
  const days = (msOf(to) - msOf(from)) / DAY_MS + 1;
  if (days < 1 || days > USAGE_MAX_DAYS) {
    const message = days < 1 ? '`from` is after `to`' : `the range spans ${days} days; at most ${USAGE_MAX_DAYS}`;
    throw invalidRequest([{ path: 'query.from', message }]);
  }
  const { caller, results } = await runAsCaller(c, [usageSeriesStatement(c.env.DB, c.get('auth').sub, from, to)]);
  requireRole(caller, 'owner', 'admin');
  const stored = new Map((results[0]!.results as unknown as UsageDay[]).map((r) => [r.day, r]));
  const totals = {
    requests: 0,
    memories_created: 0,
    memories_deleted: 0,
    memories_expired: 0,
    searches: 0,
    rows_read: 0,
  };
  const data: UsageDay[] = [];
  for (let i = 0; i < days; i++) {
    const day = utcDay(msOf(from) + i * DAY_MS);
    const row = stored.get(day);
    const entry = {
      day,
      requests: 0,
      memories_created: 0,
      memories_deleted: 0,
      memories_expired: 0,
      searches: 0,
      rows_read: 0,
    };
    for (const k of USAGE_COUNTERS) totals[k] += entry[k] = row?.[k] ?? 0;
    data.push(entry);
  }
  return c.json({ from, to, data, totals }, 200);
});

export const usageRoutes = { getUsage };
