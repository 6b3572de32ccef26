// The remote JWKS path (AUTH0_JWKS_URL / the domain's well-known URL, no inline JWKS), with
// globalThis.fetch stubbed: the Worker code runs in this isolate, so the stub is what it calls.
import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../src/app';
import { JWKS_COOLDOWN_MS, JWKS_MAX_AGE_MS } from '../../src/auth/jwks';
import { authConfig, verifyAccessToken } from '../../src/auth/verify';
import type { Env } from '../../src/env';
import { newKey } from './keys';

type Key = Awaited<ReturnType<typeof newKey>>;

/** A fake JWKS endpoint: serves `keys`, counts fetches, answers after a small delay (so bursts really overlap). */
function jwksServer(initial: Key[]) {
  const server = { keys: initial, fetches: [] as string[], down: false };
  vi.stubGlobal('fetch', async (input: RequestInfo | URL) => {
    const url = input instanceof Request ? input.url : String(input);
    server.fetches.push(url);
    await new Promise((r) => setTimeout(r, 20));
    if (server.down) return new Response('upstream error', { status: 502 });
    return Response.json({ keys: server.keys.map((k) => k.jwk) });
  });
  return server;
}

/** A fresh remote configuration (own domain, so its key set starts cold) with a controllable clock. */
function remote(overrides: Partial<Env> = {}) {
  const domain = `t-${crypto.randomUUID().slice(0, 8)}.eu.auth0.com`;
  const clock = { now: Date.now() };
  const config = authConfig(
    { DB: env.DB, AUTH0_DOMAIN: domain, AUTH0_AUDIENCE: 'https://api.remote.test', ...overrides },
    { now: () => clock.now },
  );
  const claims = { iss: `https://${domain}/`, aud: 'https://api.remote.test' };
  return { domain, clock, config, claims };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('remote JWKS', () => {
  it('fetches https://<domain>/.well-known/jwks.json once and reuses it', async () => {
    const key = await newKey('k1');
    const server = jwksServer([key]);
    const { domain, config, claims } = remote();
    for (let i = 0; i < 5; i++)
      await expect(verifyAccessToken(await key.sign({ ...claims, sub: `auth0|u${i}` }), config)).resolves.toMatchObject(
        { sub: `auth0|u${i}` },
      );
    expect(server.fetches).toEqual([`https://${domain}/.well-known/jwks.json`]);
  });

  it('uses AUTH0_JWKS_URL when set', async () => {
    const key = await newKey('k1');
    const server = jwksServer([key]);
    const { config, claims } = remote({ AUTH0_JWKS_URL: 'https://keys.example.com/custom/jwks.json' });
    await verifyAccessToken(await key.sign(claims), config);
    expect(server.fetches).toEqual(['https://keys.example.com/custom/jwks.json']);
  });

  it('picks up a rotated key that appears in the JWKS after the cache was filled', async () => {
    const [oldKey, newKey_] = [await newKey('2026-old'), await newKey('2026-new')];
    const server = jwksServer([oldKey]);
    const { clock, config, claims } = remote();
    await verifyAccessToken(await oldKey.sign(claims), config);
    expect(server.fetches).toHaveLength(1);

    // Auth0 publishes the next key and starts signing with it some time later.
    server.keys = [oldKey, newKey_];
    clock.now += JWKS_COOLDOWN_MS + 1;
    await expect(
      verifyAccessToken(await newKey_.sign({ ...claims, sub: 'auth0|rotated' }), config),
    ).resolves.toMatchObject({ sub: 'auth0|rotated' });
    expect(server.fetches).toHaveLength(2);
    // Both keys now verify without further fetches.
    await verifyAccessToken(await oldKey.sign({ ...claims, sub: 'auth0|a' }), config);
    await verifyAccessToken(await newKey_.sign({ ...claims, sub: 'auth0|b' }), config);
    expect(server.fetches).toHaveLength(2);
  });

  it('refetches at most once per cooldown however many random kids arrive, concurrently or not', async () => {
    const key = await newKey('real');
    const server = jwksServer([key]);
    const { clock, config, claims } = remote();
    const burst = async (n: number) => {
      const tokens = await Promise.all(Array.from({ length: n }, () => key.sign(claims, { kid: crypto.randomUUID() })));
      const results = await Promise.allSettled(tokens.map((t) => verifyAccessToken(t, config)));
      expect(results.every((r) => r.status === 'rejected' && /no applicable key/i.test(String(r.reason)))).toBe(true);
    };

    // Cold isolate, 30 concurrent random kids: one fetch (the others wait for it).
    await burst(30);
    expect(server.fetches).toHaveLength(1);
    // Within the cooldown: nothing.
    await burst(30);
    for (let i = 0; i < 10; i++) await burst(1);
    expect(server.fetches).toHaveLength(1);
    // Each new cooldown window allows exactly one more fetch.
    for (const window of [2, 3, 4]) {
      clock.now += JWKS_COOLDOWN_MS;
      await burst(30);
      await burst(30);
      expect(server.fetches).toHaveLength(window);
    }
    // The real key kept working throughout.
    await expect(verifyAccessToken(await key.sign(claims), config)).resolves.toBeTruthy();
    expect(server.fetches).toHaveLength(4);
  });

  it('keeps verifying known keys with the stale set when a refresh fails', async () => {
    const key = await newKey('k1');
    const server = jwksServer([key]);
    const { clock, config, claims } = remote();
    await verifyAccessToken(await key.sign(claims), config);
    server.down = true;
    clock.now += JWKS_MAX_AGE_MS + 1;
    await expect(
      verifyAccessToken(await key.sign({ ...claims, sub: 'auth0|during-outage' }), config),
    ).resolves.toBeTruthy();
    expect(server.fetches).toHaveLength(2); // it tried, failed, and fell back
  });

  it('answers 503 (not 401) while the keys cannot be loaded, and does not hammer the endpoint', async () => {
    const key = await newKey('k1');
    const server = jwksServer([key]);
    server.down = true;
    const domain = `down-${crypto.randomUUID().slice(0, 8)}.eu.auth0.com`;
    const token = await key.sign({ iss: `https://${domain}/`, aud: 'https://api.remote.test' });
    const app = createApp();
    const bindings: Env = { DB: env.DB, AUTH0_DOMAIN: domain, AUTH0_AUDIENCE: 'https://api.remote.test' };
    for (let i = 0; i < 3; i++) {
      const res = await app.request('/v1/me', { headers: { authorization: `Bearer ${token}` } }, bindings);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('30');
      expect(await res.json()).toMatchObject({ status: 503, code: 'auth_unavailable' });
    }
    expect(server.fetches).toHaveLength(1);
  });
});
