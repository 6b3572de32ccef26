// Webhooks over real HTTP: wrangler dev (with its Durable Object alarms and local D1) delivers to a
// real HTTP receiver started here, and every message is verified with the `standardwebhooks`
// library, as a subscriber would. Covers a 500-change burst, a receiver outage halfway through a
// burst with the recovery after the first backoff step, and the secret rotation grace period.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoriaClient } from '../../clients/src/index';
import { startWorker, type Worker } from './harness';

interface Received {
  id: string;
  headers: Record<string, string>;
  body: string;
  answered: number;
}
interface Message {
  type: string;
  data: { seq: number; memory_id: string; memory: { content: string } | null; webhook_id?: string };
}

/** The receiver: answers `status()` and resolves waiters when a condition on what it got holds. */
class Receiver {
  got: Received[] = [];
  status: () => number = () => 204;
  private waiters: { until: (got: Received[]) => boolean; resolve: () => void }[] = [];
  server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const answered = this.status();
      this.got.push({ id: String(req.headers['webhook-id']), headers: flat(req.headers), body, answered });
      res.writeHead(answered).end();
      this.waiters = this.waiters.filter((w) => {
        if (!w.until(this.got)) return true;
        w.resolve();
        return false;
      });
    });
  });
  url = '';
  async start() {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }
  /** Resolves once `until(got)` holds (checked on every request), or fails after `ms`. */
  when(until: (got: Received[]) => boolean, what: string, ms = 60_000): Promise<void> {
    if (until(this.got)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`receiver: ${what} not seen in ${ms} ms (got ${this.got.length})`)),
        ms,
      );
      this.waiters.push({
        until,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
}

const flat = (h: IncomingHttpHeaders) =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]));
const parse = (r: Received) => JSON.parse(r.body) as Message;

let worker: Worker;
let token: string;
const receiver = new Receiver();
const api = (path: string, init: { method?: string; json?: unknown } = {}) =>
  fetch(`${worker.baseUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
async function ok<T>(res: Response, status = 200): Promise<T> {
  expect(res.status, await res.clone().text()).toBe(status);
  return (await res.json()) as T;
}
/** Creates `n` global memories in batches of 100; returns their ids in creation order. */
async function burst(n: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 100) {
    const memories = Array.from({ length: Math.min(100, n - i) }, (_, j) => ({
      content: `${label} ${i + j}`,
      access_scope: 'global',
    }));
    const page = await ok<{ data: { id: string }[] }>(
      await api('/v1/memories/batch', { method: 'POST', json: { memories } }),
      201,
    );
    ids.push(...page.data.map((m) => m.id));
  }
  return ids;
}

let hook: { id: string; secret: string };

beforeAll(async () => {
  await receiver.start();
  worker = await startWorker();
  token = await worker.token(`auth0|webhooks-${randomUUID()}`);
  await ok(await api('/v1/tenants', { method: 'POST', json: { name: 'Sync', email: 'ops@example.com' } }), 201);
  hook = await ok(await api('/v1/webhooks', { method: 'POST', json: { url: receiver.url, description: 'e2e' } }), 201);
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  receiver.server.close();
});

describe('webhooks, end to end', () => {
  it('refuses a private address that is not in WEBHOOK_ALLOWED_HOSTS', async () => {
    const res = await api('/v1/webhooks', { method: 'POST', json: { url: 'http://127.0.0.2:9/hook' } });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(((await res.json()) as { code: string }).code).toBe('webhook_url_refused');
  });

  it('sends a signed test event', async () => {
    const attempt = await ok<{ status: string; response_status: number; message_id: string }>(
      await api(`/v1/webhooks/${hook.id}/test`, { method: 'POST' }),
    );
    expect(attempt).toMatchObject({ status: 'succeeded', response_status: 204 });
    const got = receiver.got.find((r) => r.id === attempt.message_id)!;
    expect(new Webhook(hook.secret).verify(got.body, got.headers)).toMatchObject({
      type: 'webhook.test',
      data: { webhook_id: hook.id },
    });
    receiver.got = [];
  });

  it('delivers a burst of 500 changes complete, in order, each verified', async () => {
    const ids = await burst(500, 'burst');
    await receiver.when((got) => got.length >= 500, '500 messages');
    const wh = new Webhook(hook.secret);
    const msgs = receiver.got.map((r) => wh.verify(r.body, r.headers) as Message);
    expect(receiver.got).toHaveLength(500);
    expect(msgs.map((m) => m.data.memory_id)).toEqual(ids);
    expect(msgs.every((m) => m.type === 'memory.create')).toBe(true);
    const seqs = msgs.map((m) => m.data.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
    expect(new Set(receiver.got.map((r) => r.id)).size).toBe(500);
    expect(msgs[499]!.data.memory!.content).toBe('burst 499');
  }, 90_000);

  it('after a receiver outage halfway, the retry delivers the rest once, in order', async () => {
    receiver.got = [];
    // The receiver fails from its 41st request on, until the test sees that failure.
    receiver.status = () => (receiver.got.length >= 40 ? 503 : 204);
    const ids = await burst(100, 'outage');
    await receiver.when((got) => got.some((r) => r.answered === 503), 'a failed delivery');
    receiver.status = () => 204;
    const page = await ok<{
      data: { status: string; error: string; next_retry_at: string | null; message_id: string }[];
    }>(await api(`/v1/webhooks/${hook.id}/deliveries?limit=5`));
    const failed = page.data.find((d) => d.status === 'failed')!;
    expect(failed).toMatchObject({ error: 'http_status' });
    expect(Date.parse(failed.next_retry_at!)).toBeGreaterThan(Date.now() - 5_000);
    // The first backoff step is 5 s (plus jitter): the rest arrives after it.
    await receiver.when(
      (got) => new Set(got.filter((r) => r.answered === 204).map((r) => r.id)).size >= 100,
      'the other messages',
    );
    const wh = new Webhook(hook.secret);
    const accepted = receiver.got.filter((r) => r.answered === 204);
    // Exactly once per webhook-id among accepted messages, complete and in order.
    expect(accepted.map((r) => (wh.verify(r.body, r.headers) as Message).data.memory_id)).toEqual(ids);
    expect(new Set(accepted.map((r) => r.id)).size).toBe(100);
    // The failed attempt was a repeat of the same message (same webhook-id), nothing else.
    const failures = receiver.got.filter((r) => r.answered === 503);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.id).toBe(failed.message_id);
    expect(accepted[40]!.id).toBe(failures[0]!.id);
    expect(receiver.got).toHaveLength(101);
    const state = await ok<{ enabled: boolean; consecutive_failures: number }>(await api(`/v1/webhooks/${hook.id}`));
    expect(state).toMatchObject({ enabled: true, consecutive_failures: 0 });
  }, 90_000);

  it('during the rotation grace period messages verify with the old and the new secret', async () => {
    receiver.got = [];
    const rotated = await ok<{ secret: string }>(
      await api(`/v1/webhooks/${hook.id}/rotate-secret`, { method: 'POST' }),
    );
    const [id] = await burst(1, 'rotated');
    await receiver.when((got) => got.length >= 1, 'the message after rotation');
    const got = receiver.got[0]!;
    expect(got.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect((new Webhook(rotated.secret).verify(got.body, got.headers) as Message).data.memory_id).toBe(id);
    expect((new Webhook(hook.secret).verify(got.body, got.headers) as Message).data.memory_id).toBe(id);
    expect(parse(got).type).toBe('memory.create');
  }, 60_000);

  it('the client package lists endpoints and pages through every delivery attempt', async () => {
    const client = createMemoriaClient({ baseUrl: worker.baseUrl, token });
    expect((await client.webhooks.list().toArray()).map((w) => w.id)).toEqual([hook.id]);
    const attempts = await client.webhooks.deliveries(hook.id, { limit: 100 }).toArray();
    // The test event, 500 + 101 burst messages (one failed), the one after rotation: newest first.
    expect(attempts).toHaveLength(1 + 500 + 101 + 1);
    expect(attempts.filter((a) => a.status === 'failed')).toHaveLength(1);
    expect(attempts.at(-1)!.event_type).toBe('webhook.test');
    expect(new Set(attempts.map((a) => a.id)).size).toBe(attempts.length);
  });
});
