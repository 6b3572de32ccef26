import { beforeAll, describe, expect, it } from 'vitest';
import { PAGE_LIMIT_MAX } from '../../src/lib/limits';
import { createTenant } from '../helpers/fixtures';
import { call } from '../helpers/http';

// Limits and cursors on EVERY list operation in the published spec (GET with `limit` and `cursor`,
// no path parameters): bounds of `limit`, every documented string length, and cursors that are
// tampered with, forged, or taken from another tenant or another operation.

type Param = {
  name: string;
  in: string;
  required?: boolean;
  example?: unknown;
  schema: { type?: string; maxLength?: number };
};
interface ListOp {
  path: string;
  operationId: string;
  params: Param[];
}

let lists: ListOp[] = [];
let tokenA: string;
let tokenB: string;

/** Required query parameters get their documented example (search text matches the seeded memories). */
const base = (op: ListOp) => {
  const qs = new URLSearchParams();
  for (const p of op.params.filter((p) => p.in === 'query' && p.required))
    qs.set(p.name, String(p.example ?? 'dark mode'));
  return qs;
};
const url = (op: ListOp, extra: Record<string, string>) => {
  const qs = base(op);
  for (const [k, v] of Object.entries(extra)) qs.set(k, v);
  return `${op.path}?${qs}`;
};

beforeAll(async () => {
  const doc = await (await call('/openapi.json')).json<{
    paths: Record<string, Record<string, { operationId: string; parameters?: (Param | { $ref: string })[] }>>;
    components: { parameters?: Record<string, Param> };
  }>();
  // Shared parameters are `$ref`s to components.parameters.
  const resolved = (p: Param | { $ref: string }) =>
    '$ref' in p ? doc.components.parameters![p.$ref.split('/').pop()!]! : p;
  lists = Object.entries(doc.paths).flatMap(([path, item]) => {
    const op = item.get;
    const params = (op?.parameters ?? []).map(resolved);
    const names = params.map((p) => p.name);
    return op && !path.includes('{') && names.includes('limit') && names.includes('cursor')
      ? [{ path, operationId: op.operationId, params }]
      : [];
  });
  const a = await createTenant();
  const b = await createTenant();
  tokenA = await a.owner.token();
  await a.addUser('member'); // GET /v1/users needs a second page too
  for (const token of [tokenA, await b.owner.token()]) {
    for (const n of [1, 2]) {
      // GET /v1/invitations too
      const res = await call('/v1/invitations', {
        method: 'POST',
        token,
        json: { email: `invitee${n}@example.com`, role: 'member' },
      });
      expect(res.status).toBe(201);
    }
  }
  tokenB = await b.owner.token();
  for (const [n, token] of [1, 2, 3].flatMap(
    (n) =>
      [
        [n, tokenA],
        [n, tokenB],
      ] as const,
  )) {
    const res = await call('/v1/memories', {
      method: 'POST',
      token,
      json: { content: `dark mode preference number ${n}`, access_scope: 'global' },
    });
    expect(res.status).toBe(201);
    const session = await call('/v1/sessions', { method: 'POST', token, json: { mcp_client_id: `list-limits ${n}` } });
    expect(session.status).toBe(201);
    // GET /v1/webhooks too (disabled, at a closed local port: nothing is delivered)
    const hook = await call('/v1/webhooks', {
      method: 'POST',
      token,
      json: { url: 'http://127.0.0.1:9/hook', enabled: false },
    });
    expect(hook.status).toBe(201);
  }
});

describe('list limits, on every list operation of the spec', () => {
  it('finds the list operations', () => {
    expect(lists.map((l) => l.operationId)).toEqual(expect.arrayContaining(['listMemories', 'searchMemories']));
  });

  it(`refuses limit outside 1–${PAGE_LIMIT_MAX} with 400`, async () => {
    for (const op of lists) {
      for (const limit of [String(PAGE_LIMIT_MAX + 1), '0', '-1', 'ten']) {
        const res = await call(url(op, { limit }), { token: tokenA });
        expect(res.status, `${op.operationId} limit=${limit}`).toBe(400);
        expect(await res.json(), op.operationId).toMatchObject({ code: 'invalid_parameter' });
      }
      expect((await call(url(op, { limit: String(PAGE_LIMIT_MAX) }), { token: tokenA })).status, op.operationId).toBe(
        200,
      );
    }
  });

  it('refuses every string parameter one character over its documented maxLength with 400', async () => {
    let checked = 0;
    for (const op of lists) {
      for (const p of op.params.filter(
        (p) => p.in === 'query' && p.schema.type === 'string' && p.schema.maxLength !== undefined,
      )) {
        const res = await call(url(op, { [p.name]: 'a'.repeat(p.schema.maxLength! + 1) }), { token: tokenA });
        expect(res.status, `${op.operationId} ${p.name}`).toBe(400);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(lists.length); // at least the cursor of each
  });

  it("pages with its own cursor and refuses one that is edited, forged, another tenant's or another operation's", async () => {
    const firstPages = new Map<string, string>();
    for (const op of lists) {
      const res = await call(url(op, { limit: '1' }), { token: tokenA });
      expect(res.status, op.operationId).toBe(200);
      const page = await res.json<{ data: unknown[]; next_cursor: string | null }>();
      expect(page.next_cursor, `${op.operationId} has a second page`).toBeTruthy();
      firstPages.set(op.operationId, page.next_cursor!);
      expect(
        (await call(url(op, { limit: '1', cursor: page.next_cursor! }), { token: tokenA })).status,
        op.operationId,
      ).toBe(200);
    }
    for (const op of lists) {
      const own = firstPages.get(op.operationId)!;
      const [payload, sig] = own.split('.') as [string, string];
      const other = [...firstPages.entries()].find(([id]) => id !== op.operationId)?.[1];
      const bad: [string, string, string][] = [
        [
          'edited payload',
          tokenA,
          `${payload.slice(0, -2)}${payload.endsWith('A') ? 'B' : 'A'}${payload.slice(-1)}.${sig}`,
        ],
        ['edited signature', tokenA, `${payload}.${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`],
        ['forged', tokenA, `${btoa(JSON.stringify({ b: '', p: [0] })).replace(/=+$/, '')}.AAAA`],
        ['garbage', tokenA, 'not-a-cursor'],
        ["another tenant's", tokenB, own],
        ...(other ? [["another operation's", tokenA, other] as [string, string, string]] : []),
      ];
      for (const [name, token, cursor] of bad) {
        const res = await call(url(op, { limit: '1', cursor }), { token });
        expect(res.status, `${op.operationId}: ${name} cursor`).toBe(400);
      }
    }
  });
});
