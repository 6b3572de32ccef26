import type { OpenAPIHono } from '@hono/zod-openapi';
import { SCOPES } from '../auth/scopes';
import type { AppEnv } from '../env';

export const API_TITLE = 'Memoria API';
export const API_VERSION = '0.1.0';
export const API_DESCRIPTION =
  'Multi-tenant memory API: store, search and govern memories for your users and AI agents. ' +
  'Every request is scoped to the tenant of the verified Auth0 access token. Errors are RFC 9457 problem+json.';

export const TAGS = [
  { name: 'System', description: 'Health, the OpenAPI document and the docs page (no token needed).' },
  { name: 'Me', description: 'The caller: user, tenant, role and granted scopes.' },
  { name: 'Tenants', description: 'Provisioning and the caller\'s tenant: settings, deletion, export and import.' },
  { name: 'Memories', description: 'Store, find, tag, update and delete memories; full-text search.' },
  { name: 'Users', description: 'The tenant\'s users and service clients, and their roles.' },
  { name: 'Sessions', description: 'MCP client sessions and session-scoped memory.' },
  { name: 'Subscription', description: 'Plan, limits and current usage.' },
  { name: 'Usage', description: 'Daily usage analytics.' },
  { name: 'Audit logs', description: 'The append-only record of every mutation.' },
];

/** Registers the bearer scheme; called once when the app is built (cheap: no document is built). */
export function registerSecurity(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'An Auth0 RS256 access token for this API\'s audience. Scopes come from the token\'s `permissions` ' +
      '(Auth0 RBAC) or `scope` claim: ' +
      Object.entries(SCOPES).map(([s, d]) => `\`${s}\` (${d})`).join(', ') +
      '. Locally, `npm start` prints a development token.',
  });
}

/** Builds the OpenAPI 3.1 document on demand (never at start-up). */
export function buildOpenApiDocument(app: OpenAPIHono<AppEnv>) {
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: { title: API_TITLE, version: API_VERSION, description: API_DESCRIPTION },
    servers: [
      { url: 'http://127.0.0.1:8787', description: 'Local development (npm start)' },
      { url: 'https://api.memoria.example', description: 'Production (placeholder)' },
    ],
    tags: TAGS,
  });
}
