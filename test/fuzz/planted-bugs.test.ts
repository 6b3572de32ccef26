import { env } from 'cloudflare:test';
import { z } from '@hono/zod-openapi';
import { describe, expect, it, vi } from 'vitest';
import { createApp } from '../../src/app';
import { runAsCaller } from '../../src/auth/caller';
import { withCaller } from '../../src/db/caller';
import { ApiError } from '../../src/lib/problem';
import { securedRoute } from '../../src/lib/route';
import { fuzzContract } from './engine';

// The fuzzer must be able to fail: an app with one planted defect of each kind it claims to
// catch, fuzzed briefly, must be reported for every one of them.
function buggyApp() {
  const app = createApp();
  const Rename = z.object({ name: z.string().min(1).max(50) }).openapi('BuggyRename');
  app.openapi(
    securedRoute(['manage:tenant'], {
      method: 'post',
      path: '/v1/buggy-rename',
      operationId: 'buggyRename',
      request: { body: { required: true, content: { 'application/json': { schema: Rename } } } },
      responses: {
        200: { description: 'ok', content: { 'application/json': { schema: Rename } } },
      },
    }),
    async (c) => {
      const body = (await c.req.json()) as { name: string; plan?: string };
      const sub = c.get('auth').sub;
      // Defects: no audit row; a `plan` field in the body is applied (mass assignment).
      await runAsCaller(c, [
        c.env.DB.prepare(
          withCaller(
            'UPDATE tenants SET name = ?2, plan = coalesce(?3, plan), updated_at = ?4 WHERE id = (SELECT tenant_id FROM caller)',
          ),
        ).bind(sub, body.name, ['free', 'pro', 'team'].includes(body.plan ?? '') ? body.plan : null, Date.now()),
      ]);
      // Defect: a refused request that has already written.
      if (body.name.startsWith('a')) throw new ApiError('validation_failed', 'names may not start with a');
      return c.json({ name: body.name }, 200);
    },
  );
  app.openapi(
    securedRoute([], {
      method: 'get',
      path: '/v1/buggy-count',
      operationId: 'buggyCount',
      request: { query: z.object({ n: z.coerce.number().int().min(1).max(10) }) },
      responses: {
        200: { description: 'ok', content: { 'application/json': { schema: z.object({ count: z.number().int() }) } } },
      },
    }),
    async (c) => {
      const { n } = c.req.valid('query');
      await runAsCaller(c, []);
      if (n === 1) throw new Error('boom'); // defect: a 500
      if (n === 2) return c.json({ count: n }, 418 as 200); // defect: an undeclared status
      if (n === 3) return c.json({ count: 'three' as unknown as number }, 200); // defect: body off-schema
      return c.json({ count: n }, 200);
    },
  );
  return app;
}

describe('the contract fuzzer itself', () => {
  it('reports each kind of planted defect', { timeout: 120_000 }, async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const app = buggyApp();
    const run = await fuzzContract({
      send: async (path, init) => app.request(path, init, env),
      seed: 1,
      totalRequests: 400,
      minPerOperation: 200,
      only: (op) => op.path.startsWith('/v1/buggy-'),
      maxFailures: 100_000,
    });
    const report = run.failures.join('\n');
    expect(run.operations).toBe(2);
    expect(report).toContain('server error');
    expect(report).toMatch(/status 418 is not declared/);
    expect(report).toMatch(/body does not match the 200 schema/);
    expect(report).toMatch(/changed data but left no audit row/);
    expect(report).toMatch(/a failed request changed the tenant's data/);
    expect(report).toMatch(/mass assignment: the tenant's plan became free/);
  });
});
