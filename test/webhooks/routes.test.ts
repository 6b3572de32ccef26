import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { WEBHOOK_ENDPOINTS_MAX, WEBHOOK_SECRET_GRACE_MS } from '../../src/lib/limits';
import { WebhookDeliverySchema, WebhookSchema, WebhookSecretSchema } from '../../src/routes/webhooks/schemas';
import { call } from '../helpers/http';
import { createMemory, expectProblem, world } from '../memories/helpers';
import { CLOSED_URL, createWebhook, webhookAudit } from './helpers';

describe('/v1/webhooks', () => {
  it('creates an endpoint whose secret is shown once, in the Standard Webhooks form', async () => {
    const w = await world();
    const created = await createWebhook(w.tokens.owner, {
      events: ['memory.create', 'memory.purge'],
      description: 'Search index',
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(created.secret.slice(6))).toHaveLength(32);
    expect(created).toMatchObject({
      url: CLOSED_URL,
      events: ['memory.create', 'memory.purge'],
      description: 'Search index',
      enabled: false,
      disabled_reason: null,
      consecutive_failures: 0,
    });
    const got = await call(`/v1/webhooks/${created.id}`, { token: w.tokens.admin });
    expect(got.status).toBe(200);
    const body = await got.json();
    expect(WebhookSchema.strict().parse(body)).not.toHaveProperty('secret');
    expect(JSON.stringify(body)).not.toContain(created.secret.slice(6));
    const list = await call('/v1/webhooks', { token: w.tokens.owner });
    const page = (await list.json()) as { data: { id: string; secret?: string }[] };
    expect(page.data.map((e) => e.id)).toEqual([created.id]);
    expect(JSON.stringify(page)).not.toContain(created.secret.slice(6));
    // A second tenant sees none of it.
    await expectProblem(await call(`/v1/webhooks/${created.id}`, { token: w.tokens.other }), 404, 'not_found');
    const theirs = (await (await call('/v1/webhooks', { token: w.tokens.other })).json()) as { data: unknown[] };
    expect(theirs.data).toEqual([]);
  });

  it('omitted events mean every event; enabled defaults to true', async () => {
    const w = await world();
    const res = await call('/v1/webhooks', { method: 'POST', token: w.tokens.owner, json: { url: CLOSED_URL } });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { events: unknown; enabled: boolean; id: string };
    expect(body).toMatchObject({ events: null, enabled: true });
    expect(res.headers.get('location')).toBe(`/v1/webhooks/${body.id}`);
  });

  it('members may not manage webhooks, and nothing is written for them', async () => {
    const w = await world();
    await expectProblem(
      await call('/v1/webhooks', { method: 'POST', token: w.tokens.member, json: { url: CLOSED_URL } }),
      403,
      'insufficient_role',
    );
    const n = await env.DB.prepare('SELECT count(*) AS n FROM webhook_endpoints WHERE tenant_id = ?1')
      .bind(w.a.tenant.id)
      .first<{ n: number }>();
    expect(n!.n).toBe(0);
    const hook = await createWebhook(w.tokens.owner);
    for (const [method, path] of [
      ['GET', '/v1/webhooks'],
      ['GET', `/v1/webhooks/${hook.id}`],
      ['PATCH', `/v1/webhooks/${hook.id}`],
      ['DELETE', `/v1/webhooks/${hook.id}`],
      ['POST', `/v1/webhooks/${hook.id}/rotate-secret`],
      ['POST', `/v1/webhooks/${hook.id}/test`],
      ['GET', `/v1/webhooks/${hook.id}/deliveries`],
    ] as const) {
      const json = method === 'PATCH' ? { description: 'x' } : undefined;
      await expectProblem(await call(path, { method, token: w.tokens.member, json }), 403, 'insufficient_role');
    }
    expect((await webhookAudit(w.a.tenant.id, hook.id)).map((a) => a.action)).toEqual(['webhook.create']);
  });

  it('updates fields, audits the old and new values, and deletes', async () => {
    const w = await world();
    const hook = await createWebhook(w.tokens.owner, { description: 'first' });
    const res = await call(`/v1/webhooks/${hook.id}`, {
      method: 'PATCH',
      token: w.tokens.admin,
      json: { description: null, events: ['memory.update'] },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(WebhookSchema.strict().parse(await res.json())).toMatchObject({
      description: null,
      events: ['memory.update'],
      url: CLOSED_URL,
    });
    const del = await call(`/v1/webhooks/${hook.id}`, { method: 'DELETE', token: w.tokens.owner });
    expect(del.status).toBe(204);
    await expectProblem(await call(`/v1/webhooks/${hook.id}`, { token: w.tokens.owner }), 404, 'not_found');
    await expectProblem(
      await call(`/v1/webhooks/${hook.id}`, { method: 'DELETE', token: w.tokens.owner }),
      404,
      'not_found',
    );
    const audit = await webhookAudit(w.a.tenant.id, hook.id);
    expect(audit.map((a) => a.action)).toEqual(['webhook.create', 'webhook.update', 'webhook.delete']);
    expect(JSON.parse(audit[1]!.old_values!)).toEqual({ description: 'first', events: null });
    expect(JSON.parse(audit[1]!.new_values!)).toEqual({ description: null, events: ['memory.update'] });
    expect(audit[1]!.user_id).toBe(w.admin.id);
    for (const a of audit) expect(`${a.old_values}${a.new_values}`).not.toContain(hook.secret.slice(6));
  });

  it('enabling a disabled endpoint clears its failure state', async () => {
    const w = await world();
    const hook = await createWebhook(w.tokens.owner);
    await env.DB.prepare(
      "UPDATE webhook_endpoints SET disabled_reason = 'failing', failure_count = 8, next_attempt_at = 1 WHERE id = ?1",
    )
      .bind(hook.id)
      .run();
    const failing = WebhookSchema.strict().parse(
      await (await call(`/v1/webhooks/${hook.id}`, { token: w.tokens.owner })).json(),
    );
    expect(failing).toMatchObject({ enabled: false, disabled_reason: 'failing', consecutive_failures: 8 });
    const res = await call(`/v1/webhooks/${hook.id}`, {
      method: 'PATCH',
      token: w.tokens.owner,
      json: { enabled: true },
    });
    expect(WebhookSchema.strict().parse(await res.json())).toMatchObject({
      enabled: true,
      disabled_reason: null,
      consecutive_failures: 0,
      next_attempt_at: null,
    });
  });

  it('refuses an empty or unknown patch, repeated events and unknown events with 422', async () => {
    const w = await world();
    const hook = await createWebhook(w.tokens.owner);
    for (const json of [
      {},
      { secret: 'whsec_x' },
      { events: ['memory.create', 'memory.create'] },
      { events: ['memory.nope'] },
      { events: [] },
    ]) {
      await expectProblem(
        await call(`/v1/webhooks/${hook.id}`, { method: 'PATCH', token: w.tokens.owner, json }),
        422,
        'validation_failed',
      );
    }
  });

  it(`caps a tenant at ${WEBHOOK_ENDPOINTS_MAX} endpoints`, async () => {
    const w = await world();
    for (let i = 0; i < WEBHOOK_ENDPOINTS_MAX; i++) await createWebhook(w.tokens.owner);
    await expectProblem(
      await call('/v1/webhooks', { method: 'POST', token: w.tokens.owner, json: { url: CLOSED_URL } }),
      403,
      'quota_exceeded',
    );
  });

  it('rotates the secret: a new one, the old one kept for the grace period, audited', async () => {
    const w = await world();
    const hook = await createWebhook(w.tokens.owner);
    const before = Date.now();
    const res = await call(`/v1/webhooks/${hook.id}/rotate-secret`, { method: 'POST', token: w.tokens.owner });
    expect(res.status, await res.clone().text()).toBe(200);
    const rotated = WebhookSecretSchema.strict().parse(await res.json());
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(hook.secret);
    const graceUntil = Date.parse(rotated.previous_secret_expires_at);
    expect(graceUntil).toBeGreaterThanOrEqual(before + WEBHOOK_SECRET_GRACE_MS);
    const row = await env.DB.prepare(
      'SELECT secret, previous_secret, previous_secret_expires_at FROM webhook_endpoints WHERE id = ?1',
    )
      .bind(hook.id)
      .first();
    expect(row).toEqual({
      secret: rotated.secret,
      previous_secret: hook.secret,
      previous_secret_expires_at: graceUntil,
    });
    const audit = await webhookAudit(w.a.tenant.id, hook.id);
    expect(audit.map((a) => a.action)).toEqual(['webhook.create', 'webhook.rotate_secret']);
    expect(audit[1]!.new_values).not.toContain(rotated.secret.slice(6));
  });

  it('a test event to an endpoint that refuses the connection is a recorded failed attempt', async () => {
    const w = await world();
    const hook = await createWebhook(w.tokens.owner);
    const res = await call(`/v1/webhooks/${hook.id}/test`, { method: 'POST', token: w.tokens.owner });
    expect(res.status, await res.clone().text()).toBe(200);
    const attempt = WebhookDeliverySchema.strict().parse(await res.json());
    expect(attempt).toMatchObject({
      event_type: 'webhook.test',
      status: 'failed',
      error: 'connection_failed',
      response_status: null,
      seq: null,
      attempt: 1,
    });
    const list = await call(`/v1/webhooks/${hook.id}/deliveries`, { token: w.tokens.admin });
    expect(list.status).toBe(200);
    const page = (await list.json()) as { data: unknown[]; next_cursor: string | null };
    expect(page.data.map((d) => WebhookDeliverySchema.strict().parse(d))).toEqual([attempt]);
    await expectProblem(await call(`/v1/webhooks/${hook.id}/deliveries`, { token: w.tokens.other }), 404, 'not_found');
  });

  it('pages the delivery history newest first with a cursor', async () => {
    const w = await world();
    const hook = await createWebhook(w.tokens.owner);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await call(`/v1/webhooks/${hook.id}/test`, { method: 'POST', token: w.tokens.owner });
      ids.push(((await res.json()) as { id: string }).id);
    }
    const first = (await (
      await call(`/v1/webhooks/${hook.id}/deliveries?limit=2`, { token: w.tokens.owner })
    ).json()) as {
      data: { id: string }[];
      next_cursor: string;
    };
    expect(first.data.map((d) => d.id)).toEqual([ids[2], ids[1]]);
    const second = (await (
      await call(`/v1/webhooks/${hook.id}/deliveries?limit=2&cursor=${encodeURIComponent(first.next_cursor)}`, {
        token: w.tokens.owner,
      })
    ).json()) as { data: { id: string }[]; next_cursor: null };
    expect(second).toEqual({ data: [expect.objectContaining({ id: ids[0] })], next_cursor: null });
  });

  it('a memory write costs no extra D1 round trip when the tenant has endpoints', async () => {
    const roundTrips = async (token: string) => {
      await createMemory(token); // warm: the first request of a caller may cost more
      const res = await call('/v1/memories', { method: 'POST', token, json: { content: 'x' } });
      expect(res.status).toBe(201);
      return /round_trips=(\d+)/.exec(res.headers.get('server-timing') ?? '')![1];
    };
    const withHooks = await world();
    await createWebhook(withHooks.tokens.owner, { enabled: true, events: ['memory.purge'] });
    const without = await world();
    expect(await roundTrips(withHooks.tokens.owner)).toBe(await roundTrips(without.tokens.owner));
  });
});
