import { describe, expect, it } from 'vitest';
import { mintToken } from '../helpers/tokens';
import { asPage, call, createMemory, expectProblem, memoryCount, world } from './helpers';

const ID = 'mem_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3';
/** Every memories route: [method, path, body, scope it needs]. */
const ROUTES: [string, string, unknown, string][] = [
  ['POST', '/v1/memories', { content: 'x' }, 'write:memories'],
  ['POST', '/v1/memories/batch', { memories: [{ content: 'x' }] }, 'write:memories'],
  ['GET', '/v1/memories', undefined, 'read:memories'],
  ['GET', '/v1/memories/search?q=x', undefined, 'read:memories'],
  ['GET', `/v1/memories/${ID}`, undefined, 'read:memories'],
  ['PATCH', `/v1/memories/${ID}`, { content: 'y' }, 'write:memories'],
  ['DELETE', `/v1/memories/${ID}`, undefined, 'write:memories'],
  ['POST', `/v1/memories/${ID}/restore`, undefined, 'write:memories'],
  ['POST', `/v1/memories/${ID}/tags`, { tags: ['a'] }, 'write:memories'],
  ['DELETE', `/v1/memories/${ID}/tags/a`, undefined, 'write:memories'],
  ['GET', '/v1/audit-logs', undefined, 'read:audit_logs'],
  ['GET', '/v1/audit-logs/aud_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3', undefined, 'read:audit_logs'],
];

describe('memories and audit logs: security', () => {
  it.each(ROUTES)(
    '%s %s: no token, a bad token → 401; an unknown subject → 403 not_provisioned',
    async (method, path, json) => {
      await expectProblem(await call(path, { method, json }), 401, 'invalid_token');
      await expectProblem(
        await call(path, { method, json, token: await mintToken({ sub: 'auth0|x', key: 'untrusted' }) }),
        401,
        'invalid_token',
      );
      await expectProblem(
        await call(path, { method, json, token: await mintToken({ sub: 'auth0|x', expiresIn: -3600 }) }),
        401,
        'invalid_token',
      );
      await expectProblem(
        await call(path, { method, json, token: await mintToken({ sub: 'auth0|nobody-here' }) }),
        403,
        'not_provisioned',
      );
    },
  );

  it.each(ROUTES)('%s %s: a token without the scope → 403 insufficient_scope', async (method, path, json, scope) => {
    const w = await world();
    const others = ['read:memories', 'write:memories', 'read:audit_logs', 'read:sessions'].filter((s) => s !== scope);
    await expectProblem(
      await call(path, { method, json, token: await w.owner.token({ scopes: others }) }),
      403,
      'insufficient_scope',
    );
  });

  it("another tenant's memory is 404 everywhere (even global), and it is left untouched", async () => {
    const w = await world();
    const m = await createMemory(w.tokens.owner, { access_scope: 'global', content: 'secret plans', tags: ['t'] });
    const t = w.tokens.other;
    await expectProblem(await call(`/v1/memories/${m.id}`, { token: t }), 404, 'not_found');
    await expectProblem(
      await call(`/v1/memories/${m.id}`, { method: 'PATCH', token: t, json: { content: 'pwned' } }),
      404,
      'not_found',
    );
    await expectProblem(
      await call(`/v1/memories/${m.id}/tags`, { method: 'POST', token: t, json: { tags: ['x'] } }),
      404,
      'not_found',
    );
    await expectProblem(await call(`/v1/memories/${m.id}/tags/t`, { method: 'DELETE', token: t }), 404, 'not_found');
    await expectProblem(await call(`/v1/memories/${m.id}`, { method: 'DELETE', token: t }), 404, 'not_found');
    await expectProblem(
      await call(`/v1/memories/${m.id}?permanent=true`, { method: 'DELETE', token: t }),
      404,
      'not_found',
    );
    await expectProblem(await call(`/v1/memories/${m.id}/restore`, { method: 'POST', token: t }), 404, 'not_found');
    expect(asPage(await (await call('/v1/memories', { token: t })).json()).data).toEqual([]);
    expect(
      ((await (await call('/v1/memories/search?q=secret', { token: t })).json()) as { data: unknown[] }).data,
    ).toEqual([]);
    const still = (await (await call(`/v1/memories/${m.id}`, { token: w.tokens.owner })).json()) as {
      content: string;
      version: number;
    };
    expect(still).toMatchObject({ content: 'secret plans', version: 1 });
  });

  it('permanent delete needs owner or admin: a member gets 403 and the memory stays', async () => {
    const w = await world();
    const m = await createMemory(w.tokens.member, { access_scope: 'global' });
    await expectProblem(
      await call(`/v1/memories/${m.id}?permanent=true`, { method: 'DELETE', token: w.tokens.member }),
      403,
      'insufficient_role',
    );
    expect((await memoryCount(w.owner.tenantId)).live).toBe(1);
    expect(
      (await call(`/v1/memories/${m.id}?permanent=true`, { method: 'DELETE', token: w.tokens.admin })).status,
    ).toBe(204);
    expect(await memoryCount(w.owner.tenantId)).toEqual({ n: 0, live: 0 });
  });

  it('the tenant comes from the token only: a body tenant or user is refused, a query or header one ignored', async () => {
    const w = await world();
    const refused = await call('/v1/memories', {
      method: 'POST',
      token: w.tokens.other,
      json: { content: 'mine', tenant_id: w.owner.tenantId, user_id: w.owner.id },
    });
    const problem = await expectProblem(refused, 422, 'validation_failed');
    expect(problem.errors?.map((e) => e.path).sort()).toEqual(['json.tenant_id', 'json.user_id']);
    const res = await call(`/v1/memories?tenant_id=${w.owner.tenantId}`, {
      method: 'POST',
      token: w.tokens.other,
      json: { content: 'mine' },
      headers: { 'x-tenant-id': w.owner.tenantId },
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { user_id: string }).user_id).toBe(w.other.id);
    expect((await memoryCount(w.owner.tenantId)).live).toBe(0);
    expect((await memoryCount(w.other.tenantId)).live).toBe(1);
  });
});
