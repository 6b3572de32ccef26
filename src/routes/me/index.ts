import { OpenAPIHono } from '@hono/zod-openapi';
import { runAsCaller } from '../../auth/caller';
import type { AppEnv } from '../../env';
import { securedRoute } from '../../lib/route';
import { MeSchema, toMe } from './schema';

export const me = new OpenAPIHono<AppEnv>();

me.openapi(
  securedRoute([], {
    method: 'get',
    path: '/v1/me',
    operationId: 'getMe',
    tags: ['Me'],
    summary: 'The caller',
    description:
      "The caller's user, tenant, role and the API scopes granted by the token. Needs a valid token and no particular scope, " +
      'so any registered user or service client can check who the API thinks it is. A token whose subject is not a user yet ' +
      'gets 401: provision a tenant first with `POST /v1/tenants`.',
    responses: { 200: { description: 'The caller', content: { 'application/json': { schema: MeSchema } } } },
  }),
  async (c) => {
    const { caller } = await runAsCaller(c, []);
    return c.json(toMe(caller, c.get('auth').scopes), 200);
  },
);
