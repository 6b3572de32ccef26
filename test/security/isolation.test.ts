// The isolation and role matrices, generated from the live /openapi.json: every /v1 operation
// that takes a path parameter is called by tenant B on tenant A's resource (404, never 200/403),
// list-style reads of tenant B never mention tenant A's ids, and every operation refuses the roles
// it does not allow with 403 insufficient_role. Fixtures live in ./operations.ts; an operation
// without one FAILS here.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/db/caller';
import {
  ANY_ROLE,
  createWorld,
  describeOp,
  fixtureFor,
  invoke,
  OPERATIONS,
  type Operation,
  type TenantWorld,
  v1Operations,
} from './operations';

const operations = await v1Operations();
const byPath = operations.filter((op) => op.pathParams.length > 0);
const lists = operations.filter((op) => op.method === 'GET' && op.pathParams.length === 0);
const named = (ops: Operation[]) => ops.map((op) => [describeOp(op), op] as const);

let A: TenantWorld;
let B: TenantWorld;

beforeAll(async () => {
  [A, B] = [await createWorld('Tenant A'), await createWorld('Tenant B')];
  // Give tenant A one resource of every kind, so tenant B's list reads have something to leak.
  for (const op of byPath) await OPERATIONS[op.operationId]?.params?.(A);
});

describe('fixture coverage', () => {
  it('has a fixture for every /v1 operation in the spec', () => {
    const missing = operations.filter(
      (op) => !OPERATIONS[op.operationId] || (op.pathParams.length > 0 && !OPERATIONS[op.operationId]!.params),
    );
    expect(
      missing.map(describeOp),
      'These operations have no entry (or no params()) in OPERATIONS in test/security/operations.ts; add one so the security matrices cover them',
    ).toEqual([]);
  });

  it('has no stale fixture for an operation that no longer exists', () => {
    const live = new Set(operations.map((op) => op.operationId));
    expect(Object.keys(OPERATIONS).filter((id) => !live.has(id))).toEqual([]);
  });
});

describe('cross-tenant access is a 404', () => {
  it.each(named(byPath))("%s on tenant A's resource, called by tenant B", async (_n, op) => {
    const fixture = fixtureFor(op);
    const params = await fixture.params!(A);
    // Tenant A's view of the resource (the closest GET above this path), before and after B tries.
    const read = operations
      .filter((o) => o.method === 'GET' && o.pathParams.length > 0 && op.path.startsWith(o.path))
      .sort((x, y) => y.path.length - x.path.length)[0];
    const readAsA = async () => {
      const res = await invoke(read!, await A.owner.token(), {
        params,
        query: OPERATIONS[read!.operationId]?.query?.(A),
      });
      expect(res.status, `tenant A cannot read its own resource via ${describeOp(read!)}`).toBe(200);
      return res.text();
    };
    const before = read ? await readAsA() : undefined;

    const callers: [Role, TenantWorld['owner']][] = [
      ['owner', B.owner],
      ['admin', B.admin],
      ['member', B.member],
    ];
    for (const [role, caller] of callers) {
      const res = await invoke(op, await caller.token(), {
        params,
        body: fixture.body?.(B),
        query: fixture.query?.(B),
      });
      const text = await res.text();
      // A role tenant B's caller lacks may be refused first (that reveals nothing about A); never a 200.
      expect(
        fixture.roles.includes(role) ? [404] : [403, 404],
        `${role} of tenant B got ${res.status}: ${text}`,
      ).toContain(res.status);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      // (The ids B itself sent may be echoed in the detail; any OTHER id of A would be a leak.)
      for (const id of A.ids)
        if (!Object.values(params).includes(id))
          expect(text, `${role} of tenant B saw tenant A's id ${id}`).not.toContain(id);
    }
    // Nothing tenant B did changed tenant A's resource.
    if (read) expect(await readAsA(), `tenant B's ${op.method} changed tenant A's resource`).toBe(before);
  });

  it.each(named(lists))('%s by tenant B never mentions tenant A', async (_n, op) => {
    const fixture = fixtureFor(op);
    for (const caller of [B.owner, B.admin, B.member]) {
      const res = await invoke(op, await caller.token(), { query: fixture.query?.(B) });
      expect(res.status).toBeLessThan(500);
      const text = await res.text();
      for (const id of A.ids) expect(text, `tenant B's ${op.operationId} shows tenant A's id ${id}`).not.toContain(id);
    }
  });
});

describe('roles', () => {
  it.each(named(operations))('%s: refused roles get 403 insufficient_role, allowed roles do not', async (_n, op) => {
    const fixture = fixtureFor(op);
    const world = await createWorld('Role matrix'); // its own tenant: allowed calls may really run
    const params = await fixture.params?.(world);
    const request = async (role: Role) =>
      invoke(op, await world[role].token(), { params, body: fixture.body?.(world), query: fixture.query?.(world) });
    for (const role of ANY_ROLE.filter((r) => !fixture.roles.includes(r))) {
      const res = await request(role);
      expect(res.status, `${role} should be refused`).toBe(403);
      expect(await res.json()).toMatchObject({ code: 'insufficient_role' });
    }
    // Least privileged first: an allowed destructive call by the owner comes last.
    for (const role of (['member', 'admin', 'owner'] as const).filter((r) => fixture.roles.includes(r))) {
      const res = await request(role);
      const text = await res.text();
      expect(res.status, `${role} is allowed but got ${res.status}: ${text}`).not.toBe(403);
      expect(res.status, text).not.toBe(401);
      expect(res.status, text).toBeLessThan(500);
    }
  });
});
