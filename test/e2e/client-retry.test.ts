// The client's retry, timeout and error typing against a local stub HTTP server that answers
// what each test scripts (503/429 with and without Retry-After, dropped connections, silence).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backoffMs, createMemoriaClient, MemoriaError, retryAfterMs } from '../../clients/src/index';
import { resilientFetch } from '../../clients/src/transport';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server;
let baseUrl: string;
let script: Handler[] = [];
let seen: { method: string; url: string; headers: IncomingMessage['headers'] }[] = [];

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
const drop: Handler = (req) => req.socket.destroy();
const silent: Handler = () => {};

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    req.resume();
    (script.shift() ?? problem(500, 'unscripted'))(req, res);
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

  it('retries a dropped connection (network error)', async () => {
    script = [drop, ok];
    await expect(client().me()).resolves.toBeTruthy();
    expect(seen).toHaveLength(2);
  });

  it('never repeats a non-idempotent request without a key; repeats it with the same key', async () => {
    const send = resilientFetch((r) => fetch(r), { retryBaseMs: 5 });
    script = [problem(503, 'unavailable')];
    const patch = await send(
      new Request(`${baseUrl}/v1/x`, {
        method: 'PATCH',
        body: '{"a":1}',
        headers: { 'content-type': 'application/json' },
      }),
    );
    expect(patch.status).toBe(503);
    script = [problem(503, 'unavailable')];
    const post = await send(new Request(`${baseUrl}/v1/x`, { method: 'POST', body: '{}' }));
    expect(post.status).toBe(503);
    expect(seen).toHaveLength(2);

    seen = [];
    script = [problem(503, 'unavailable'), drop, ok];
    const keyed = await send(
      new Request(`${baseUrl}/v1/x`, { method: 'POST', body: '{"a":1}', headers: { 'idempotency-key': 'k-1' } }),
    );
    expect(keyed.status).toBe(200);
    expect(seen.map((r) => r.headers['idempotency-key'])).toEqual(['k-1', 'k-1', 'k-1']);
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

  it('asks getToken for a token on every call', async () => {
    let n = 0;
    script = [ok, ok];
    const c = client({ token: undefined, getToken: async () => `t${++n}` });
    await c.me();
    await c.me();
    expect(seen.map((r) => r.headers.authorization)).toEqual(['Bearer t1', 'Bearer t2']);
  });
});
