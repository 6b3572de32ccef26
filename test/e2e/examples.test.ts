// Every example in the published spec is accepted by the API on a fresh server: each operation
// sent as the docs page's "Try it" sends it (path, query and header examples, the body example),
// by a new tenant's owner. Nothing is refused as invalid (400, 413, 415, 422) or fails (5xx); an
// operation that names no resource succeeds, one that does may answer 404 (the id examples name
// the demo rows `npm start` seeds, which a new tenant cannot see; docs-try-it.browser.test.ts and
// quick-start.test.ts show they resolve for the demo owner); the example webhook URL is refused
// as unresolvable.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from '../../scripts/breaking-changes';
import { startWorker, type Worker } from './harness';

type Json = Record<string, any>;
const spec: Json = JSON.parse(readFileSync(new URL('../../api/openapi.json', import.meta.url), 'utf8'));
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const operations = Object.entries<Json>(spec.paths).flatMap(([path, item]) =>
  METHODS.filter((m) => item[m]).map((method) => ({ method: method.toUpperCase(), path, op: item[method] as Json })),
);
// Provision first; delete the tenant last, then restore it (both are examples too).
const rank = (id: string) => ({ createTenant: -1, deleteTenant: 1, restoreTenant: 2 })[id] ?? 0;
operations.sort((a, b) => rank(a.op.operationId) - rank(b.op.operationId));

/**
 * The request "Try it" sends: every parameter with an `example` (those with only unchecked
 * `examples` stay out, unless `all`: then their first example is sent too).
 */
function exampleRequest(baseUrl: string, path: string, op: Json, all = false) {
  const params = (op.parameters ?? [])
    .map((p: Json) => resolve(spec, p)!)
    .map((p: Json) =>
      p.example === undefined && all && p.examples ? { ...p, example: Object.values<Json>(p.examples)[0]!.value } : p,
    )
    .filter((p: Json) => p.example !== undefined);
  let url = path;
  const query = new URLSearchParams();
  const headers: Record<string, string> = {};
  for (const p of params) {
    if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(String(p.example)));
    else if (p.in === 'header') headers[p.name] = String(p.example);
    else if (p.style === 'deepObject')
      for (const [key, value] of Object.entries(p.example)) query.append(`${p.name}[${key}]`, String(value));
    else for (const value of [p.example].flat()) query.append(p.name, String(value));
  }
  let body: string | undefined;
  for (const [type, media] of Object.entries<Json>(resolve(spec, op.requestBody)?.content ?? {})) {
    const example = media.example ?? resolve(spec, media.schema)?.example;
    headers['content-type'] = type;
    body = typeof example === 'string' ? example : JSON.stringify(example);
  }
  return { url: `${baseUrl}${url}${query.size ? `?${query}` : ''}`, headers, body };
}

let worker: Worker;
let token: string;
beforeAll(async () => {
  worker = await startWorker();
  token = await worker.token(`auth0|examples-${randomUUID()}`);
}, 180_000);
afterAll(async () => {
  await worker?.stop();
});

describe('the examples of the published spec, on a fresh server', () => {
  it('has examples to send', () => {
    expect(operations.length).toBeGreaterThan(30);
  });

  it('are accepted by every operation', { timeout: 120_000 }, async () => {
    const refused: string[] = [];
    const statuses: Record<string, number> = {};
    for (const { method, path, op } of operations) {
      const { url, headers, body } = exampleRequest(worker.baseUrl, path, op);
      const res = await fetch(url, { method, headers: { ...headers, authorization: `Bearer ${token}` }, body });
      const text = await res.text();
      statuses[op.operationId] = res.status;
      const namesResource = path.includes('{');
      // The Vectorize backfill needs a Vectorize index, which no local server has (wrangler dev
      // only proxies it to Cloudflare): there it is a 409 that says so, not a refused example.
      const needsVectorize = op.operationId === 'backfillVectorIndex' && text.includes('vector_index_not_configured');
      // The example webhook URL (hooks.example.com) resolves nowhere, as a reader's receiver cannot be
      // in an example: it is refused for that (fail closed), never for its form.
      const placeholderUrl =
        op.operationId === 'createWebhook' && res.status === 422 && text.includes('"code":"webhook_url_refused"');
      const ok =
        res.status < 300 ||
        (res.status === 304 && method === 'GET') ||
        (namesResource && res.status === 404) ||
        (needsVectorize && res.status === 409) ||
        (placeholderUrl && text.includes('could not be resolved'));
      if (!ok) refused.push(`${method} ${url.slice(worker.baseUrl.length)} → ${res.status} ${text.slice(0, 300)}`);
    }
    expect(refused).toEqual([]);
    // The ones that name no resource really ran (not all 404 by accident).
    expect(statuses.createTenant).toBe(201);
    expect(statuses.createMemory).toBe(201);
    expect(statuses.importTenant).toBe(200);
    expect(statuses.deleteTenant).toBe(200);
    expect(statuses.restoreTenant).toBe(200);
  });

  it('accept the unchecked examples too (ids and ETags of resources the reader does not have)', {
    timeout: 120_000,
  }, async () => {
    const refused: string[] = [];
    let sent = 0;
    for (const { method, path, op } of operations) {
      if (!(op.parameters ?? []).some((p: Json) => resolve(spec, p)?.examples)) continue;
      const { url, headers, body } = exampleRequest(worker.baseUrl, path, op, true);
      const res = await fetch(url, { method, headers: { ...headers, authorization: `Bearer ${token}` }, body });
      sent++;
      const text = await res.text();
      // Naming a resource that does not exist is a 404 (or, for an If-Match, 412), never a refusal of its form.
      if (res.status >= 500 || [400, 413, 415, 422].includes(res.status))
        refused.push(`${method} ${url.slice(worker.baseUrl.length)} → ${res.status} ${text.slice(0, 300)}`);
    }
    expect(sent).toBeGreaterThan(5);
    expect(refused).toEqual([]);
  });
});
