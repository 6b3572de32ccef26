import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type Worker } from './harness';

// The docs page under its strict CSP, in a real browser: the Scalar bundle and its nonce'd init
// script run, the reference renders from /openapi.json, nothing is blocked, and an injected inline
// script without the nonce does not run.

let worker: Worker;
let browser: Browser;
let base: string;

beforeAll(async () => {
  worker = await startWorker();
  base = worker.baseUrl;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
});

describe('/docs in Chromium under its CSP', () => {
  it('renders the reference with nothing blocked, and refuses an inline script without the nonce', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      // Every console error counts, a missing favicon's 404 included (the browser asks for it).
      if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => errors.push(e.message));
    // Browser-side code as strings: this file is type-checked without the DOM library.
    await page.addInitScript({
      content:
        "window.violations = []; document.addEventListener('securitypolicyviolation', (e) => window.violations.push({ directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile }));",
    });
    const res = await page.goto(`${base}/docs`, { waitUntil: 'networkidle' });
    expect(res!.headers()['content-security-policy']).toMatch(/script-src 'self' 'nonce-[^']+'/);
    await page.getByText('The caller').first().waitFor({ timeout: 30_000 }); // an operation from /openapi.json

    const injected = await page.evaluate(
      "(async () => { const s = document.createElement('script'); s.textContent = 'window.injectedRan = true'; document.body.appendChild(s); await new Promise((r) => setTimeout(r, 100)); return window.injectedRan ?? false; })()",
    );
    expect(injected).toBe(false);
    const violations = (await page.evaluate('window.violations')) as {
      directive: string;
      blocked: string;
      source: string;
    }[];
    // The only violations: the script we injected, and the eval probe of the zod copy bundled in
    // Scalar (`try { Function('') } catch`), which falls back to its non-eval path when refused.
    const probe = (v: { directive: string; blocked: string; source: string }) =>
      v.directive === 'script-src' && v.blocked === 'eval' && v.source === `${base}/docs/scalar.js`;
    expect(violations.filter((v) => !probe(v)).map((v) => `${v.directive} ${v.blocked}`)).toEqual([
      'script-src-elem inline',
    ]);
    expect(errors.filter((e) => !/Content Security Policy/.test(e))).toEqual([]);
  }, 60_000);
});
