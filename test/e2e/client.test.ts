// The public client (@memoria/client, from its source) against the real Worker (wrangler dev,
// local D1 with every migration): provisioning, the memory lifecycle, pagination, search,
// If-Match, retries with idempotency keys and typed errors.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoriaClient, type MemoriaClient, MemoriaError, retryAfterMs } from '../../clients/src/index';
import { startWorker, type Worker } from './harness';

let worker: Worker;
let client: MemoriaClient;
let token: string;

beforeAll(async () => {
  worker = await startWorker();
  // A fresh subject provisions its own tenant through the API, as a new integration would.
  const sub = `auth0|e2e-${randomUUID()}`;
  token = await worker.token(sub);
  client = createMemoriaClient({ baseUrl: worker.baseUrl, token });
  const { data, response } = await client.api.POST('/v1/tenants', {
    body: { name: 'E2E Inc', email: 'owner@e2e.test' },
  });
  expect(response.status).toBe(201);
  expect(data?.user.role).toBe('owner');
}, 180_000);
afterAll(async () => {
  await worker?.stop();
});

describe('client against the real Worker', { timeout: 60_000 }, () => {
  it('reads the caller', async () => {
    const me = await client.me();
    expect(me.tenant.name).toBe('E2E Inc');
    expect(me.scopes).toContain('write:memories');
  });

  it('create → list every page → search → patch with If-Match → delete → restore', async () => {
    const tag = `run-${randomUUID().slice(0, 8)}`;
    const created = [];
    for (let i = 0; i < 23; i++) {
      const { data, etag } = await client.memories.create({
        content: `note ${i} about ${i === 7 ? 'aubergine recipes' : 'the weather'}`,
        tags: [tag],
        importance: 1 + (i % 10),
      });
      expect(etag).toBeTruthy();
      created.push(data);
    }

    // Every page, each memory exactly once (limit 5 → 5 pages).
    const seen = await client.memories.list({ tag: [tag], limit: 5 }).toArray();
    expect(seen.map((m) => m.id).sort()).toEqual(created.map((m) => m.id).sort());
    let pages = 0;
    for await (const page of client.memories.list({ tag: [tag], limit: 5 }).pages()) {
      pages++;
      expect(page.data.length).toBeLessThanOrEqual(5);
    }
    expect(pages).toBe(5);
    // Filters travel with every page.
    const important = [];
    for await (const m of client.memories.list({ tag: [tag], min_importance: 9, limit: 2 })) important.push(m);
    expect(important.map((m) => m.importance).sort((a, b) => a - b)).toEqual([9, 9, 10, 10]);

    const hits = await client.memories.search({ q: 'aubergine', tag: [tag] }).toArray();
    expect(hits.map((h) => h.id)).toEqual([created[7]!.id]);
    expect(hits[0]!.snippet).toContain('<mark>');

    const target = created[7]!;
    const { etag } = await client.memories.get(target.id);
    const updated = await client.memories.update(
      target.id,
      { importance: 10, tags: [tag, 'cooking'] },
      { ifMatch: etag! },
    );
    expect(updated.data).toMatchObject({ importance: 10, tags: [tag, 'cooking'], version: target.version + 1 });
    expect(updated.etag).not.toBe(etag);
    // A stale ETag is refused: nothing changes.
    await expect(client.memories.update(target.id, { importance: 1 }, { ifMatch: etag! })).rejects.toMatchObject({
      status: 412,
      code: 'precondition_failed',
    });

    await client.memories.delete(target.id, { ifMatch: updated.etag! });
    expect((await client.memories.list({ tag: [tag] }).toArray()).map((m) => m.id)).not.toContain(target.id);
    expect((await client.memories.list({ tag: [tag], deleted: 'only' }).toArray()).map((m) => m.id)).toEqual([
      target.id,
    ]);

    const restored = await client.memories.restore(target.id);
    expect(restored.data).toMatchObject({ id: target.id, deleted_at: null, importance: 10 });
    expect(await client.memories.list({ tag: [tag] }).toArray()).toHaveLength(23);
  });

  it('a lost response is retried with the same Idempotency-Key: the memory is created once', async () => {
    const tag = `idem-${randomUUID().slice(0, 8)}`;
    const keys: string[] = [];
    let dropped = false;
    const flaky = createMemoriaClient({
      baseUrl: worker.baseUrl,
      token,
      retryBaseMs: 10,
      // The server commits the first POST, then the connection "drops" before the client sees it.
      fetch: async (request) => {
        if (request.method === 'POST') keys.push(request.headers.get('idempotency-key') ?? '');
        const response = await fetch(request);
        if (request.method === 'POST' && !dropped) {
          dropped = true;
          throw new TypeError('fetch failed: connection reset');
        }
        return response;
      },
    });
    const { data } = await flaky.memories.create({ content: 'only once', tags: [tag] });
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    const stored = await client.memories.list({ tag: [tag] }).toArray();
    expect(stored.map((m) => m.id)).toEqual([data.id]);
  });

  it('types API errors: 404 not_found with the request id, 422 with field errors, 401 invalid_token', async () => {
    const missing = await client.memories.get('mem_01J9Z3Q4W5E6R7T8Y9V0A1B2C3').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(MemoriaError);
    expect(missing).toMatchObject({ status: 404, code: 'not_found' });
    const e = missing as MemoriaError;
    expect(e.requestId).toMatch(/^req_/);
    expect(e.response?.headers.get('x-request-id')).toBe(e.requestId);

    const invalid = await client.memories.create({ content: '' }).catch((err: unknown) => err);
    expect(invalid).toMatchObject({ status: 422, code: 'validation_failed' });
    expect((invalid as MemoriaError).errors.map((x) => x.path)).toContain('json.content');

    const anonymous = createMemoriaClient({ baseUrl: worker.baseUrl, token: 'not-a-jwt' });
    await expect(anonymous.me()).rejects.toMatchObject({ status: 401, code: 'invalid_token' });
  });

  it("surfaces the plan's rate limit as a typed 429 with Retry-After", async () => {
    const sub = `auth0|e2e-${randomUUID()}`;
    const limited = createMemoriaClient({
      baseUrl: worker.baseUrl,
      token: await worker.token(sub),
      maxRetryDelayMs: 1000,
    });
    await limited.api.POST('/v1/tenants', { body: { name: 'Busy Inc', email: 'busy@e2e.test' } });
    const { response } = await limited.api.GET('/v1/me');
    expect(response.headers.get('ratelimit')).toMatch(/r=\d+/); // declared in the spec, sent by the Worker
    let err: unknown;
    for (let i = 0; i < 200 && !err; i++)
      err = await limited.me().then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(MemoriaError);
    const e = err as MemoriaError;
    expect(e).toMatchObject({ status: 429, code: 'rate_limited' });
    // The client waited for short Retry-Afters itself; what reaches the caller names the delay.
    expect(retryAfterMs(e.response!)).toBeGreaterThan(0);
  });
});
