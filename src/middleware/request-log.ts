import type { Context } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { D1Stats } from '../db/instrument';
import type { AppEnv } from '../env';

// One structured line per request (Workers Logs / `wrangler tail`), searchable by request_id and
// tenant. It names the route pattern, never the path's ids or the query, and no token or body.

/** How the tenant's rate limit treated the request, read from what the limiter answered. */
function rateLimitOutcome(res: Response): 'limited' | 'allowed' | 'none' {
  if (res.status === 429) return 'limited';
  return res.headers.has('RateLimit') ? 'allowed' : 'none';
}

export function logRequest(c: Context<AppEnv>, stats: D1Stats, startedAt: number): void {
  let route: string | null = null; // the matched route pattern; middleware entries are 'ALL'
  for (const r of matchedRoutes(c)) if (r.method !== 'ALL') route = r.path;
  console.log(
    JSON.stringify({
      event: 'request',
      request_id: c.get('requestId'),
      tenant: c.get('caller')?.tenant_id ?? null,
      method: c.req.method,
      route,
      status: c.res.status,
      duration_ms: Date.now() - startedAt,
      d1_round_trips: stats.roundTrips,
      d1_rows_read: stats.rowsRead,
      d1_rows_written: stats.rowsWritten,
      rate_limit: rateLimitOutcome(c.res),
    }),
  );
}
