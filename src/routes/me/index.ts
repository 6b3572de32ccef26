import { OpenAPIHono, z } from '@hono/zod-openapi';
import { ALL_SCOPES } from '../../auth/scopes';
import { runAsCaller } from '../../auth/caller';
import type { AppEnv } from '../../env';
import { securedRoute } from '../../lib/route';
import { toIso } from '../../lib/time';

export const me = new OpenAPIHono<AppEnv>();

const MeSchema = z
  .object({
    user: z.object({
      id: z.string(),
      email: z.string(),
      name: z.string().nullable(),
      role: z.enum(['owner', 'admin', 'member']),
      kind: z.enum(['person', 'service']),
      created_at: z.string(),
    }),
    tenant: z.object({ id: z.string(), name: z.string(), plan: z.enum(['free', 'pro', 'team']), memory_count: z.number().int() }),
    scopes: z.array(z.string()),
  })
  .openapi('Me');

me.openapi(
  securedRoute([], {
    method: 'get',
    path: '/v1/me',
    operationId: 'getMe',
    tags: ['Me'],
    summary: 'The caller',
    description: 'The caller\'s user, tenant, role and the scopes granted by the token.',
    responses: { 200: { description: 'The caller', content: { 'application/json': { schema: MeSchema } } } },
  }),
  async (c) => {
    const { caller } = await runAsCaller(c, []);
    const granted = c.get('auth').scopes;
    return c.json(
      {
        user: { id: caller.user_id, email: caller.email, name: caller.name, role: caller.role, kind: caller.kind, created_at: toIso(caller.created_at) },
        tenant: { id: caller.tenant_id, name: caller.tenant_name, plan: caller.tenant_plan, memory_count: caller.tenant_memory_count },
        scopes: ALL_SCOPES.filter((s) => granted.has(s)),
      },
      200,
    );
  },
);
