import type { RouteConfig, z } from '@hono/zod-openapi';
import { expect } from 'vitest';
import { ProblemSchema } from '../../src/lib/problem';
import { sharedComponents } from '../../src/lib/route';

type ProblemNarrowing = { allOf: [unknown, { properties: { code: { enum: string[] } } }] };

/**
 * Asserts the response has `status`, that the route declares that status, and that the body
 * matches the declared schema (JSON bodies) or is empty (no declared content). Returns the body.
 */
export async function checked<T = Record<string, unknown>>(
  route: RouteConfig,
  res: Response,
  status: number,
): Promise<T> {
  const text = await res.text();
  expect(res.status, `${route.method.toUpperCase()} ${route.path} → ${res.status}: ${text}`).toBe(status);
  const declared = route.responses[status] as
    | { $ref?: string; content?: Record<string, { schema: z.ZodType }> }
    | undefined;
  expect(declared, `${route.operationId} does not declare ${status}`).toBeDefined();
  if (declared?.$ref) {
    // A problem response: the Problem schema, with one of the codes the response lists.
    const shared = sharedComponents().responses[declared.$ref.split('/').pop()!];
    expect(shared, `${declared.$ref} is not a shared response`).toBeDefined();
    const narrowing = shared!.content['application/problem+json'].schema as ProblemNarrowing;
    const codes = narrowing.allOf[1].properties.code.enum;
    const body = ProblemSchema.parse(JSON.parse(text));
    expect(codes, `${route.operationId} ${status} does not list the code ${body.code}`).toContain(body.code);
    return body as T;
  }
  if (!declared!.content) {
    expect(text).toBe('');
    return undefined as T;
  }
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  const schema = declared!.content[type]?.schema;
  expect(schema, `${route.operationId} ${status} declares no ${type} body`).toBeDefined();
  const body = JSON.parse(text) as unknown;
  const parsed = schema!.safeParse(body);
  expect(
    parsed.success,
    `${route.operationId} ${status} body does not match its schema: ${JSON.stringify(parsed.error?.issues)}`,
  ).toBe(true);
  return body as T;
}

/** The Server-Timing D1 figures of a response. */
export function d1Stats(res: Response) {
  const m = /round_trips=(\d+) rows_read=(\d+) rows_written=(\d+)/.exec(res.headers.get('server-timing') ?? '');
  expect(m, 'Server-Timing d1 entry').not.toBeNull();
  return { roundTrips: Number(m![1]), rowsRead: Number(m![2]), rowsWritten: Number(m![3]) };
}
