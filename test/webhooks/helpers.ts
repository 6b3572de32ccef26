import { env } from 'cloudflare:test';
import { expect } from 'vitest';
import { WebhookCreatedSchema } from '../../src/routes/webhooks/schemas';
import { call } from '../helpers/http';

/** A local endpoint nothing listens on (WEBHOOK_ALLOWED_HOSTS lets tests use 127.0.0.1). */
export const CLOSED_URL = 'http://127.0.0.1:9/hook';

/** Creates an endpoint through the API (201 asserted); disabled unless asked, so no dispatcher delivers to it. */
export async function createWebhook(token: string, json: Record<string, unknown> = {}) {
  const res = await call('/v1/webhooks', { method: 'POST', token, json: { url: CLOSED_URL, enabled: false, ...json } });
  expect(res.status, await res.clone().text()).toBe(201);
  return WebhookCreatedSchema.strict().parse(await res.json());
}

export async function webhookAudit(tenantId: string, id: string) {
  const { results } = await env.DB.prepare(
    `SELECT action, user_id, old_values, new_values FROM audit_logs WHERE tenant_id = ?1 AND resource_type = 'webhook' AND resource_id = ?2 ORDER BY created_at, id`,
  )
    .bind(tenantId, id)
    .all<{ action: string; user_id: string | null; old_values: string | null; new_values: string | null }>();
  return results;
}
