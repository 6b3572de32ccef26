import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import type { Env } from '../../src/env';

// GET /health names every missing or invalid required setting (never its value), so a broken
// deployment is found by its smoke test, not as a 503 on page 2 of a list.
const app = createApp();
async function health(overrides: Partial<Env>) {
  const res = await app.request('/health', {}, { ...(env as unknown as Env), ...overrides });
  return { status: res.status, text: await res.text() };
}

describe('GET /health reports misconfiguration by name', () => {
  it('is ok when every setting is present', async () => {
    const { status, text } = await health({});
    expect(status).toBe(200);
    expect(JSON.parse(text)).toEqual({ status: 'ok', database: 'ok' });
  });

  it.each([
    ['CURSOR_SECRET', { CURSOR_SECRET: undefined }, /not set/],
    ['CURSOR_SECRET', { CURSOR_SECRET: 'short-s3cret' }, /shorter than 16/],
    ['AUTH0_AUDIENCE', { AUTH0_AUDIENCE: '' }, /not set/],
    ['AUTH0_DOMAIN', { AUTH0_DOMAIN: 'https://tenant.eu.auth0.com/x', AUTH0_ISSUER: undefined }, /host name/],
    ['AUTH0_DOMAIN', { AUTH0_DOMAIN: undefined, AUTH0_ISSUER: undefined }, /not set/],
    ['AUTH0_JWKS', { AUTH0_JWKS: '{"keys": "s3cret-jwks"' }, /not valid JSON/],
    ['AUTH0_JWKS_URL', { AUTH0_JWKS: undefined, AUTH0_JWKS_URL: 'http://keys.example.com/jwks.json' }, /https/],
    ['RATE_LIMITER', { RATE_LIMITER: undefined }, /rate limiting is off/],
  ] as const)('names %s (%j) as degraded', async (setting, overrides, problem) => {
    const { status, text } = await health(overrides);
    expect(status).toBe(200);
    const body = JSON.parse(text);
    expect(body.status).toBe('degraded');
    expect(body.database).toBe('ok');
    expect(body.settings).toEqual([{ setting, problem: expect.stringMatching(problem) }]);
    // The value itself never appears.
    for (const value of Object.values(overrides)) if (value) expect(text).not.toContain(value);
  });

  it('lists every problem at once', async () => {
    const { text } = await health({ CURSOR_SECRET: '', AUTH0_AUDIENCE: undefined, RATE_LIMITER: undefined });
    expect(JSON.parse(text).settings.map((s: { setting: string }) => s.setting)).toEqual([
      'AUTH0_AUDIENCE',
      'CURSOR_SECRET',
      'RATE_LIMITER',
    ]);
  });
});
