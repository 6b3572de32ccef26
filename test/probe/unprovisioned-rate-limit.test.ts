// Requests with a valid token whose subject has no user are rate limited per subject: past the
// budget they get 429 before any D1 work, and other subjects are unaffected.
import { describe, expect, it } from 'vitest';
import { UNPROVISIONED_REQUESTS_PER_MINUTE } from '../../src/lib/limits';
import { mintToken } from '../helpers/tokens';
import { call, d1Stats } from '../memories/helpers';

describe('unprovisioned subjects are rate limited', () => {
  it(`answers ${UNPROVISIONED_REQUESTS_PER_MINUTE} requests, then 429 with Retry-After and no D1 round trip`, async () => {
    const token = await mintToken({ sub: `auth0|flood-${crypto.randomUUID()}` });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < UNPROVISIONED_REQUESTS_PER_MINUTE + 20; i++) {
      last = await call('/v1/me', { token });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, UNPROVISIONED_REQUESTS_PER_MINUTE).every((s) => s === 403)).toBe(true);
    expect(statuses.slice(UNPROVISIONED_REQUESTS_PER_MINUTE).every((s) => s === 429)).toBe(true);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(d1Stats(last!).roundTrips).toBe(0);

    // Another unprovisioned subject has its own budget; it can still provision a tenant.
    const sub = `auth0|other-${crypto.randomUUID()}`;
    const other = await mintToken({ sub, claims: { email: 'new@example.com' } });
    expect((await call('/v1/me', { token: other })).status).toBe(403);
    const created = await call('/v1/tenants', { method: 'POST', token: other, json: { name: 'New' } });
    expect(created.status, await created.clone().text()).toBe(201);
    expect((await call('/v1/me', { token: other })).status).toBe(200);
  });
});
