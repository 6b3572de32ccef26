// Plan quotas hold for parallel import chunks: the check runs inside the chunk's write batch.
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { createTenant } from '../helpers/fixtures';
import { call } from '../memories/helpers';

const T = '2026-01-05T09:30:00.000Z';
let n = 0;
const exportedId = (prefix: string) => {
  n++;
  return `${prefix}_01J9Z3Q4W5${String(n).padStart(16, '0')}`;
};

const memory = () => ({
  type: 'memory',
  data: {
    id: exportedId('mem'),
    user_id: null,
    session_id: null,
    content: 'imported',
    tags: [],
    metadata: {},
    importance: 5,
    access_scope: 'global',
    source: null,
    embedding: null,
    version: 1,
    created_at: T,
    updated_at: T,
    deleted_at: null,
  },
});
const user = () => {
  const id = exportedId('usr');
  return {
    type: 'user',
    data: {
      id,
      auth0_id: `auth0|${id}`,
      email: `${id}@example.com`,
      name: null,
      role: 'member',
      kind: 'person',
      created_at: T,
      updated_at: T,
      deleted_at: null,
    },
  };
};

const send = (token: string, lines: unknown[]) =>
  call('/v1/import', {
    method: 'POST',
    token,
    body: lines.map((l) => JSON.stringify(l)).join('\n'),
    headers: { 'content-type': 'application/x-ndjson' },
  });

const counts = (tenantId: string) =>
  env.DB.prepare(
    `SELECT (SELECT count(*) FROM memories WHERE tenant_id = ?1 AND deleted_at IS NULL) AS memories,
            (SELECT memory_count FROM tenants WHERE id = ?1) AS counter,
            (SELECT count(*) FROM users WHERE tenant_id = ?1 AND deleted_at IS NULL) AS users`,
  )
    .bind(tenantId)
    .first<{ memories: number; counter: number; users: number }>();

/**
 * Runs chunk A with chunk B interleaved at the worst moment: B runs whole after A's quota checks
 * (A's first two round trips) and before A's write batch, as two parallel requests can.
 */
async function interleaved(token: string, a: unknown[], b: unknown[]) {
  // A known subject: the rate limiter would make B wait for a first (cold) request of it to end.
  expect((await call('/v1/me', { token })).status).toBe(200);
  const app = createApp();
  let batches = 0;
  let other: Response | undefined;
  // The app runs each request on a D1 session (src/db/session.ts): count the batches of that too.
  const counted = <T extends object>(db: T): T =>
    new Proxy(db, {
      get(target, prop) {
        if (prop === 'batch')
          return async (stmts: D1PreparedStatement[]) => {
            if (++batches === 3) other = await send(token, b);
            return (target as unknown as D1Database).batch(stmts);
          };
        if (prop === 'withSession')
          return (...args: unknown[]) =>
            counted((target as unknown as { withSession: (...a: unknown[]) => object }).withSession(...args));
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  const DB = counted(env.DB);
  const body = a.map((l) => JSON.stringify(l)).join('\n');
  const first = await app.request(
    '/v1/import',
    { method: 'POST', body, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' } },
    { ...env, DB },
  );
  return [first, other!] as const;
}

describe('parallel import chunks and plan quotas', () => {
  it('two chunks of 600 memories racing on the free plan (1,000): one is written, the other refused whole', async () => {
    const t = await createTenant();
    const token = await t.owner.token();
    const [a, b] = await interleaved(token, Array.from({ length: 600 }, memory), Array.from({ length: 600 }, memory));
    expect(b.status, (await b.clone().text()).slice(0, 300)).toBe(200);
    expect(a.status, (await a.clone().text()).slice(0, 300)).toBe(403);
    expect(((await a.json()) as { code: string }).code).toBe('quota_exceeded');
    expect(await counts(t.tenant.id)).toEqual({ memories: 600, counter: 600, users: 1 });
  });

  it('two chunks of 3 users racing on the free plan (5 users): the second is refused whole', async () => {
    const t = await createTenant();
    const token = await t.owner.token();
    const [a, b] = await interleaved(token, [user(), user(), user(), memory()], [user(), user(), user()]);
    expect(b.status, (await b.clone().text()).slice(0, 300)).toBe(200);
    expect(a.status, (await a.clone().text()).slice(0, 300)).toBe(403);
    expect(await counts(t.tenant.id)).toEqual({ memories: 0, counter: 0, users: 4 });
  });
});
