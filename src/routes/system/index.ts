import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { Scalar } from '@scalar/hono-api-reference';
import type { AppEnv } from '../../env';
import { API_DESCRIPTION, API_TITLE } from '../../lib/openapi';
import { headerRef, PublicResponseHeaders, problemResponses, withCommonHeaders } from '../../lib/route';
import { settingProblems } from './settings';

export const system = new OpenAPIHono<AppEnv>();

const SettingProblemSchema = z
  .object({
    setting: z
      .string()
      .max(64)
      .openapi({ description: 'The name of the setting or binding.', example: 'CURSOR_SECRET' }),
    problem: z.string().max(500).openapi({
      description: 'What is wrong with it (never its value).',
      example: 'CURSOR_SECRET is not set: pagination cursors cannot be signed (page 2 of every list fails).',
    }),
  })
  .openapi('SettingProblem');

const HealthSchema = z
  .object({
    status: z
      .enum(['ok', 'degraded'])
      .openapi({ description: '`degraded` when the database is down or a required setting is missing or invalid.' }),
    database: z.enum(['ok', 'unreachable']).openapi({ description: 'Whether D1 answered a trivial query.' }),
    settings: z.array(SettingProblemSchema).max(20).optional().openapi({
      description: 'Present when degraded by configuration: each missing or invalid setting, by name.',
    }),
  })
  .openapi('Health', { example: { status: 'ok', database: 'ok' } });

system.openapi(
  createRoute({
    method: 'get',
    path: '/health',
    operationId: 'getHealth',
    tags: ['System'],
    summary: 'Service health',
    description:
      'Reports whether the service and its database are reachable, and names any required setting that is missing or invalid (a misconfigured deployment answers 200 with `status: degraded`). Needs no token.',
    security: [],
    responses: withCommonHeaders(
      {
        200: {
          description: 'The service answers (`status` says whether it is fully configured)',
          content: { 'application/json': { schema: HealthSchema } },
        },
        503: {
          description: 'The database is unreachable; retry after the Retry-After delay',
          headers: { 'Retry-After': headerRef('Retry-After') },
          content: {
            'application/json': { schema: HealthSchema, example: { status: 'degraded', database: 'unreachable' } },
          },
        },
        ...problemResponses('internal_error'),
      },
      PublicResponseHeaders,
    ),
  }),
  async (c) => {
    try {
      await c.env.DB.prepare('SELECT 1').first();
    } catch {
      c.header('Retry-After', '30');
      return c.json({ status: 'degraded' as const, database: 'unreachable' as const }, 503);
    }
    const settings = settingProblems(c.env);
    if (settings.length === 0) return c.json({ status: 'ok' as const, database: 'ok' as const }, 200);
    return c.json({ status: 'degraded' as const, database: 'ok' as const, settings }, 200);
  },
);

// Browsers ask every page's origin for /favicon.ico; without an answer the docs page logs a 404
// console error. There is no icon: 204, cacheable for a day.
system.get('/favicon.ico', (c) => c.body(null, 204, { 'Cache-Control': 'public, max-age=86400' }));

// The docs page is a plain route (not part of the documented API surface). Everything it loads
// comes from this Worker: the Scalar bundle from static assets (scripts/prepare-assets.mjs), the
// spec from /openapi.json; remote fonts are off. Title and description are the spec's.
system.get(
  '/docs',
  Scalar<AppEnv>((c) => ({
    nonce: c.get('cspNonce'), // allowed by the page's CSP (src/middleware/security-headers.ts)
    url: '/openapi.json',
    pageTitle: `${API_TITLE} reference`,
    cdn: '/docs/scalar.js',
    withDefaultFonts: false,
    telemetry: false,
    metaData: { title: `${API_TITLE} reference`, description: API_DESCRIPTION.split('\n')[0] },
    // "Try it" talks to the server that served this page (local, staging or production).
    servers: [{ url: new URL(c.req.url).origin, description: 'This server' }],
    // The dev token flow: the Bearer field is the one shown; the spec's description says where
    // `npm start` writes the development token.
    authentication: { preferredSecurityScheme: 'bearerAuth' },
    defaultOpenAllTags: true,
    // No hosted extras (AI agent, MCP/SDK generators, developer toolbar): they need scalar.com.
    hideClientButton: true,
    showDeveloperTools: 'never',
    agent: { disabled: true },
    mcp: { disabled: true },
  })),
);
