import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { READ_ATTEMPTS } from '../../src/db/resilience';
import { createTenant } from '../helpers/fixtures';
import { type Fault, faultyD1 } from './faulty-d1';
import { appWithTestRoutes } from './test-app';

const LOST = 'D1_ERROR: Network connection lost.';
const RESET = 'D1_ERROR: Internal error in D1 DB storage caused object to be reset.';
const OVERLOADED = 'D1 DB is overloaded. Too many requests queued.';

async function setup(script: Fault[]) {
  const { tenant, owner } = await createTenant('Before');
  const { binding, state } = faultyD1(env.DB, script);
  const app = appWithTestRoutes();
  const headers = { authorization: `Bearer ${await owner.token()}`, 'content-type': 'application/json' };
  const send = (path: string, init: RequestInit = {}) =>
    app.request(path, { ...init, headers }, { ...env, DB: binding });
  const stored = async () => ({
    name: (await env.DB.prepare('SELECT name FROM tenants WHERE id = ?1').bind(tenant.id).first<{ name: string }>())!
      .name,
    audits: (await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM audit_logs WHERE tenant_id = ?1 AND action = 'tenant.rename'",
    )
      .bind(tenant.id)
      .first<{ n: number }>())!.n,
  });
  return { send, state, stored };
}

async function expect503(res: Response, retryAfter: string) {
  expect(res.status).toBe(503);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.headers.get('retry-after')).toBe(retryAfter);
  const body = await res.json<Record<string, unknown>>();
  expect(body).toMatchObject({ status: 503, code: 'database_unavailable' });
  expect(JSON.stringify(body)).not.toMatch(/D1_ERROR|Network connection|overloaded|storage/i);
  return body;
}

describe('D1 failures on reads', () => {
  it('retries transient errors with backoff and answers normally', async () => {
    const { send, state } = await setup([{ before: LOST }, { before: RESET }]);
    const res = await send('/v1/me');
    expect(res.status).toBe(200);
    expect(state.calls).toBe(3);
    expect(res.headers.get('server-timing')).toContain('round_trips=3'); // retries are real round trips
  });

  it(`gives up after ${READ_ATTEMPTS} attempts with 503 + Retry-After`, async () => {
    const { send, state } = await setup(Array(READ_ATTEMPTS).fill({ before: LOST }));
    await expect503(await send('/v1/me'), '2');
    expect(state.calls).toBe(READ_ATTEMPTS);
  });

  it('does not retry an overloaded database: 503 with a longer Retry-After', async () => {
    const { send, state } = await setup([{ before: OVERLOADED }]);
    await expect503(await send('/v1/me'), '5');
    expect(state.calls).toBe(1);
  });

  it('passes a non-transient error through as a 500 without retrying', async () => {
    const { send, state } = await setup([{ before: 'D1_ERROR: no such column: nope' }]);
    const res = await send('/v1/me');
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ code: 'internal_error' });
    expect(state.calls).toBe(1);
  });
});

describe('D1 failures on writes', () => {
  it('never retries a write batch; a failure before D1 leaves nothing written', async () => {
    const { send, state, stored } = await setup([{ before: LOST }]);
    const body = await expect503(
      await send('/v1/test-rename', { method: 'POST', body: JSON.stringify({ name: 'After' }) }),
      '2',
    );
    expect(body.detail).toContain('Idempotency-Key');
    expect(state.calls).toBe(1);
    expect(await stored()).toEqual({ name: 'Before', audits: 0 });
  });

  it('maps an overloaded database on a write to 503 and writes nothing', async () => {
    const { send, state, stored } = await setup([{ before: OVERLOADED }]);
    await expect503(await send('/v1/test-rename', { method: 'POST', body: JSON.stringify({ name: 'After' }) }), '5');
    expect(state.calls).toBe(1);
    expect(await stored()).toEqual({ name: 'Before', audits: 0 });
  });

  it('a connection lost after commit is not replayed: the change and its audit row exist exactly once', async () => {
    const { send, state, stored } = await setup([{ after: LOST }]);
    await expect503(await send('/v1/test-rename', { method: 'POST', body: JSON.stringify({ name: 'After' }) }), '2');
    expect(state.calls).toBe(1);
    expect(await stored()).toEqual({ name: 'After', audits: 1 });
  });

  it('the same write succeeds once the database is back, with one audit row', async () => {
    const { send, stored } = await setup([{ before: LOST }]);
    const init = { method: 'POST', body: JSON.stringify({ name: 'After' }) };
    expect((await send('/v1/test-rename', init)).status).toBe(503);
    expect((await send('/v1/test-rename', init)).status).toBe(200);
    expect(await stored()).toEqual({ name: 'After', audits: 1 });
  });
});
