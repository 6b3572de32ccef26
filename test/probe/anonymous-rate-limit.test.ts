// Requests that no user makes are limited per client IP (CF-Connecting-IP): no token, a bad token,
// or a valid token whose subject is no user, however many subjects a client mints.
import { describe, expect, it } from 'vitest';
import { ANONYMOUS_REQUESTS_PER_MINUTE_PER_IP } from '../../src/lib/limits';
import { createTenant } from '../helpers/fixtures';
import { mintToken } from '../helpers/tokens';
import { call, expectProblem } from '../memories/helpers';

const LIMIT = ANONYMOUS_REQUESTS_PER_MINUTE_PER_IP;
const anIp = () => `2001:db8::${crypto.randomUUID().slice(0, 4)}:${crypto.randomUUID().slice(0, 4)}`;

describe('requests without a user are limited per client IP', () => {
  it(`no or bad tokens: ${LIMIT} answers of 401, then 429 problem+json with Retry-After`, async () => {
    const ip = anIp();
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 5; i++) {
      const headers: Record<string, string> = { 'cf-connecting-ip': ip };
      if (i % 2) headers.authorization = 'Bearer not.a.token';
      const res = await call('/v1/memories', { headers });
      statuses.push(res.status);
      if (i === LIMIT + 4) {
        const body = await expectProblem(res, 429, 'rate_limited');
        expect(body.detail).toContain(`${LIMIT} requests`);
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(res.headers.get('www-authenticate')).toBeNull();
      }
    }
    expect(statuses).toEqual([...Array(LIMIT).fill(401), ...Array(5).fill(429)]);

    // Another address has its own budget; a user's valid token from the same address is not limited by it.
    expect((await call('/v1/memories', { headers: { 'cf-connecting-ip': anIp() } })).status).toBe(401);
    const t = await createTenant();
    const ok = await call('/v1/me', { token: await t.owner.token(), headers: { 'cf-connecting-ip': ip } });
    expect(ok.status, await ok.clone().text()).toBe(200);
  }, 30_000);

  it('a fresh subject per request does not escape the address budget', async () => {
    const ip = anIp();
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 3; i++) {
      const token = await mintToken({ sub: `auth0|mint-${crypto.randomUUID()}` });
      statuses.push((await call('/v1/me', { token, headers: { 'cf-connecting-ip': ip } })).status);
    }
    expect(statuses).toEqual([...Array(LIMIT).fill(403), ...Array(3).fill(429)]);
  }, 30_000); // signs a token per request: seconds on a loaded machine
});
