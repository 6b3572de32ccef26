// The spec is the source of truth for scopes: every /v1 operation declares its bearerAuth scopes,
// and for EVERY operation (iterated from the live /openapi.json, so new routes are covered
// automatically) the enforced scopes equal the declared ones.
import { describe, expect, it } from 'vitest';
import { ALL_SCOPES, SCOPES } from '../../src/auth/scopes';
import { createTenant } from '../helpers/fixtures';
import { describeOp, invoke, loadSpec, type Operation, v1Operations } from './operations';

const spec = await loadSpec();
const operations = await v1Operations(spec);
const scoped = operations.flatMap((op) => op.scopes.map((scope) => [describeOp(op), op, scope] as const));
/** Stand-ins for path parameters: the scope check runs before validation, so any value will do. */
const placeholders = (op: Operation) => Object.fromEntries(op.pathParams.map((p) => [p, `${p}_placeholder`]));

describe('declared scopes (the published contract)', () => {
  it('lists the operations it checks (sanity: the spec has /v1 routes)', () => {
    expect(operations.map((o) => o.operationId)).toEqual(expect.arrayContaining(['getMe', 'createTenant']));
  });

  it.each(operations.map((op) => [describeOp(op), op] as const))(
    '%s declares exactly one bearerAuth requirement with known scopes',
    (_n, op) => {
      const declared = spec.paths[op.path]![op.method.toLowerCase()]!.security;
      expect(declared).toEqual([{ bearerAuth: op.scopes }]);
      expect(op.scopes.every((s) => s in SCOPES)).toBe(true);
      expect(new Set(op.scopes).size).toBe(op.scopes.length);
    },
  );

  it('needs only a valid token (no scope) for GET /v1/me and POST /v1/tenants, by design', () => {
    // /v1/me: anyone may ask who they are. /v1/tenants: a new sign-up has no Auth0 permissions yet.
    const byId = Object.fromEntries(operations.map((o) => [o.operationId, o]));
    expect(byId.getMe!.scopes).toEqual([]);
    expect(byId.createTenant!.scopes).toEqual([]);
  });

  it('keeps the public endpoints outside /v1 free of any requirement', () => {
    for (const [path, methods] of Object.entries(spec.paths)) {
      if (path.startsWith('/v1/')) continue;
      for (const op of Object.values(methods)) expect(op.security ?? [], path).toEqual([]);
    }
  });
});

describe('enforced scopes equal declared scopes', () => {
  it.each(scoped)('%s: without %s (all other scopes granted) → 403 insufficient_scope', async (_n, op, scope) => {
    const { owner } = await createTenant();
    const token = await owner.token({ scopes: ALL_SCOPES.filter((s) => s !== scope) });
    const res = await invoke(op, token, { params: placeholders(op) });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({
      status: 403,
      code: 'insufficient_scope',
      detail: expect.stringContaining(scope),
    });
    // The challenge names exactly the declared scopes: the enforced list IS the declared list.
    const challenge = /scope="([^"]*)"/.exec(res.headers.get('www-authenticate') ?? '')?.[1];
    expect(challenge?.split(' ').sort()).toEqual([...op.scopes].sort());
  });

  it.each(operations.map((op) => [describeOp(op), op] as const))(
    '%s: exactly the declared scopes are enough',
    async (_n, op) => {
      const { owner } = await createTenant(); // a throwaway tenant: this may really run the operation
      const res = await invoke(op, await owner.token({ scopes: op.scopes }), { params: placeholders(op) });
      expect(res.status, await res.clone().text()).not.toBe(401);
      expect(res.status).toBeLessThan(500);
      if (res.status === 403) expect(await res.json()).not.toMatchObject({ code: 'insufficient_scope' });
    },
  );

  it('takes scopes from the RBAC permissions claim just as from scope', async () => {
    for (const op of operations.filter((o) => o.scopes.length > 0)) {
      const { owner } = await createTenant();
      const missing = await invoke(op, await owner.token({ scopes: op.scopes.slice(1), asPermissions: true }), {
        params: placeholders(op),
      });
      expect(missing.status, describeOp(op)).toBe(403);
      const enough = await invoke(op, await owner.token({ scopes: op.scopes, asPermissions: true }), {
        params: placeholders(op),
      });
      const code = enough.status === 403 ? (await enough.json<{ code: string }>()).code : undefined;
      expect([enough.status, code], describeOp(op)).not.toContain(401);
      expect(code, describeOp(op)).not.toBe('insufficient_scope');
    }
  });
});
