// The client's retry, timeout and error typing against a local stub HTTP server that answers
// what each test scripts (503/429 with and without Retry-After, dropped connections, silence).

import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backoffMs, createMemoriaClient, IDEMPOTENT_POSTS, MemoriaError, retryAfterMs } from '../../clients/src/index';
import { resilientFetch } from '../../clients/src/transport';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server;
let baseUrl: string;
let script: Handler[] = [];
let seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];

const me = {
  user: {
    id: 'usr_01J9Z3Q4W5E6R7T8Y9V0A1B2C3',
    email: 'a@b.c',
    name: null,
    role: 'owner',
    kind: 'person',
    created_at: '2026-01-01T00:00:00.000Z',
  },
  tenant: { id: 'ten_01J9Z3Q4W5E6R7T8Y9V0A1B2C3', name: 'T', plan: 'free', memory_count: 0 },
  scopes: [],
};
const ok: Handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(me));
const problem =
  (status: number, code: string, headers: Record<string, string> = {}): Handler =>
  (_req, res) =>
    res
      .writeHead(status, { 'content-type': 'application/problem+json', 'x-request-id': `req_${code}`, ...headers })
      .end(
        JSON.stringify({
          type: `https://memoria.dev/problems/${code}`,
          title: 'x',
          status,
          detail: `${code} detail`,
          code,
          request_id: `req_${code}`,
        }),
      );
const created: Handler = (_req, res) =>
  res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'x', version: 1 }));
const drop: Handler = (req) => req.socket.destroy();
const silent: Handler = () => {};

beforeAll(async () => {
  server = createServer((req, res) => {
    const entry = { method: req.method!, url: req.url!, headers: req.headers, body: '' };
    seen.push(entry);
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (entry.body += chunk));
    req.on('end', () => (script.shift() ?? problem(500, 'unscripted'))(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
);
beforeEach(() => {
  script = [];
  seen = [];
});

const client = (opts: Partial<Parameters<typeof createMemoriaClient>[0]> = {}) =>
  createMemoriaClient({ baseUrl, token: 'tok', retryBaseMs: 5, ...opts });

describe('retries', { timeout: 30_000 }, () => {
  it('retries a 503 after the Retry-After delay, then succeeds', async () => {
    script = [problem(503, 'unavailable', { 'retry-after': '1' }), ok];
    const started = Date.now();
    await expect(client().me()).resolves.toMatchObject({ tenant: { name: 'T' } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(seen).toHaveLength(2);
    expect(seen.map((r) => r.headers.authorization)).toEqual(['Bearer tok', 'Bearer tok']);
  });

  it('retries 429s with exponential backoff when no Retry-After is given', async () => {
    script = [problem(429, 'rate_limited'), problem(429, 'rate_limited'), problem(429, 'rate_limited'), ok];
    await expect(client({ retries: 3 }).me()).resolves.toBeTruthy();
    expect(seen).toHaveLength(4);
  });

  it('gives up after `retries` and throws the last problem, typed', async () => {
    script = [problem(429, 'rate_limited'), problem(429, 'rate_limited'), problem(429, 'rate_limited')];
    const err = await client({ retries: 2 })
      .me()
      .catch((e) => e);
    expect(err).toBeInstanceOf(MemoriaError);
    expect(err).toMatchObject({
      status: 429,
      code: 'rate_limited',
      requestId: 'req_rate_limited',
      detail: 'rate_limited detail',
    });
    expect(seen).toHaveLength(3);
  });

  it('does not wait for a Retry-After beyond maxRetryDelayMs: the caller gets the 429 at once', async () => {
    script = [problem(429, 'rate_limited', { 'retry-after': '3600' })];
    const started = Date.now();
    await expect(client().me()).rejects.toMatchObject({ status: 429, code: 'rate_limited' });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(seen).toHaveLength(1);
  });

  it('exposes Retry-After in seconds as retryAfter (delta-seconds or an HTTP date)', async () => {
    script = [problem(503, 'unavailable', { 'retry-after': '120' })];
    await expect(client().me()).rejects.toMatchObject({ status: 503, retryAfter: 120 });
    const inAMinute = new Date(Date.now() + 60_000).toUTCString();
    script = [problem(429, 'rate_limited', { 'retry-after': inAMinute })];
    const err = await client()
      .me()
      .catch((e) => e);
    expect(err.retryAfter).toBeGreaterThanOrEqual(58);
    expect(err.retryAfter).toBeLessThanOrEqual(60);
    script = [problem(404, 'not_found')];
    await expect(client().me()).rejects.toMatchObject({ status: 404, retryAfter: null });
  });

  it('retries a dropped connection (network error)', async () => {
    script = [drop, ok];
    await expect(client().me()).resolves.toBeTruthy();
    expect(seen).toHaveLength(2);
  });

  it('a call that never gets an answer is a MemoriaError network_error, after the retries when they are safe', async () => {
    script = [drop, drop, drop];
    const err = await client({ retries: 2 })
      .me()
      .catch((e) => e);
    expect(err).toBeInstanceOf(MemoriaError);
    expect(err).toMatchObject({ status: 0, code: 'network_error', requestId: null });
    expect(seen).toHaveLength(3);

    seen = [];
    script = [drop];
    await expect(client().tenant.create({ name: 'T' })).rejects.toMatchObject({ code: 'network_error' });
    expect(seen).toHaveLength(1);

    const refused = createMemoriaClient({ baseUrl: 'http://127.0.0.1:1', token: 't', retries: 0 });
    await expect(refused.me()).rejects.toMatchObject({ name: 'MemoriaError', code: 'network_error', status: 0 });
  });

  it('repeats only what the spec says is safe: a POST with a declared Idempotency-Key, never PATCH or other POSTs', async () => {
    const send = resilientFetch((r) => fetch(r), { retryBaseMs: 5 });
    const json = { 'content-type': 'application/json' };
    script = [problem(503, 'unavailable')];
    const patch = await send(
      new Request(`${baseUrl}/v1/memories/mem_1`, {
        method: 'PATCH',
        body: '{"a":1}',
        headers: { ...json, 'if-match': '"x"' },
      }),
    );
    expect(patch.status).toBe(503);
    // A key on a POST whose operation declares none (POST /v1/tenants) does not make it repeatable.
    script = [problem(503, 'unavailable')];
    const tenants = await send(
      new Request(`${baseUrl}/v1/tenants`, { method: 'POST', body: '{}', headers: { 'idempotency-key': 'k-0' } }),
    );
    expect(tenants.status).toBe(503);
    expect(seen).toHaveLength(2);

    seen = [];
    script = [problem(503, 'unavailable'), drop, ok];
    const keyed = await send(
      new Request(`${baseUrl}/prefix/v1/memories/mem_1/tags`, {
        method: 'POST',
        body: '{"tags":["a"]}',
        headers: { 'idempotency-key': 'k-1' },
      }),
    );
    expect(keyed.status).toBe(200);
    expect(seen.map((r) => r.headers['idempotency-key'])).toEqual(['k-1', 'k-1', 'k-1']);
  });

  it('sends an Idempotency-Key only where the operation declares one, driven by the spec', async () => {
    const spec = JSON.parse(readFileSync(new URL('../../api/openapi.json', import.meta.url), 'utf8'));
    const resolve = (p: any) => (p.$ref ? spec.components.parameters[p.$ref.split('/').pop()] : p);
    const declared = Object.entries(spec.paths as Record<string, Record<string, any>>)
      .filter(([, ops]) =>
        ops.post?.parameters?.map(resolve).some((p: any) => p.in === 'header' && p.name === 'Idempotency-Key'),
      )
      .map(([path]) => path);
    expect(IDEMPOTENT_POSTS).toEqual(declared);
    expect(declared).toContain('/v1/memories');
    expect(declared).not.toContain('/v1/tenants');
    expect(declared).not.toContain('/v1/import');

    script = [problem(503, 'unavailable'), problem(503, 'unavailable')];
    await expect(client().tenant.create({ name: 'T' })).rejects.toMatchObject({ status: 503 });
    await expect(client().sessions.heartbeat('ses_1')).rejects.toMatchObject({ status: 503 });
    expect(seen.map((r) => [r.method, r.url, r.headers['idempotency-key']])).toEqual([
      ['POST', '/v1/tenants', undefined],
      ['POST', '/v1/sessions/ses_1/heartbeat', undefined],
    ]);

    seen = [];
    script = [problem(503, 'unavailable'), created];
    await client().sessions.create({ mcp_client_id: 'agent' });
    expect(seen).toHaveLength(2);
    expect(seen[0]!.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[1]!.headers['idempotency-key']).toBe(seen[0]!.headers['idempotency-key']);
  });

  it('honours Retry-After as seconds or an HTTP date, and keeps backoff jittered under the cap', () => {
    const at = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(new Response(null, { headers: { 'retry-after': '7' } }), at)).toBe(7000);
    expect(retryAfterMs(new Response(null, { headers: { 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' } }), at)).toBe(
      5000,
    );
    expect(retryAfterMs(new Response(null), at)).toBeNull();
    expect(backoffMs(3, 100, 10_000, () => 0.999)).toBe(799);
    expect(backoffMs(10, 100, 2000, () => 0.5)).toBe(1000);
    expect(backoffMs(2, 100, 2000, () => 0)).toBe(0);
  });
});

describe('timeouts and cancellation', { timeout: 30_000 }, () => {
  it('times out a call that gets no answer (MemoriaError code timeout)', async () => {
    script = [silent, silent, silent, silent];
    const started = Date.now();
    const err = await client({ timeoutMs: 400 })
      .me()
      .catch((e) => e);
    expect(err).toBeInstanceOf(MemoriaError);
    expect(err).toMatchObject({ code: 'timeout', status: 0 });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('stops when the caller aborts, without retrying', async () => {
    script = [silent, silent];
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    await expect(client().me({ signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toHaveLength(1);
  });
});

describe('typed errors', () => {
  it('maps a problem+json response to MemoriaError with its fields', async () => {
    script = [
      (_req, res) =>
        res.writeHead(422, { 'content-type': 'application/problem+json' }).end(
          JSON.stringify({
            type: 't',
            title: 'Unprocessable Content',
            status: 422,
            detail: 'bad',
            code: 'validation_failed',
            request_id: 'req_1',
            errors: [{ path: 'json.content', message: 'too short' }],
          }),
        ),
    ];
    const err = await client()
      .me()
      .catch((e) => e);
    expect(err).toMatchObject({
      status: 422,
      code: 'validation_failed',
      requestId: 'req_1',
      detail: 'bad',
      errors: [{ path: 'json.content', message: 'too short' }],
    });
    expect(err.message).toBe('422 validation_failed: bad');
  });

  it('still types an error that is not a problem (e.g. a proxy page)', async () => {
    script = [
      (_req, res) =>
        res.writeHead(502, { 'content-type': 'text/html', 'x-request-id': 'req_proxy' }).end('<h1>Bad gateway</h1>'),
    ];
    await expect(client().me()).rejects.toMatchObject({ status: 502, code: 'http_502', requestId: 'req_proxy' });
  });

  it('asks getToken again once after a 401, and repeats the call with the new token', async () => {
    const asked: boolean[] = [];
    let n = 0;
    const c = client({
      token: undefined,
      getToken: ({ forceRefresh }) => {
        asked.push(forceRefresh);
        return `t${++n}`;
      },
    });
    script = [problem(401, 'invalid_token'), ok];
    await expect(c.me()).resolves.toMatchObject({ tenant: { name: 'T' } });
    expect(asked).toEqual([false, true]);
    expect(seen.map((r) => r.headers.authorization)).toEqual(['Bearer t1', 'Bearer t2']);

    // Only once: a second 401 reaches the caller.
    seen = [];
    script = [problem(401, 'invalid_token'), problem(401, 'invalid_token'), ok];
    await expect(c.me()).rejects.toMatchObject({ status: 401, code: 'invalid_token' });
    expect(seen).toHaveLength(2);
    script = [];

    // A POST is repeated too (a 401 did nothing), with its body and the same key.
    seen = [];
    script = [problem(401, 'invalid_token'), created];
    await c.memories.create({ content: 'hello' });
    expect(seen.map((r) => [r.method, r.body, r.headers.authorization])).toEqual([
      ['POST', '{"content":"hello"}', 'Bearer t5'],
      ['POST', '{"content":"hello"}', 'Bearer t6'],
    ]);
    expect(seen[1]!.headers['idempotency-key']).toBe(seen[0]!.headers['idempotency-key']);

    // With a fixed token there is nothing to refresh: the 401 is the answer.
    seen = [];
    script = [problem(401, 'invalid_token')];
    await expect(client().me()).rejects.toMatchObject({ status: 401 });
    expect(seen).toHaveLength(1);
  });

  it('asks getToken for a token on every call', async () => {
    let n = 0;
    script = [ok, ok];
    const c = client({ token: undefined, getToken: async () => `t${++n}` });
    await c.me();
    await c.me();
    expect(seen.map((r) => r.headers.authorization)).toEqual(['Bearer t1', 'Bearer t2']);
  });
});

describe('read-your-writes bookmark', () => {
  const withBookmark =
    (bookmark: string, handler: Handler = ok): Handler =>
    (req, res) => {
      res.setHeader('Memoria-Bookmark', bookmark);
      handler(req, res);
    };

  it('sends back the newest Memoria-Bookmark on every request of the same client, retries included', async () => {
    const c = client();
    script = [withBookmark('b-1'), ok, withBookmark('b-2', problem(503, 'unavailable')), ok];
    await c.me();
    expect(c.bookmark).toBe('b-1');
    await c.me();
    await c.me(); // 503 carrying b-2, then its retry
    expect(seen.map((r) => r.headers['memoria-bookmark'])).toEqual([undefined, 'b-1', 'b-1', 'b-2']);
    expect(c.bookmark).toBe('b-2');

    // Another instance starts without one, or from the one it is given.
    seen = [];
    script = [ok, ok];
    await client().me();
    await client({ bookmark: c.bookmark }).me();
    expect(seen.map((r) => r.headers['memoria-bookmark'])).toEqual([undefined, 'b-2']);
  });
});
