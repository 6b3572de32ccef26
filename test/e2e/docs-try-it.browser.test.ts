// The docs page's "Try it", clicked as a new user would in Debian's Chromium (playwright-core):
// on a server seeded as `npm start` seeds it, with the token `npm start` prints (the demo owner's),
// open an operation's API client, paste the token, press Send, with nothing else touched. The
// main operations answer 2xx on the first click, with their examples as sent by the page itself:
// the path id examples name the demo rows; the list and search examples find the memory the
// create example made.
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM script without types
import { DEMO_IDS } from '../../scripts/demo-seed.mjs';
// @ts-expect-error -- plain ESM script without types
import { DEMO } from '../../scripts/dev-auth.mjs';
import { startWorker, type Worker } from './harness';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'];

let worker: Worker;
let browser: Browser;
let page: Page;
let token: string;

beforeAll(async () => {
  worker = await startWorker({ demo: true });
  token = await worker.token(DEMO.sub);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`${worker.baseUrl}/docs`, { waitUntil: 'load' });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
});

/**
 * Opens the operation's API client from its section, sends its example as is, and returns what the
 * server answered. `sent`: the path the examples fill in (default: `path`, which has no parameter).
 */
async function tryIt(tag: string, method: string, path: string, sent = path) {
  await page.evaluate(`location.hash = ${JSON.stringify(`#tag/${tag}/${method}${path}`)}`);
  const button = page.locator('button', { hasText: `Test Request(${method.toLowerCase()} ${path})` }).first();
  await button.waitFor({ timeout: 30_000 });
  await button.click();
  const dialog = page.getByRole('dialog');
  const tokenField = dialog.getByPlaceholder('Token');
  if ((await tokenField.count()) && !(await tokenField.inputValue())) await tokenField.fill(token);
  const answered = page.waitForResponse((r) => r.request().method() === method && new URL(r.url()).pathname === sent, {
    timeout: 30_000,
  });
  await dialog
    .getByRole('button', { name: new RegExp(`^Send ${method.toLowerCase()} request`) })
    .first()
    .click();
  const res = await answered;
  const body = await res.text();
  const query = new URL(res.url()).search;
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  return { status: res.status(), body, query };
}

describe('docs "Try it" with the examples, first click', { timeout: 120_000 }, () => {
  let created: { id: string };
  const memory = `/v1/memories/${DEMO_IDS.memory}`;

  // Before anything else changes the demo memory: the If-Match example names its first version.
  it.each([
    ['memories', 'GET', '/v1/memories/{id}', memory],
    ['memories', 'PATCH', '/v1/memories/{id}', memory],
    ['memories', 'POST', '/v1/memories/{id}/tags', `${memory}/tags`],
    ['users', 'GET', '/v1/users/{id}', `/v1/users/${DEMO_IDS.owner}`],
    ['audit-logs', 'GET', '/v1/audit-logs/{id}', `/v1/audit-logs/${DEMO_IDS.audit}`],
  ])('%s: %s %s finds the demo row (%s)', async (tag, method, path, sent) => {
    const res = await tryIt(tag, method, path, sent);
    expect(res.status, res.body).toBe(200);
    expect(JSON.parse(res.body).id).toBe(sent.split('/')[3]);
  });

  it("lists the demo memory's versions (the one the PATCH example replaced)", async () => {
    const res = await tryIt('memories', 'GET', '/v1/memories/{id}/versions', `${memory}/versions`);
    expect(res.status, res.body).toBe(200);
    expect(JSON.parse(res.body).data.map((v: { version: number }) => v.version)).toContain(1);
  });

  it('creates a memory', async () => {
    const res = await tryIt('memories', 'POST', '/v1/memories');
    expect(res.status, res.body).toBe(201);
    created = JSON.parse(res.body);
  });

  it('lists and searches, finding that memory with the filter examples', async () => {
    const list = await tryIt('memories', 'GET', '/v1/memories');
    expect(list.status, list.body).toBe(200);
    expect(list.query).toContain('tag=preferences'); // the examples were sent, not an empty query
    expect(JSON.parse(list.body).data.map((m: { id: string }) => m.id)).toContain(created.id);
    const search = await tryIt('memories', 'GET', '/v1/memories/search');
    expect(search.status, search.body).toBe(200);
    expect(JSON.parse(search.body).data.map((m: { id: string }) => m.id)).toContain(created.id);
  });

  it.each([
    ['me', 'GET', '/v1/me', 200],
    ['memories', 'POST', '/v1/memories/batch', 201],
    ['sessions', 'POST', '/v1/sessions', 201],
    ['sessions', 'GET', '/v1/sessions', 200],
    ['tenants', 'GET', '/v1/tenant', 200],
    ['tenants', 'PATCH', '/v1/tenant', 200],
    ['users', 'GET', '/v1/users', 200],
    ['users', 'POST', '/v1/users', 201],
    ['subscription', 'GET', '/v1/subscription', 200],
    ['usage', 'GET', '/v1/usage', 200],
    ['audit-logs', 'GET', '/v1/audit-logs', 200],
  ])('%s: %s %s answers %i', async (tag, method, path, status) => {
    const res = await tryIt(tag, method, path);
    expect(res.status, res.body).toBe(status);
  });

  it('sends the same create again without an Idempotency-Key clash', async () => {
    // The page sends no Idempotency-Key of its own (the spec has no fixed one to offer).
    const again = await tryIt('memories', 'POST', '/v1/memories');
    expect(again.status, again.body).toBe(201);
    expect(JSON.parse(again.body).id).not.toBe(created.id);
  });
});
