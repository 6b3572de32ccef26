// securedRoute: the declared scopes become the OpenAPI security AND the enforced check. Exercised
// here on a route of its own so it is proven independently of which API routes exist.

import { env } from 'cloudflare:test';
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../../src/env';
import { ApiError, problemResponse } from '../../src/lib/problem';
import { securedRoute } from '../../src/lib/route';
import { mintToken } from '../helpers/tokens';

const app = new OpenAPIHono<AppEnv>();
app.use('*', async (c, next) => {
  c.set('requestId', 'req_middleware_test');
  await next();
});
app.openapi(
  securedRoute(['read:memories', 'write:memories'], {
    method: 'post',
    path: '/probe',
    operationId: 'probe',
    request: { body: { required: true, content: { 'application/json': { schema: z.object({ n: z.number() }) } } } },
    responses: {
      200: {
        description: 'ok',
        content: { 'application/json': { schema: z.object({ sub: z.string(), scopes: z.array(z.string()) }) } },
      },
    },
  }),
  (c) => c.json({ sub: c.get('auth').sub, scopes: [...c.get('auth').scopes].sort() }, 200),
);
app.onError((err, c) =>
  problemResponse(c, err instanceof ApiError ? err : new ApiError('internal_error', String(err))),
);

const post = async (token: string | undefined, body: unknown = { n: 1 }) =>
  app.request(
    '/probe',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    },
    env,
  );

describe('securedRoute', () => {
  it("publishes the scopes as the operation's security requirement", () => {
    const doc = app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 't', version: '1' } });
    expect(doc.paths!['/probe']!.post!.security).toEqual([{ bearerAuth: ['read:memories', 'write:memories'] }]);
    expect(Object.keys(doc.paths!['/probe']!.post!.responses!)).toEqual(
      expect.arrayContaining(['401', '403', '429', '503']),
    );
  });

  it('refuses a token missing any one declared scope with 403 insufficient_scope and an RFC 6750 challenge', async () => {
    for (const scopes of [['read:memories'], ['write:memories'], [], ['manage:tenant', 'read:sessions']]) {
      const res = await post(await mintToken({ sub: 'auth0|probe', scopes }));
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ code: 'insufficient_scope' });
      expect(res.headers.get('www-authenticate')).toBe(
        'Bearer realm="memoria", error="insufficient_scope", scope="read:memories write:memories"',
      );
    }
  });

  it('lets a token with the declared scopes through, whether in scope or permissions', async () => {
    for (const asPermissions of [false, true]) {
      const res = await post(
        await mintToken({ sub: 'auth0|probe', scopes: ['write:memories', 'read:memories'], asPermissions }),
      );
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ sub: 'auth0|probe', scopes: ['read:memories', 'write:memories'] });
    }
  });

  it('authenticates before validating: a bad body with a bad token is 401, with a short scope 403', async () => {
    expect((await post(undefined, { n: 'x' })).status).toBe(401);
    expect((await post(await mintToken({ sub: 'auth0|probe', scopes: [] }), { n: 'x' })).status).toBe(403);
  });
});
