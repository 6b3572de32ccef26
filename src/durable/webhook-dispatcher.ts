import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import { deliverTenant } from '../webhooks/deliver';

/**
 * One instance per tenant (idFromName(tenant id)) runs that tenant's webhook deliveries from its
 * alarm: one run at a time, so each endpoint's messages go out in order and no two runs send the
 * same one. The alarm is durable (an evicted object still wakes up) and is also the retry timer.
 * The state that matters (cursors, failures) is in D1; storage holds only the tenant id.
 */
export class WebhookDispatcher extends DurableObject<Env> {
  /** Asks for a run as soon as possible (after a write, from the cron). */
  async kick(tenantId: string): Promise<void> {
    await this.ctx.storage.put('tenant', tenantId);
    const at = await this.ctx.storage.getAlarm();
    if (at === null || at > Date.now()) await this.ctx.storage.setAlarm(Date.now());
  }

  override async alarm(): Promise<void> {
    const tenantId = await this.ctx.storage.get<string>('tenant');
    if (!tenantId) return;
    const next = await deliverTenant(this.env, tenantId);
    // A kick during this run may already have asked for an earlier one.
    const at = await this.ctx.storage.getAlarm();
    if (next !== null && (at === null || at > next)) await this.ctx.storage.setAlarm(next);
  }
}
