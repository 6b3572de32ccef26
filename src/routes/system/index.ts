import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { Scalar } from '@scalar/hono-api-reference';
import type { AppEnv } from '../../env';
import { API_TITLE } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';

export const system = new OpenAPIHono<AppEnv>();

const HealthSchema = z
  .object({ status: z.enum(['ok', 'degraded']), database: z.enum(['ok', 'unreachable']) })
  .openapi('Health');

system.openapi(
  createRoute({
    method: 'get',
    path: '/health',
    operationId: 'getHealth',
    tags: ['System'],
    summary: 'Service health',
    description: 'Reports whether the service and its database are reachable. Needs no token.',
    security: [],
    responses: {
      200: { description: 'Healthy', content: { 'application/json': { schema: HealthSchema, example: { status: 'ok', database: 'ok' } } } },
      503: { description: 'The database is unreachable', content: { 'application/json': { schema: HealthSchema } } },
    },
  }),
  async (c) => {
    try {
      await c.env.DB.prepare('SELECT 1').first();
      return c.json({ status: 'ok' as const, database: 'ok' as const }, 200);
    } catch {
      return c.json({ status: 'degraded' as const, database: 'unreachable' as const }, 503);
    }
  },
);

// The spec and the docs page are plain routes (not part of the documented API surface).
system.get('/docs', (c, next) =>
  Scalar<AppEnv>({
    nonce: c.get('cspNonce'), // allowed by the page's CSP (src/middleware/security-headers.ts)
    url: '/openapi.json',
    pageTitle: `${API_TITLE} reference`,
    // Served by this Worker from static assets (scripts/prepare-assets.mjs): no CDN.
    cdn: '/docs/scalar.js',
    withDefaultFonts: false,
    hideClientButton: true,
    authentication: { preferredSecurityScheme: 'bearerAuth' },
  })(c, next),
);

export { problemResponses };
