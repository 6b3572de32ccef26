// Waking a tenant's WebhookDispatcher, without importing the Durable Object class (the app's
// module graph must also load in Node, for the spec script).
import type { Env } from '../env';

/** Wakes the tenant's dispatcher (no D1 query: the caller row says whether the tenant has endpoints). */
export function kickWebhooks(env: Env, tenantId: string): Promise<void> {
  const ns = env.WEBHOOK_DISPATCHER;
  if (!ns) return Promise.resolve();
  return ns.get(ns.idFromName(tenantId)).kick(tenantId);
}
