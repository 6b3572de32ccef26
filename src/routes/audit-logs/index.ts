// GET /v1/audit-logs and /v1/audit-logs/{id}: read-only (no route changes or deletes audit rows;
// the table's triggers refuse it too). Owners and admins with scope read:audit_logs.
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { requireRole, runAsCaller } from '../../auth/caller';
import { type AuditRow, getAuditLogStatement, listAuditLogsStatement, toAuditLog } from '../../db/audit';
import type { AppEnv } from '../../env';
import { cursorBinding, decodeCursor, encodeCursor } from '../../lib/cursor';
import { demoId, idPattern } from '../../lib/ids';
import { PageQuerySchema, pageSchema } from '../../lib/pagination';
import { ApiError } from '../../lib/problem';
import { problemResponses, securedRoute } from '../../lib/route';
import { fromIso } from '../../lib/time';
import { DateTimeParam } from '../memories/schemas';

export const auditLogs = new OpenAPIHono<AppEnv>();

const AuditLogSchema = z
  .object({
    id: z.string().max(30).openapi({ example: 'aud_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3' }),
    user_id: z
      .string()
      .max(30)
      .nullable()
      .openapi({ description: 'Who did it (null if that user was since removed).' }),
    action: z.string().max(64).openapi({
      example: 'memory.update',
      description:
        'e.g. memory.create, memory.batch_create, memory.update, memory.tags_add, memory.tag_remove, memory.delete, memory.restore, memory.purge, tenant.create.',
    }),
    resource_type: z.string().max(64).openapi({ example: 'memory' }),
    resource_id: z.string().max(64).nullable().openapi({ example: 'mem_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3' }),
    old_values: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: 'The changed fields before the change, or null.', example: { importance: 3 } }),
    new_values: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: 'The changed fields after the change, or null.', example: { importance: 8 } }),
    values_redacted: z.boolean().openapi({
      description:
        'true when the entry is about a memory the caller may not see now (private or session memory of someone else, or purged): ' +
        "`old_values`/`new_values` then keep the changed field names with null values. The owner's export keeps every value.",
      example: false,
    }),
    ip: z.string().max(512).nullable().openapi({ description: 'CF-Connecting-IP of the request.' }),
    user_agent: z.string().max(512).nullable(),
    request_id: z.string().max(128).nullable(),
    created_at: z.string().max(40).openapi({ format: 'date-time', example: '2026-01-01T12:00:00.000Z' }),
    imported: z
      .object({
        request_id: z.string().max(128).openapi({ example: 'req_01J9Z3Q4W5E6R7T8Y9V0W1X2Y4' }),
        imported_at: z.string().max(40).openapi({ format: 'date-time', example: '2026-02-01T08:00:00.000Z' }),
      })
      .nullable()
      .openapi({
        description:
          'Set when the entry came in through `POST /v1/import` (the importing request and when): its other fields are what the imported file says, ' +
          "not what this tenant recorded. null for the tenant's own trail.",
      }),
  })
  .openapi('AuditLog', {
    example: {
      id: 'aud_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3',
      user_id: 'usr_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3',
      action: 'memory.update',
      resource_type: 'memory',
      resource_id: 'mem_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3',
      old_values: { importance: 3 },
      new_values: { importance: 8 },
      values_redacted: false,
      ip: '203.0.113.7',
      user_agent: 'memoria-client/0.1.0',
      request_id: 'req_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3',
      created_at: '2026-01-01T12:00:00.000Z',
      imported: null,
    },
  });

const name = z.string().min(1).max(64);

const ListQuery = PageQuerySchema.extend({
  resource_type: name.optional().openapi({
    description: 'Only entries about this kind of resource: `memory`, `session`, `user`, `tenant` or `subscription`.',
    example: 'memory',
  }),
  resource_id: z.string().min(1).max(64).optional().openapi({
    description: 'Only entries about this resource (its id, e.g. `mem_…`).',
    example: 'mem_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3',
  }),
  user_id: z
    .string()
    .max(30)
    .regex(idPattern('usr'), 'must be a user id (usr_…)')
    .optional()
    .openapi({ description: 'Only entries made by this user (`usr_…`).', example: 'usr_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3' }),
  action: name.optional().openapi({
    description:
      'Only entries of this action: `memory.create`, `memory.batch_create`, `memory.update`, `memory.tags_add`, `memory.tag_remove`, `memory.delete`, `memory.restore`, `memory.purge`, ' +
      '`session.create`, `session.heartbeat`, `session.end`, `session.expire`, `user.create`, `user.update`, `user.delete`, ' +
      '`tenant.create`, `tenant.update`, `tenant.delete`, `tenant.restore`, `tenant.import`, `subscription.update`.',
    example: 'memory.delete',
  }),
  since: DateTimeParam.optional().openapi({
    description: 'RFC 3339; entries at or after.',
    example: '2026-01-01T00:00:00Z',
  }),
  until: DateTimeParam.optional().openapi({
    description: 'RFC 3339; entries strictly before.',
    example: '2100-01-01T00:00:00Z',
  }),
  origin: z.enum(['native', 'imported']).optional().openapi({
    description:
      "`native`: only the tenant's own trail; `imported`: only entries that came in through `POST /v1/import`.",
    example: 'native',
  }),
});

auditLogs.openapi(
  securedRoute(['read:audit_logs'], {
    method: 'get',
    path: '/v1/audit-logs',
    operationId: 'listAuditLogs',
    tags: ['Audit logs'],
    summary: 'List audit log entries',
    description:
      "The tenant's audit trail, newest first, filtered; keyset-paginated. Owners and admins only (403 `insufficient_role`).",
    request: { query: ListQuery },
    responses: {
      200: {
        description: 'A page of entries.',
        content: { 'application/json': { schema: pageSchema(AuditLogSchema, 'AuditLogPage') } },
      },
      ...problemResponses('insufficient_role'),
    },
  }),
  async (c) => {
    const q = c.req.valid('query');
    const sub = c.get('auth').sub;
    const binding = cursorBinding(sub, 'listAuditLogs', q);
    let after: [number, string] | undefined;
    if (q.cursor) {
      const p = await decodeCursor(c.env, binding, q.cursor);
      if (typeof p[0] !== 'number' || typeof p[1] !== 'string')
        throw new ApiError('invalid_cursor', 'The cursor is invalid.', {
          errors: [{ path: 'query.cursor', message: 'invalid cursor' }],
        });
      after = [p[0], p[1]];
    }
    const filters = {
      ...q,
      since: q.since === undefined ? undefined : fromIso(q.since),
      until: q.until === undefined ? undefined : fromIso(q.until),
    };
    const { caller, results } = await runAsCaller(c, [listAuditLogsStatement(c.env.DB, sub, filters, q.limit, after)]);
    requireRole(caller, 'owner', 'admin');
    const rows = results[0]!.results as AuditRow[];
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    const next_cursor =
      rows.length > q.limit && last ? await encodeCursor(c.env, binding, [last.created_at, last.id]) : null;
    return c.json({ data: page.map(toAuditLog), next_cursor }, 200);
  },
);

auditLogs.openapi(
  securedRoute(['read:audit_logs'], {
    method: 'get',
    path: '/v1/audit-logs/{id}',
    operationId: 'getAuditLog',
    tags: ['Audit logs'],
    summary: 'Get an audit log entry',
    description: "One entry of the tenant's audit trail. Owners and admins only.",
    request: {
      params: z.object({
        id: z
          .string()
          .max(30)
          .regex(idPattern('aud'), 'must be an audit log id (aud_…)')
          .openapi({
            param: { name: 'id', in: 'path' },
            description: 'The audit log entry id (`aud_…`).',
            example: demoId('aud'),
          }),
      }),
    },
    responses: {
      200: { description: 'The entry.', content: { 'application/json': { schema: AuditLogSchema } } },
      ...problemResponses('insufficient_role', 'not_found'),
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { caller, results } = await runAsCaller(c, [getAuditLogStatement(c.env.DB, c.get('auth').sub, id)]);
    requireRole(caller, 'owner', 'admin');
    const row = results[0]!.results[0] as AuditRow | undefined;
    if (!row) throw new ApiError('not_found', `Audit log entry ${id} was not found.`);
    return c.json(toAuditLog(row), 200);
  },
);

export { AuditLogSchema };
