// The README's worked example ("Integrating: end users, agents and data-subject requests") over
// real HTTP against wrangler dev: label, recall by subject, correct and read the history, then
// forget the end user with the bulk-delete loop.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type Worker } from './harness';

let worker: Worker;
let token: string;
const api = (path: string, init: { method?: string; json?: unknown; headers?: Record<string, string> } = {}) =>
  fetch(`${worker.baseUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.json === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });

beforeAll(async () => {
  worker = await startWorker();
  token = await worker.token(`auth0|integrations-${randomUUID()}`);
  const res = await api('/v1/tenants', { method: 'POST', json: { name: 'Support', email: 'ops@example.com' } });
  expect(res.status, await res.clone().text()).toBe(201);
}, 120_000);
afterAll(async () => worker?.stop());

describe('integrations, end to end (README worked example)', () => {
  it('labels, recalls by subject, keeps history and forgets an end user on request', async () => {
    const created = await api('/v1/memories', {
      method: 'POST',
      json: {
        content: 'Prefers email over phone',
        subject_id: 'alice',
        agent_id: 'support-bot',
        ttl_seconds: 7_776_000,
      },
    });
    expect(created.status).toBe(201);
    const { id, expires_at } = (await created.json()) as { id: string; expires_at: string };
    expect(Date.parse(expires_at)).toBeGreaterThan(Date.now() + 7_000_000_000);
    await api('/v1/memories', { method: 'POST', json: { content: 'Prefers email, always', subject_id: 'bob' } });
    // mem0's field name is refused, not dropped
    const mem0 = await api('/v1/memories', { method: 'POST', json: { content: 'x', user_id: 'alice' } });
    expect(mem0.status).toBe(422);
    expect(((await mem0.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['json.user_id']);

    const hits = (await (await api('/v1/memories/search?q=email&subject_id=alice')).json()) as {
      data: { id: string }[];
    };
    expect(hits.data.map((h) => h.id)).toEqual([id]);

    const patched = await api(`/v1/memories/${id}`, {
      method: 'PATCH',
      json: { content: 'Prefers phone after 6 pm' },
      headers: { 'if-match': `"${id}-v1"` },
    });
    expect(patched.status).toBe(200);
    const versions = (await (await api(`/v1/memories/${id}/versions`)).json()) as {
      data: { version: number; content: string }[];
    };
    expect(versions.data).toMatchObject([{ version: 1, content: 'Prefers email over phone' }]);

    const dry = await api('/v1/memories/bulk-delete', {
      method: 'POST',
      json: { filter: { subject_id: ['alice'] }, mode: 'purge', dry_run: true },
    });
    expect(await dry.json()).toEqual({ matched: 1, deleted: 0, remaining: true });
    const outcomes: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await api('/v1/memories/bulk-delete', {
        method: 'POST',
        json: { filter: { subject_id: ['alice'] }, mode: 'purge' },
      });
      const body = (await res.json()) as { remaining: boolean };
      outcomes.push(body);
      if (!body.remaining) break;
    }
    expect(outcomes).toEqual([{ matched: 1, deleted: 1, remaining: false }]);
    expect((await api(`/v1/memories/${id}`)).status).toBe(404);
    const left = (await (await api('/v1/memories')).json()) as { data: { subject_id: string }[] };
    expect(left.data.map((m) => m.subject_id)).toEqual(['bob']);
    const audit = (await (await api(`/v1/audit-logs?resource_id=${id}`)).json()) as { data: { action: string }[] };
    expect(audit.data.map((a) => a.action)).toEqual(['memory.purge', 'memory.update', 'memory.create']);
  });
});
