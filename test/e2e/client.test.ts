// The public client (@memoria/client, from its source) against the real Worker (wrangler dev,
// local D1 with every migration): provisioning, the memory lifecycle, pagination, search,
// If-Match, retries with idempotency keys and typed errors.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMemoriaClient,
  ImportError,
  type MemoriaClient,
  MemoriaError,
  retryAfterMs,
} from '../../clients/src/index';
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

    const hits = await client.memories.search({ q: 'aubergine', tag: [tag] });
    expect(hits.map((h) => h.id)).toEqual([created[7]!.id]);
    expect(hits[0]!.snippet).toContain('<mark>');
    // search answers the top k directly; searchAll walks every page.
    const top3 = await client.memories.search({ q: 'weather', tag: [tag], limit: 3 });
    expect(top3).toHaveLength(3);
    const all = await client.memories.searchAll({ q: 'weather', tag: [tag], limit: 3 }).toArray();
    expect(all).toHaveLength(22);
    expect(all.slice(0, 3).map((h) => h.id)).toEqual(top3.map((h) => h.id));

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

  it('createBatch answers what create answers: each memory with its ETag, usable as If-Match', async () => {
    const batch = await client.memories.createBatch([
      { content: 'batch one' },
      { content: 'batch two', importance: 8 },
    ]);
    expect(batch).toHaveLength(2);
    const single = await client.memories.create({ content: 'single' });
    expect(Object.keys(batch[0]!).sort()).toEqual(Object.keys(single).sort());
    for (const item of batch) {
      const fetched = await client.memories.get(item.data.id);
      expect(item.etag).toBe(fetched.etag);
    }
    const updated = await client.memories.update(batch[1]!.data.id, { importance: 2 }, { ifMatch: batch[1]!.etag! });
    expect(updated.data.importance).toBe(2);
  });

  it('sessions, users, tenant, subscription, usage and audit logs through their helpers', async () => {
    const session = await client.sessions.create({ mcp_client_id: 'e2e-agent' });
    expect(session).toMatchObject({ mcp_client_id: 'e2e-agent', status: 'active' });
    expect((await client.sessions.get(session.id)).id).toBe(session.id);
    expect((await client.sessions.heartbeat(session.id)).id).toBe(session.id);
    expect((await client.sessions.list({ status: 'active' }).toArray()).map((x) => x.id)).toContain(session.id);
    await client.sessions.end(session.id);
    expect(await client.sessions.get(session.id)).toMatchObject({ status: 'expired' });

    const { data: bob, etag } = await client.users.create({
      auth0_id: `bob-${randomUUID()}@clients`, // people join by invitation; services are added directly
      email: 'bob@e2e.test',
      role: 'member',
    });
    expect((await client.users.get(bob.id)).etag).toBe(etag);
    const promoted = await client.users.update(bob.id, { role: 'admin' }, { ifMatch: etag! });
    expect(promoted.data.role).toBe('admin');
    expect((await client.users.list().toArray()).map((u) => u.email)).toEqual(
      expect.arrayContaining(['owner@e2e.test', 'bob@e2e.test']),
    );
    await client.users.delete(bob.id, { ifMatch: promoted.etag! });
    expect((await client.users.get(bob.id)).data.deleted_at).not.toBeNull();

    expect((await client.tenant.update({ name: 'E2E Renamed' })).name).toBe('E2E Renamed');
    expect((await client.tenant.get()).name).toBe('E2E Renamed');
    expect((await client.subscription.get()).plan).toBe('free');
    expect((await client.subscription.change('pro')).plan).toBe('pro');
    const usage = await client.usage();
    expect(usage.totals.memories_created).toBeGreaterThan(0);

    const entries = await client.auditLogs.list({ resource_type: 'user', resource_id: bob.id }).toArray();
    expect(entries.map((e) => e.action)).toEqual(expect.arrayContaining(['user.create', 'user.delete']));
    expect((await client.auditLogs.get(entries[0]!.id)).id).toBe(entries[0]!.id);
  });

  it('export streams typed lines; import sends them in chunks and resumes after a failed chunk', async () => {
    await client.memories.create({ content: 'a note for everyone', access_scope: 'global' });
    const lines = [];
    for await (const line of client.tenant.export()) lines.push(line);
    const header = lines[0]!;
    expect(header).toMatchObject({ format: 'memoria.export', version: 1 });
    const memoryLines = lines.filter((l) => 'type' in l && l.type === 'memory');
    expect(memoryLines.length).toBe('counts' in header ? header.counts.memories : -1);

    // Another tenant imports it, 10 lines per chunk; the third chunk's first attempt "drops".
    const sub = `auth0|e2e-import-${randomUUID()}`;
    let imports = 0;
    const importer = createMemoriaClient({
      baseUrl: worker.baseUrl,
      token: await worker.token(sub),
      fetch: async (request) => {
        if (request.url.includes('/v1/import') && ++imports === 3) throw new TypeError('fetch failed: socket hang up');
        return fetch(request);
      },
    });
    await importer.tenant.create({ name: 'Importer', email: 'importer@e2e.test' });
    const progress: number[] = [];
    const result = await importer.tenant.import(lines, {
      maxChunkLines: 10,
      onChunk: (_r, done) => progress.push(done),
    });
    const expectedChunks = Math.ceil(lines.length / 10);
    expect(result.chunks).toHaveLength(expectedChunks);
    expect(imports).toBe(expectedChunks + 1); // the dropped chunk was sent again
    expect(progress.at(-1)).toBe(lines.length);
    const created = result.chunks.reduce((n, c) => n + c.created.memories, 0);
    expect(created).toBe(memoryLines.length);
    // The source's people arrive as users who have not joined (their private memories stay theirs,
    // until they accept): the importer sees the global ones.
    const global = memoryLines.filter(
      (l) => 'data' in l && 'access_scope' in l.data && l.data.access_scope === 'global',
    );
    expect(global.length).toBeGreaterThan(0);
    expect(result.chunks.flatMap((c) => Object.keys(c.users_invited)).length).toBeGreaterThan(0);
    expect(await importer.memories.list({ deleted: 'include' }).toArray()).toHaveLength(global.length);

    // A chunk the API refuses stops the import: the error says how far it got, skipLines resumes.
    const fresh = createMemoriaClient({
      baseUrl: worker.baseUrl,
      token: await worker.token(`auth0|e2e-${randomUUID()}`),
    });
    await fresh.tenant.create({ name: 'Resumer', email: 'resumer@e2e.test' });
    const broken = [
      ...lines.slice(0, 12).map((l) => JSON.stringify(l)),
      '{"type":"memory","data":{}}',
      ...lines.slice(12),
    ];
    const err = await fresh.tenant.import(broken, { maxChunkLines: 10 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportError);
    expect(err).toMatchObject({ status: 422, code: 'import_invalid', linesImported: 10 });
    const rest = broken.filter((_, i) => i !== 12);
    const resumed = await fresh.tenant.import(rest, { maxChunkLines: 10, skipLines: 10 });
    expect(resumed.lines).toBe(rest.length - 10);
    expect(await fresh.memories.list({ deleted: 'include' }).toArray()).toHaveLength(global.length);
  });

  it('version history and bulk delete through their helpers', async () => {
    const tag = `hist-${randomUUID().slice(0, 8)}`;
    const { data: memory, etag } = await client.memories.create({ content: 'first words', tags: [tag] });
    const edited = await client.memories.update(memory.id, { content: 'second words' }, { ifMatch: etag! });
    const versions = await client.memories.versions(memory.id).toArray();
    expect(versions.map((v) => v.content)).toContain('first words');
    const first = versions.find((v) => v.content === 'first words')!;
    const restored = await client.memories.restoreVersion(memory.id, first.version, { ifMatch: edited.etag! });
    expect(restored.data.content).toBe('first words');
    expect(restored.etag).not.toBe(edited.etag);

    await client.memories.create({ content: 'another', tags: [tag] });
    const dry = await client.memories.bulkDelete({ filter: { tag: [tag] }, mode: 'soft', dry_run: true });
    expect(dry).toMatchObject({ matched: 2, deleted: 0 });
    const done = await client.memories.bulkDelete({ filter: { tag: [tag] }, mode: 'soft' });
    expect(done).toMatchObject({ matched: 2, deleted: 2 });
    expect(await client.memories.list({ tag: [tag] }).toArray()).toHaveLength(0);
  });
  it("echoes the Worker's Memoria-Bookmark: every request after the first sends the newest one", async () => {
    const sent: (string | null)[] = [];
    const received: (string | null)[] = [];
    const tracked = createMemoriaClient({
      baseUrl: worker.baseUrl,
      token,
      fetch: async (request) => {
        sent.push(request.headers.get('memoria-bookmark'));
        const response = await fetch(request);
        received.push(response.headers.get('memoria-bookmark'));
        return response;
      },
    });
    const { data } = await tracked.memories.create({ content: 'read your writes' });
    expect(received[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/);
    expect(tracked.bookmark).toBe(received[0]);
    const read = await tracked.memories.get(data.id);
    expect(read.data.id).toBe(data.id);
    expect(sent).toEqual([null, received[0]]);
    // A second client handed the bookmark reads the write too, and sends it from its first request.
    const other = createMemoriaClient({ baseUrl: worker.baseUrl, token, bookmark: tracked.bookmark });
    expect((await other.memories.get(data.id)).data.content).toBe('read your writes');
    expect(other.bookmark).not.toBeNull();
  });
});
