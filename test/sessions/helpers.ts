import type { z } from '@hono/zod-openapi';
import { expect } from 'vitest';
import { ProblemSchema } from '../../src/lib/problem';
import { tenantDb } from '../helpers/fixtures';

/** Asserts the status, then parses the body with the route's declared schema (problem+json for errors). */
export async function expectBody<S extends z.ZodTypeAny>(
  res: Response,
  status: number,
  schema: S,
): Promise<z.infer<S>> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(status >= 400 ? /^application\/problem\+json/ : /^application\/json/);
  return schema.parse(JSON.parse(text));
}

/** Asserts a problem response with the given status and code. */
export async function expectProblem(res: Response, status: number, code: string) {
  const body = await expectBody(res, status, ProblemSchema);
  expect(body.code).toBe(code);
  return body;
}

export const auditActions = async (tenantId: string, resourceId: string) =>
  (
    await (
      await tenantDb(tenantId)
    )
      .prepare('SELECT action FROM audit_logs WHERE tenant_id = ?1 AND resource_id = ?2 ORDER BY created_at, id')
      .bind(tenantId, resourceId)
      .all<{ action: string }>()
  ).results.map((r) => r.action);

export const roundTrips = (res: Response) =>
  Number(/round_trips=(\d+)/.exec(res.headers.get('server-timing') ?? '')?.[1]);
export const rowsWritten = (res: Response) =>
  Number(/rows_written=(\d+)/.exec(res.headers.get('server-timing') ?? '')?.[1]);
