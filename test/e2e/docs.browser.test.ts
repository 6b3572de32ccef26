// The docs page in Debian's Chromium (playwright-core): it renders the spec (title, every tag,
// an operation for every path) and everything it loads comes from the server itself.
import { readFileSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type Worker } from './harness';

const spec = JSON.parse(readFileSync(new URL('../../api/openapi.json', import.meta.url), 'utf8'));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let worker: Worker;
let browser: Browser;
let page: Page;
const requests: string[] = [];
const failures: string[] = [];

beforeAll(async () => {
  worker = await startWorker();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('request', (r) => requests.push(r.url()));
  page.on('requestfailed', (r) => failures.push(`${r.url()} ${r.failure()?.errorText}`));
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  await page.goto(`${worker.baseUrl}/docs`, { waitUntil: 'load' });
  await page.getByRole('heading', { name: spec.info.title }).first().waitFor({ timeout: 60_000 });
  // Scalar renders sections as they scroll into view: walk down the whole page once.
  for (let y = 0, height = 1; y < height; y += 800) {
    // An expression evaluated in the page (the node tsconfig has no DOM types).
    height = await page.evaluate<number>(`window.scrollTo(0, ${y}); document.body.scrollHeight`);
    await page.waitForTimeout(50);
  }
  await page.waitForTimeout(500);
  if (process.env.DOCS_SCREENSHOT) await page.screenshot({ path: process.env.DOCS_SCREENSHOT, fullPage: false });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
});

describe('docs page (/docs)', { timeout: 60_000 }, () => {
  it('renders the API title and description from the spec', async () => {
    expect(await page.title()).toContain(spec.info.title);
    await expect(page.getByRole('heading', { name: spec.info.title }).first().isVisible()).resolves.toBe(true);
    const firstLine = spec.info.description.split('\n')[0];
    expect(await page.locator('body').textContent()).toContain(firstLine);
  });

  it('shows every tag', async () => {
    const text = await page.locator('body').textContent();
    for (const tag of spec.tags.filter((t: { name: string }) => usedTags().has(t.name)))
      expect(text).toContain(tag.name);
  });

  it('contains an operation for each path in the spec', async () => {
    const text = await page.locator('body').textContent();
    for (const [path, item] of Object.entries<Record<string, { operationId: string; summary: string }>>(spec.paths)) {
      expect(text, `path ${path}`).toContain(path);
      for (const op of Object.values(item)) expect(text, `operation ${op.operationId} (${path})`).toContain(op.summary);
    }
  });

  it('offers the bearer token as the authentication', async () => {
    expect(await page.locator('body').textContent()).toMatch(/bearer/i);
  });

  it('made no request to any host but the server, and none failed', () => {
    const origin = new URL(worker.baseUrl).origin;
    const foreign = requests.filter(
      (url) => !url.startsWith('data:') && !url.startsWith('blob:') && new URL(url).origin !== origin,
    );
    expect(foreign).toEqual([]);
    expect(requests).toContain(`${origin}/docs/scalar.js`);
    expect(requests).toContain(`${origin}/openapi.json`);
    expect(failures).toEqual([]);
  });
});

function usedTags(): Set<string> {
  const used = new Set<string>();
  for (const item of Object.values<Record<string, { tags?: string[] }>>(spec.paths))
    for (const op of Object.values(item)) for (const t of op.tags ?? []) used.add(t);
  return used;
}
