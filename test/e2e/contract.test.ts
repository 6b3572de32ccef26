// The published contract against the real Worker (wrangler dev, local D1): statuses the app
// answers for every operation (body rules apply app-wide, not only to routes that take a body)
// are declared in api/openapi.json, and so are the headers it sends with them.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from '../../scripts/breaking-changes';
import { MAX_BODY_BYTES } from '../../src/lib/limits';
import { startWorker, type Worker } from './harness';

type Json = Record<string, any>;
const spec: Json = JSON.parse(readFileSync(new URL('../../api/openapi.json', import.meta.url), 'utf8'));
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const operations = Object.entries<Json>(spec.paths).flatMap(([path, item]) =>
  METHODS.filter((m) => item[m]).map((method) => ({ method: method.toUpperCase(), path, op: item[method] as Json })),
);
/** The path with each parameter replaced by its example (a well-formed id). */
const concrete = (path: string, op: Json) =>
  path.replace(/\{(\w+)\}/g, (_, name) => {
    const p = (op.parameters ?? []).find((x: Json) => x.in === 'path' && x.name === name);
    return encodeURIComponent(String(p?.example ?? p?.schema?.example ?? 'x'));
  });

/** Response headers every response carries that are transport or browser policy, not API contract. */
const TRANSPORT = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'date',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'vary',
  'cache-control',
  'content-security-policy',
  'x-content-type-options',
  'x-frame-options',
  'referrer-policy',
  'server-timing', // diagnostics (README: one D1 round trip per request), not for programs
]);
function undeclaredHeaders(op: Json, res: Response): string[] {
  const response = resolve(spec, op.responses?.[String(res.status)]);
  const declared = new Set(Object.keys(response?.headers ?? {}).map((h) => h.toLowerCase()));
  return [...res.headers.keys()].filter((h) => !TRANSPORT.has(h) && !declared.has(h));
}

let worker: Worker;
let token: string;
beforeAll(async () => {
  worker = await startWorker();
  token = await worker.token(`auth0|contract-${randomUUID()}`);
  const res = await fetch(`${worker.baseUrl}/v1/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Contract Inc', email: 'owner@contract.test' }),
  });
  expect(res.status).toBe(201);
}, 180_000);
afterAll(async () => {
  await worker?.stop();
});

describe('statuses the Worker answers are declared', { timeout: 120_000 }, () => {
  // GET with a body is 413 too, but fetch cannot send one (and no client should): not declared there.
  it('a body over the limit is 413 on every POST/PUT/PATCH/DELETE, and 413 is declared there', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES) });
    const undeclared: string[] = [];
    for (const { method, path, op } of operations.filter((o) => o.method !== 'GET')) {
      const type = Object.keys(op.requestBody?.content ?? {})[0] ?? 'application/json'; // POST /v1/import: NDJSON
      const res = await fetch(`${worker.baseUrl}${concrete(path, op)}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': type },
        body: big,
      });
      await res.body?.cancel();
      expect(res.status, `${method} ${path}`).toBe(413);
      if (!op.responses['413']) undeclared.push(`${method} ${path}`);
    }
    expect(undeclared).toEqual([]);
  });

  it('a non-JSON body is 415 on every POST/PUT/PATCH, and 415 is declared there', async () => {
    const undeclared: string[] = [];
    for (const { method, path, op } of operations.filter((o) => ['POST', 'PUT', 'PATCH'].includes(o.method))) {
      const res = await fetch(`${worker.baseUrl}${concrete(path, op)}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
        body: 'hello',
      });
      await res.body?.cancel();
      expect(res.status, `${method} ${path}`).toBe(415);
      if (!op.responses['415']) undeclared.push(`${method} ${path}`);
    }
    expect(undeclared).toEqual([]);
  });
});

describe('headers the Worker sends are declared on that response', { timeout: 60_000 }, () => {
  const me = spec.paths['/v1/me'].get;
  const create = spec.paths['/v1/memories'].post;

  it('401 carries its WWW-Authenticate challenge', async () => {
    const res = await fetch(`${worker.baseUrl}/v1/me`, { headers: { authorization: 'Bearer not-a-jwt' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    expect(undeclaredHeaders(me, res)).toEqual([]);
  });

  it('403 insufficient_scope carries the scopes it needs', async () => {
    const narrow = await worker.token(`auth0|contract-${randomUUID()}`, ['read:memories']);
    const res = await fetch(`${worker.baseUrl}/v1/memories`, {
      method: 'POST',
      headers: { authorization: `Bearer ${narrow}`, 'content-type': 'application/json' },
      body: '{"content":"x"}',
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('insufficient_scope');
    expect(undeclaredHeaders(create, res)).toEqual([]);
  });

  it('a replayed POST says so in Idempotent-Replayed, and the 201 declares it', async () => {
    const headers = {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'idempotency-key': randomUUID(),
    };
    const body = JSON.stringify({ content: 'replay me' });
    const first = await fetch(`${worker.baseUrl}/v1/memories`, { method: 'POST', headers, body });
    const again = await fetch(`${worker.baseUrl}/v1/memories`, { method: 'POST', headers, body });
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(undeclaredHeaders(create, first)).toEqual([]);
    expect(undeclaredHeaders(create, again)).toEqual([]);
  });
});
