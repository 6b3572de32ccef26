import { z } from '@hono/zod-openapi';
import { createApp } from '../../src/app';
import { requestMeta, runAsCaller } from '../../src/auth/caller';
import { auditStatement } from '../../src/db/audit';
import { withCaller } from '../../src/db/caller';
import { cursorBinding, decodeCursor, encodeCursor } from '../../src/lib/cursor';
import { PageQuerySchema, pageSchema } from '../../src/lib/pagination';
import { securedRoute } from '../../src/lib/route';

/**
 * The real app plus two routes shaped like the real ones, for cross-cutting tests that must not
 * wait for a particular resource: a write (change + audit row in the caller's batch, guarded by
 * role) and a keyset-paginated list with a signed cursor.
 */
export function appWithTestRoutes() {
  const app = createApp();
  app.openapi(
    securedRoute(['manage:tenant'], {
      method: 'post',
      path: '/v1/test-rename',
      operationId: 'testRename',
      request: {
        body: {
          required: true,
          content: { 'application/json': { schema: z.object({ name: z.string().min(1).max(100) }) } },
        },
      },
      responses: {
        200: { description: 'Renamed', content: { 'application/json': { schema: z.object({ name: z.string() }) } } },
      },
    }),
    async (c) => {
      const { name } = c.req.valid('json');
      const sub = c.get('auth').sub;
      const now = Date.now();
      await runAsCaller(c, [
        c.env.DB.prepare(
          withCaller(
            "UPDATE tenants SET name = ?2, updated_at = ?3 WHERE id = (SELECT tenant_id FROM caller WHERE role = 'owner')",
          ),
        ).bind(sub, name, now),
        auditStatement(
          c.env.DB,
          sub,
          { action: 'tenant.rename', resourceType: 'tenant', resourceId: null, newValues: { name } },
          requestMeta(c),
          now,
          {
            sql: "c.role = 'owner'",
            params: [],
          },
        ),
      ]);
      return c.json({ name }, 200);
    },
  );
  app.openapi(
    securedRoute([], {
      method: 'get',
      path: '/v1/test-audit',
      operationId: 'testListAudit',
      request: { query: PageQuerySchema.extend({ action: z.string().max(50).optional() }) },
      responses: {
        200: {
          description: 'Audit ids',
          content: { 'application/json': { schema: pageSchema(z.object({ id: z.string() }), 'TestAuditPage') } },
        },
      },
    }),
    async (c) => {
      const { limit, cursor, action } = c.req.valid('query');
      const sub = c.get('auth').sub;
      const binding = cursorBinding(sub, 'testListAudit', { action });
      const after = cursor ? String((await decodeCursor(c.env, binding, cursor))[0]) : '';
      const { results } = await runAsCaller(c, [
        c.env.DB.prepare(
          withCaller(
            'SELECT id FROM audit_logs WHERE tenant_id = (SELECT tenant_id FROM caller) AND id > ?2 AND (?3 IS NULL OR action = ?3) ORDER BY id LIMIT ?4',
          ),
        ).bind(sub, after, action ?? null, limit + 1),
      ]);
      const rows = results[0]!.results as { id: string }[];
      const page = rows.slice(0, limit);
      const next = rows.length > limit ? await encodeCursor(c.env, binding, [page.at(-1)!.id]) : null;
      return c.json({ data: page, next_cursor: next }, 200);
    },
  );
  return app;
}
