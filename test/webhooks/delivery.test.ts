import { env, runInDurableObject } from 'cloudflare:test';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { dueWebhookTenantsStatement } from '../../src/db/webhooks';
import type { WebhookDispatcher } from '../../src/durable/webhook-dispatcher';
import { WEBHOOK_SECRET_GRACE_MS } from '../../src/lib/limits';
import { kickDueWebhooks } from '../../src/scheduled';
import {
  deliverTenant,
  MAX_ATTEMPTS,
  MAX_MESSAGES_PER_RUN,
  RETRY_DELAYS_MS,
  type Send,
} from '../../src/webhooks/deliver';
import { call } from '../helpers/http';
import { createMemory, insertSession, world } from '../memories/helpers';
import { createWebhook, webhookAudit } from './helpers';

interface Sent {
  url: string;
  headers: Record<string, string>;
  body: string;
  redirect: RequestInit['redirect'];
}
interface Message {
  type: string;
  timestamp: string;
  data: { seq: number; type: string; memory_id: string; memory: { content: string } | null };
}

/** A receiver in the test: records what it got and answers with `status(n)` for the n-th request. */
function receiver(status: (n: number) => number = () => 200) {
  const got: Sent[] = [];
  const send: Send = async (url, init) => {
    got.push({
      url,
      headers: Object.fromEntries(new Headers(init.headers).entries()),
      body: String(init.body),
      redirect: init.redirect,
    });
    return new Response('thanks', { status: status(got.length) });
  };
  return { got, send, messages: () => got.map((g) => JSON.parse(g.body) as Message) };
}

/**
 * A tenant with one endpoint, created disabled. Tests write while it is disabled (`quietly`), so
 * no write wakes the tenant's real dispatcher, and enable it only for their own runs.
 */
async function setup(json: Record<string, unknown> = {}, given?: Awaited<ReturnType<typeof world>>) {
  const w = given ?? (await world());
  const hook = await createWebhook(w.tokens.owner, json);
  const setEnabled = (on: boolean) =>
    env.DB.prepare('UPDATE webhook_endpoints SET enabled = ?2 WHERE id = ?1')
      .bind(hook.id, on ? 1 : 0)
      .run();
  const quietly = async <T>(writes: () => Promise<T>): Promise<T> => {
    await setEnabled(false);
    const out = await writes();
    await setEnabled(true);
    return out;
  };
  const state = () =>
    env.DB.prepare(
      'SELECT cursor, failure_count, next_attempt_at, enabled, disabled_reason FROM webhook_endpoints WHERE id = ?1',
    )
      .bind(hook.id)
      .first<{
        cursor: number;
        failure_count: number;
        next_attempt_at: number | null;
        enabled: number;
        disabled_reason: string | null;
      }>();
  const attempts = async () =>
    (
      await env.DB.prepare('SELECT * FROM webhook_deliveries WHERE endpoint_id = ?1 ORDER BY rowid').bind(hook.id).all<{
        message_id: string;
        seq: number;
        attempt: number;
        status: string;
        response_status: number | null;
        error: string | null;
        next_retry_at: number | null;
      }>()
    ).results;
  const run = (o: Parameters<typeof deliverTenant>[2] = {}) => deliverTenant(env, w.a.tenant.id, o);
  return { w, hook, quietly, state, attempts, run };
}

describe('webhook delivery', () => {
  it('delivers every later change once, in order, signed so that standardwebhooks verifies it', async () => {
    // Created before the endpoint: its create is not sent (an endpoint starts at the latest change).
    const w = await world();
    const before = await createMemory(w.tokens.owner, { content: 'before the endpoint', access_scope: 'global' });
    const s = await setup({}, w);
    const m = await s.quietly(async () => {
      const m = await createMemory(s.w.tokens.owner, { content: 'v1', access_scope: 'global' });
      await call(`/v1/memories/${m.id}`, { method: 'PATCH', token: s.w.tokens.owner, json: { content: 'v2' } });
      await call(`/v1/memories/${before.id}?permanent=true`, { method: 'DELETE', token: s.w.tokens.owner });
      return m;
    });
    const r = receiver();
    expect(await s.run({ send: r.send })).toBeNull();
    const wh = new Webhook(s.hook.secret);
    for (const g of r.got) {
      expect(g.url).toBe(s.hook.url);
      expect(g.redirect).toBe('manual');
      expect(g.headers['content-type']).toBe('application/json');
      expect(g.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(wh.verify(g.body, g.headers)).toEqual(JSON.parse(g.body));
    }
    const msgs = r.messages();
    expect(msgs.map((x) => [x.type, x.data.memory_id])).toEqual([
      ['memory.create', m.id],
      ['memory.update', m.id],
      ['memory.purge', before.id],
    ]);
    expect(msgs.map((x) => x.data.memory?.content ?? null)).toEqual(['v1', 'v2', null]);
    const seqs = msgs.map((x) => x.data.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(r.got.map((g) => g.headers['webhook-id'])).toEqual(seqs.map((q) => `msg_${s.hook.id.slice(4)}_${q}`));
    // A signature made with another secret is refused.
    expect(() => new Webhook(`whsec_${btoa('x'.repeat(32))}`).verify(r.got[0]!.body, r.got[0]!.headers)).toThrow();
    // Nothing is sent twice: the next run has nothing to do.
    const again = receiver();
    expect(await s.run({ send: again.send })).toBeNull();
    expect(again.got).toEqual([]);
    expect((await s.state())!.cursor).toBe(seqs.at(-1));
    expect((await s.attempts()).map((a) => [a.seq, a.status, a.response_status])).toEqual(
      seqs.map((q) => [q, 'succeeded', 200]),
    );
  });

  it("sends others' private memories without their content, and no session memories", async () => {
    const s = await setup();
    const [mine, shared] = await s.quietly(async () => {
      const mine = await createMemory(s.w.tokens.member, { content: 'member secret', access_scope: 'private' });
      const session = await insertSession(s.w.member);
      await createMemory(s.w.tokens.member, { content: 'session note', access_scope: 'session', session_id: session });
      return [mine, await createMemory(s.w.tokens.member, { content: 'team fact', access_scope: 'global' })];
    });
    const r = receiver();
    await s.run({ send: r.send });
    const msgs = r.messages();
    expect(msgs.map((x) => [x.data.memory_id, x.data.memory?.content ?? null])).toEqual([
      [mine.id, null],
      [shared.id, 'team fact'],
    ]);
    expect(r.got.map((g) => g.body).join('')).not.toMatch(/member secret|session note/);
  });

  it('sends only the events the endpoint asked for', async () => {
    const s = await setup({ events: ['memory.update'] });
    await s.quietly(async () => {
      const m = await createMemory(s.w.tokens.owner, { access_scope: 'global' });
      await call(`/v1/memories/${m.id}`, { method: 'PATCH', token: s.w.tokens.owner, json: { importance: 9 } });
      await call(`/v1/memories/${m.id}`, { method: 'DELETE', token: s.w.tokens.owner });
    });
    const r = receiver();
    await s.run({ send: r.send });
    expect(r.messages().map((x) => x.type)).toEqual(['memory.update']);
  });

  it('stops at a failure, retries the same message with backoff, then goes on in order', async () => {
    const s = await setup();
    await s.quietly(async () => {
      for (let i = 0; i < 4; i++) await createMemory(s.w.tokens.owner, { content: `m${i}`, access_scope: 'global' });
    });
    const t0 = Date.now();
    const failing = receiver((n) => (n === 3 ? 503 : 200));
    const next = await s.run({ send: failing.send, now: () => t0, random: () => 1 });
    expect(next).toBe(t0 + Math.round(RETRY_DELAYS_MS[0]! * 1.1));
    expect(failing.got).toHaveLength(3);
    const st = await s.state();
    expect(st).toMatchObject({ failure_count: 1, next_attempt_at: next, enabled: 1 });
    const failed = (await s.attempts()).at(-1)!;
    expect(failed).toMatchObject({
      status: 'failed',
      response_status: 503,
      error: 'http_status',
      attempt: 1,
      next_retry_at: next,
    });

    // Before the retry is due nothing is sent.
    const early = receiver();
    expect(await s.run({ send: early.send, now: () => next! - 1 })).toBe(next);
    expect(early.got).toEqual([]);

    const later = receiver();
    expect(await s.run({ send: later.send, now: () => next! })).toBeNull();
    // The failed message again (same webhook-id), then the rest.
    expect(later.got[0]!.headers['webhook-id']).toBe(failing.got[2]!.headers['webhook-id']);
    const contents = [...failing.messages().slice(0, 2), ...later.messages()].map((x) => x.data.memory?.content);
    expect(contents).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect((await s.state())!.failure_count).toBe(0);
    expect((await s.attempts()).find((a) => a.status === 'succeeded' && a.seq === failed.seq)!.attempt).toBe(2);
  });

  it(`retries for over 24 h, then disables the endpoint after ${MAX_ATTEMPTS} failures with an audit row`, async () => {
    const s = await setup();
    await s.quietly(() => createMemory(s.w.tokens.owner, { access_scope: 'global' }));
    const t0 = Date.now();
    let now = t0;
    const down = receiver(() => 500);
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const next = await s.run({ send: down.send, now: () => now, random: () => 0 });
      if (i < MAX_ATTEMPTS - 1) now = next!;
      else expect(next).toBeNull();
    }
    expect(now - t0).toBeGreaterThan(24 * 3600_000);
    expect(down.got).toHaveLength(MAX_ATTEMPTS);
    expect(new Set(down.got.map((g) => g.headers['webhook-id'])).size).toBe(1);
    expect(await s.state()).toMatchObject({ enabled: 0, disabled_reason: 'failing', failure_count: MAX_ATTEMPTS });
    const audit = await webhookAudit(s.w.a.tenant.id, s.hook.id);
    expect(audit.at(-1)).toMatchObject({ action: 'webhook.disable', user_id: null });
    expect(JSON.parse(audit.at(-1)!.new_values!)).toEqual({
      enabled: false,
      disabled_reason: 'failing',
      consecutive_failures: MAX_ATTEMPTS,
    });
    // A disabled endpoint gets nothing; re-enabled, it resumes with the message it stopped at.
    const idle = receiver();
    expect(await s.run({ send: idle.send })).toBeNull();
    expect(idle.got).toEqual([]);
    // What PATCH `enabled: true` does (its own test is in routes.test.ts; through the API it would wake the real dispatcher).
    await env.DB.prepare(
      'UPDATE webhook_endpoints SET enabled = 1, disabled_reason = NULL, failure_count = 0, next_attempt_at = NULL WHERE id = ?1',
    )
      .bind(s.hook.id)
      .run();
    const up = receiver();
    await s.run({ send: up.send });
    expect(up.got.map((g) => g.headers['webhook-id'])).toEqual([down.got[0]!.headers['webhook-id']]);
  });

  it('signs with both secrets during the rotation grace period, then with the new one only', async () => {
    const s = await setup();
    const rotated = await s.quietly(async () => {
      const res = await call(`/v1/webhooks/${s.hook.id}/rotate-secret`, { method: 'POST', token: s.w.tokens.owner });
      await createMemory(s.w.tokens.owner, { access_scope: 'global' });
      return (await res.json()) as { secret: string; previous_secret_expires_at: string };
    });
    const during = receiver();
    await s.run({ send: during.send });
    const g = during.got[0]!;
    expect(g.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(() => new Webhook(rotated.secret).verify(g.body, g.headers)).not.toThrow();
    expect(() => new Webhook(s.hook.secret).verify(g.body, g.headers)).not.toThrow();

    await s.quietly(() => createMemory(s.w.tokens.owner, { access_scope: 'global' }));
    const after = receiver();
    await s.run({ send: after.send, now: () => Date.parse(rotated.previous_secret_expires_at) + 1 });
    expect(after.got[0]!.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(Date.parse(rotated.previous_secret_expires_at) - Date.now()).toBeLessThanOrEqual(WEBHOOK_SECRET_GRACE_MS);
  });

  it(`sends at most ${MAX_MESSAGES_PER_RUN} messages a run and asks to run again at once`, async () => {
    const s = await setup();
    const n = MAX_MESSAGES_PER_RUN + 5;
    await s.quietly(async () => {
      for (let i = 0; i < n; i += 100) {
        const memories = Array.from({ length: Math.min(100, n - i) }, (_, j) => ({
          content: `m${i + j}`,
          access_scope: 'global',
        }));
        const res = await call('/v1/memories/batch', { method: 'POST', token: s.w.tokens.owner, json: { memories } });
        expect(res.status, await res.clone().text()).toBe(201);
      }
    });
    const r = receiver();
    const t = Date.now();
    expect(await s.run({ send: r.send, now: () => t })).toBe(t);
    expect(r.got).toHaveLength(MAX_MESSAGES_PER_RUN);
    expect(await s.run({ send: r.send })).toBeNull();
    expect(r.got).toHaveLength(n);
    expect(new Set(r.got.map((g) => g.headers['webhook-id'])).size).toBe(n);
  });

  it('records redirects, timeouts and refused addresses as failures, without following or sending', async () => {
    const s = await setup();
    await s.quietly(() => createMemory(s.w.tokens.owner, { access_scope: 'global' }));
    const redirect: Send = async () => new Response(null, { status: 302, headers: { location: 'http://10.0.0.1/' } });
    await s.run({ send: redirect });
    const timeout: Send = async () => {
      throw new DOMException('timed out', 'TimeoutError');
    };
    await s.run({ send: timeout, now: () => Date.now() + 3600_000 });
    // DNS now points the endpoint's host somewhere private: the run refuses before sending.
    await env.DB.prepare("UPDATE webhook_endpoints SET url = 'https://hooks.example.com/x' WHERE id = ?1")
      .bind(s.hook.id)
      .run();
    const r = receiver();
    await s.run({ send: r.send, now: () => Date.now() + 7200_000, resolve: async () => ['10.0.0.5'] });
    expect(r.got).toEqual([]);
    expect((await s.attempts()).map((a) => [a.status, a.error, a.response_status])).toEqual([
      ['failed', 'redirect', 302],
      ['failed', 'timeout', null],
      ['failed', 'url_refused', null],
    ]);
  });

  it('a deleted tenant sends nothing', async () => {
    const s = await setup();
    await s.quietly(() => createMemory(s.w.tokens.owner, { access_scope: 'global' }));
    const del = await call('/v1/tenant', { method: 'DELETE', token: s.w.tokens.owner });
    expect(del.status, await del.clone().text()).toBe(200);
    const r = receiver();
    expect(await s.run({ send: r.send })).toBeNull();
    expect(r.got).toEqual([]);
    const due = (await dueWebhookTenantsStatement(env.DB, Date.now(), 10_000).all<{ tenant_id: string }>()).results;
    expect(due.map((d) => d.tenant_id)).not.toContain(s.w.a.tenant.id);
  });

  it('the cron finds tenants with deliveries due', async () => {
    const s = await setup();
    const due = async (now: number) =>
      (await dueWebhookTenantsStatement(env.DB, now, 10_000).all<{ tenant_id: string }>()).results.map(
        (r) => r.tenant_id,
      );
    expect(await due(Date.now())).not.toContain(s.w.a.tenant.id);
    await s.quietly(() => createMemory(s.w.tokens.owner, { access_scope: 'global' }));
    expect(await due(Date.now())).toContain(s.w.a.tenant.id);
    const t = Date.now();
    const next = await s.run({ send: receiver(() => 500).send, now: () => t });
    expect(await due(next! - 1)).not.toContain(s.w.a.tenant.id);
    expect(await due(next!)).toContain(s.w.a.tenant.id);
  });
});

describe('WebhookDispatcher (the per-tenant Durable Object)', () => {
  it('its alarm runs the tenant delivery with the real fetch and sets the next alarm to the retry', async () => {
    const s = await setup();
    await s.quietly(() => createMemory(s.w.tokens.owner, { access_scope: 'global' }));
    const ns = env.WEBHOOK_DISPATCHER!;
    const stub = ns.get(ns.idFromName(s.w.a.tenant.id));
    const alarmAt = await runInDurableObject(stub, async (dispatcher: WebhookDispatcher, state) => {
      await state.storage.put('tenant', s.w.a.tenant.id);
      await state.storage.deleteAlarm();
      await dispatcher.alarm();
      return state.storage.getAlarm();
    });
    // Nothing listens at the endpoint's port: one failed attempt, and the alarm is its retry.
    const st = await s.state();
    expect(st).toMatchObject({ failure_count: 1, enabled: 1 });
    expect(alarmAt).toBe(st!.next_attempt_at);
    expect((await s.attempts()).map((a) => [a.status, a.error])).toEqual([['failed', 'connection_failed']]);
  });

  it('the cron wakes the dispatchers of tenants with deliveries due', async () => {
    const s = await setup();
    await s.quietly(() => createMemory(s.w.tokens.owner, { access_scope: 'global' }));
    expect(await kickDueWebhooks(env, Date.now())).toBeGreaterThanOrEqual(1);
    const ns = env.WEBHOOK_DISPATCHER!;
    const tenant = await runInDurableObject(ns.get(ns.idFromName(s.w.a.tenant.id)), (_: WebhookDispatcher, state) =>
      state.storage.get<string>('tenant'),
    );
    expect(tenant).toBe(s.w.a.tenant.id);
  });
});
