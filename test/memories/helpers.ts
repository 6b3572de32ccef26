import type { z } from '@hono/zod-openapi';
import { expect } from 'vitest';
import { newId } from '../../src/lib/ids';
import { ProblemSchema } from '../../src/lib/problem';
import { MemoryListSchema, MemoryPageSchema, MemorySchema, SearchPageSchema } from '../../src/routes/memories/schemas';
import { createTenant, type TestUser, tenantDb } from '../helpers/fixtures';
import { call } from '../helpers/http';

export type Memory = z.infer<typeof MemorySchema>;

/** Parses a body against the route's declared schema, refusing unknown keys. */
export const asMemory = (body: unknown) => MemorySchema.strict().parse(body);
export const asPage = (body: unknown) => {
  const page = MemoryPageSchema.strict().parse(body);
  page.data.forEach(asMemory);
  return page;
};
export const asSearchPage = (body: unknown) => SearchPageSchema.strict().parse(body);
export const asList = (body: unknown) => MemoryListSchema.strict().parse(body);

/** Asserts a problem+json response with the status and code, and returns its body. */
export async function expectProblem(res: Response, status: number, code: string) {
  expect(res.status, await res.clone().text()).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const body = ProblemSchema.strict().parse(await res.json());
  expect(body.code).toBe(code);
  return body;
}

/** `Server-Timing` numbers of a response. */
export function d1Stats(res: Response) {
  const m = /round_trips=(\d+) rows_read=(\d+) rows_written=(\d+)/.exec(res.headers.get('server-timing') ?? '');
  if (!m) throw new Error('no Server-Timing');
  return { roundTrips: Number(m[1]), rowsRead: Number(m[2]), rowsWritten: Number(m[3]) };
}

export async function tokenOf(user: TestUser, scopes?: string[]) {
  return user.token(scopes ? { scopes } : {});
}

/** Creates a memory through the API (201 asserted). */
export async function createMemory(
  token: string,
  json: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<Memory> {
  const res = await call('/v1/memories', { method: 'POST', token, json: { content: 'a memory', ...json }, headers });
  expect(res.status, await res.clone().text()).toBe(201);
  return asMemory(await res.json());
}

/** A live session of `user`, inserted directly (the sessions API has its own tests). */
export async function insertSession(user: TestUser, opts: { expired?: boolean } = {}) {
  const id = newId('ses');
  const now = Date.now();
  await (await tenantDb(user.tenantId))
    .prepare(
      'INSERT INTO sessions (id, tenant_id, user_id, mcp_client_id, created_at, last_activity_at, expired_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)',
    )
    .bind(id, user.tenantId, user.id, 'test-client', now, opts.expired ? now : null)
    .run();
  return id;
}

export async function auditRows(tenantId: string, resourceId?: string) {
  const { results } = await (await tenantDb(tenantId))
    .prepare(
      `SELECT * FROM audit_logs WHERE tenant_id = ?1 AND resource_type = 'memory' ${resourceId ? 'AND resource_id = ?2' : ''} ORDER BY created_at, id`,
    )
    .bind(tenantId, ...(resourceId ? [resourceId] : []))
    .all<{
      action: string;
      resource_id: string;
      user_id: string;
      old_values: string | null;
      new_values: string | null;
      ip: string | null;
      user_agent: string | null;
      request_id: string;
    }>();
  return results;
}

export async function memoryCount(tenantId: string) {
  const row = await (await tenantDb(tenantId))
    .prepare(
      'SELECT memory_count AS n, (SELECT count(*) FROM memories WHERE tenant_id = ?1 AND deleted_at IS NULL) AS live FROM tenants WHERE id = ?1',
    )
    .bind(tenantId)
    .first<{ n: number; live: number }>();
  return row!;
}

/** Two users (owner + member) in one tenant and a user in another tenant. */
export async function world() {
  const a = await createTenant('Tenant A');
  const member = await a.addUser('member');
  const admin = await a.addUser('admin');
  const b = await createTenant('Tenant B');
  return {
    a,
    owner: a.owner,
    member,
    admin,
    other: b.owner,
    tokens: {
      owner: await a.owner.token(),
      member: await member.token(),
      admin: await admin.token(),
      other: await b.owner.token(),
    },
  };
}

export { call };
