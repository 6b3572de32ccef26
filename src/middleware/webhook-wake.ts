import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { kickWebhooks } from '../webhooks/wake';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * After a successful write by a tenant with webhook endpoints, wakes the tenant's dispatcher
 * (after the response, ctx.waitUntil). The caller row of the request's own batch says whether
 * there are endpoints, so a write gains no D1 round trip; a lost wake-up is caught by the cron.
 */
export function wakeWebhooks(c: Context<AppEnv>): void {
  const caller = c.get('caller');
  if (!caller || READS.has(c.req.method) || c.res.status >= 400) return;
  // An endpoint enabled by this very request was not counted yet.
  if (caller.tenant_webhooks === 0 && !c.req.path.startsWith('/v1/webhooks')) return;
  let waitUntil: (p: Promise<unknown>) => void;
  try {
    const ctx = c.executionCtx;
    waitUntil = ctx.waitUntil.bind(ctx);
  } catch {
    return; // no execution context (app.request in a script): the cron delivers
  }
  waitUntil(
    kickWebhooks(c.env, caller.tenant_id).catch((err: unknown) =>
      console.error(JSON.stringify({ event: 'webhook_wake_failed', message: String(err) })),
    ),
  );
}
