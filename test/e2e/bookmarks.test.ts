// Read-your-writes over real HTTP against wrangler dev (local D1 implements the Sessions API):
// the bookmark a write returns, sent back, gets a read that sees the write; browsers may send and
// read the header when CORS is on.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type Worker } from './harness';

let worker: Worker;
let auth: Record<string, string>;
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

beforeAll(async () => {
  worker = await startWorker();
  auth = { authorization: `Bearer ${await worker.token(`auth0|e2e-bookmark-${randomUUID()}`)}` };
  const res = await fetch(`${worker.baseUrl}/v1/tenants`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Bookmarks Inc', email: 'owner@bookmarks.test' }),
  });
  expect(res.status).toBe(201);
}, 180_000);
afterAll(async () => {
  await worker?.stop();
});

describe('Memoria-Bookmark over HTTP', { timeout: 60_000 }, () => {
  it('a write returns a bookmark; reads sending it back see the write, and bookmarks move forward', async () => {
    const created = await fetch(`${worker.baseUrl}/v1/memories`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'bookmarked over http' }),
    });
    expect(created.status).toBe(201);
    const bookmark = created.headers.get('memoria-bookmark') ?? '';
    expect(bookmark).toMatch(BOOKMARK);
    const { id } = (await created.json()) as { id: string };

    const read = await fetch(`${worker.baseUrl}/v1/memories/${id}`, {
      headers: { ...auth, 'memoria-bookmark': bookmark },
    });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { content: string }).content).toBe('bookmarked over http');
    expect((read.headers.get('memoria-bookmark') ?? '') >= bookmark).toBe(true);
    expect(read.headers.get('server-timing')).toContain('round_trips=1');

    const health = await fetch(`${worker.baseUrl}/health`);
    expect(await health.json()).toEqual({ status: 'ok', database: 'ok' });
    expect(health.headers.get('memoria-bookmark')).toMatch(BOOKMARK);
  });
});
