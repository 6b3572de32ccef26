import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { createTenant } from '../helpers/fixtures';
import { call } from '../helpers/http';

describe('security headers', () => {
  it('sends nosniff on every kind of response, and no-store on authenticated ones', async () => {
    const { owner } = await createTenant();
    const token = await owner.token();
    const responses = {
      health: await call('/health'),
      spec: await call('/openapi.json'),
      docs: await call('/docs'),
      me: await call('/v1/me', { token }),
      unauthenticated: await call('/v1/me'),
      notFound: await call('/v1/nope', { token }),
    };
    for (const [name, res] of Object.entries(responses)) {
      expect(res.headers.get('x-content-type-options'), name).toBe('nosniff');
      expect(res.headers.get('referrer-policy'), name).toBe('no-referrer');
    }
    for (const name of ['me', 'unauthenticated', 'notFound'] as const) {
      expect(responses[name].headers.get('cache-control'), name).toBe('no-store');
      expect(responses[name].headers.get('content-security-policy'), name).toBe(
        "default-src 'none'; frame-ancestors 'none'",
      );
      expect(responses[name].headers.get('x-frame-options'), name).toBe('DENY');
    }
    expect(responses.health.headers.get('cache-control')).toBeNull();
  });

  it('serves /docs under a strict CSP whose fresh nonce is the only way an inline script runs', async () => {
    const [a, b] = [await call('/docs'), await call('/docs')];
    const csp = a.headers.get('content-security-policy')!;
    const nonce = /script-src 'self' 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
    expect(b.headers.get('content-security-policy')).not.toBe(csp); // one nonce per response
    const html = await a.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const attrs of scripts) {
      // Each script is either the same-origin bundle or carries this response's nonce.
      expect(/\bsrc="\/docs\/scalar\.js"/.test(attrs) || attrs.includes(`nonce="${nonce}"`), attrs).toBe(true);
    }
  });
});

describe('CORS', () => {
  const preflight = (origin: string) => ({
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });

  it('is off by default: no CORS header for any origin, preflight answered without permission', async () => {
    const res = await call('/v1/me', { headers: { origin: 'https://app.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await call('/v1/me', preflight('https://app.example'));
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    expect(pre.headers.get('access-control-allow-methods')).toBeNull();
  });

  it('answers allowlisted origins only (CORS_ORIGINS)', async () => {
    const app = createApp();
    const withCors = { ...env, CORS_ORIGINS: 'https://app.example, https://admin.example:8443' };
    const { owner } = await createTenant();

    const pre = await app.request('/v1/me', preflight('https://admin.example:8443'), withCors);
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://admin.example:8443');
    expect(pre.headers.get('access-control-allow-methods')).toContain('PATCH');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(
      /Authorization.*Content-Type.*Idempotency-Key.*If-Match/,
    );
    expect(pre.headers.get('access-control-max-age')).toBe('600');
    expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
    expect(await pre.text()).toBe('');

    const res = await app.request(
      '/v1/me',
      { headers: { origin: 'https://app.example', authorization: `Bearer ${await owner.token()}` } },
      withCors,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(res.headers.get('access-control-expose-headers')).toMatch(
      /RateLimit.*X-Request-Id.*Idempotent-Replayed, Content-Disposition/,
    );
    expect(res.headers.get('vary')).toContain('Origin');

    for (const origin of ['https://evil.example', 'https://app.example.evil.example', 'http://app.example', 'null']) {
      const denied = await app.request('/v1/me', preflight(origin), withCors);
      expect(denied.status).toBe(204);
      expect(denied.headers.get('access-control-allow-origin'), origin).toBeNull();
      expect(denied.headers.get('access-control-allow-methods'), origin).toBeNull();
      const simple = await app.request('/health', { headers: { origin } }, withCors);
      expect(simple.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
  });
});
