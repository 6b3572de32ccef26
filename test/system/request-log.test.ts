import { createScheduledController, env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import worker from '../../src/index';
import { faultyD1 } from '../hardening/faulty-d1';
import { appWithTestRoutes } from '../hardening/test-app';
import { createTenant } from '../helpers/fixtures';
import { call } from '../helpers/http';
import { createMemory } from '../memories/helpers';

// Observability: one JSON line per request, errors with their stack (never sent), one line per cron run.
const lines = (spy: { mock: { calls: unknown[][] } }) =>
  spy.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);

afterEach(() => vi.restoreAllMocks());

describe('request log', () => {
  it('writes one line per request: id, tenant, route, status, duration, D1 cost and rate-limit outcome', async () => {
    const { owner } = await createTenant();
    const token = await owner.token();
    const { id } = await createMemory(token, { content: 'logged coffee' });
    await call(`/v1/memories/${id}`, { token }); // warm

    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const res = await call(`/v1/memories/${id}`, { token, headers: { 'x-request-id': 'trace-log-1' } });
    expect(res.status).toBe(200);
    const requests = lines(log).filter((l) => l.event === 'request');
    expect(requests).toHaveLength(1);
    expect(requests[0]).toEqual({
      event: 'request',
      request_id: 'trace-log-1',
      tenant: owner.tenantId,
      method: 'GET',
      route: '/v1/memories/:id',
      status: 200,
      duration_ms: expect.any(Number),
      d1_round_trips: 1,
      d1_rows_read: expect.any(Number),
      d1_rows_written: 0,
      rate_limit: 'allowed',
    });
    // The pattern, never the id or the token.
    expect(log.mock.calls[0]?.[0]).not.toContain(id);
    expect(log.mock.calls[0]?.[0]).not.toContain(token);
  });

  it('logs unauthenticated and unknown routes too, with no tenant', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
    await call('/health');
    await call('/v1/nothing-here');
    await call('/v1/me');
    expect(lines(log).map((l) => [l.route, l.status, l.tenant, l.rate_limit])).toEqual([
      ['/health', 200, null, 'none'],
      [null, 404, null, 'none'],
      ['/v1/me', 401, null, 'none'],
    ]);
  });

  it('logs an unexpected error with its stack; the client gets the request id and nothing else', async () => {
    const { owner } = await createTenant();
    const { binding } = faultyD1(env.DB, [{ before: 'D1_ERROR: no such column: secret_internal_name' }]);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const res = await appWithTestRoutes().request(
      '/v1/me',
      { headers: { authorization: `Bearer ${await owner.token()}`, 'x-request-id': 'trace-err-1' } },
      { ...env, DB: binding },
    );
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(body).not.toMatch(/secret_internal_name|at |stack/);
    expect(JSON.parse(body)).toMatchObject({ code: 'internal_error', request_id: 'trace-err-1' });
    const logged = lines(error).find((l) => l.event === 'unhandled_error');
    expect(logged).toMatchObject({
      request_id: 'trace-err-1',
      message: expect.stringContaining('secret_internal_name'),
    });
    expect(String(logged?.stack)).toMatch(/\n\s+at /);
    expect(lines(log).find((l) => l.event === 'request')).toMatchObject({ request_id: 'trace-err-1', status: 500 });
  });
});

describe('cron log', () => {
  it('writes one summary line per run', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: '*/5 * * * *' }), env);
    expect(lines(log)).toEqual([
      expect.objectContaining({
        event: 'maintenance',
        cron: '*/5 * * * *',
        duration_ms: expect.any(Number),
        queries: expect.any(Number),
        complete: true,
      }),
    ]);
  });
});
