import type { OpenAPIHono } from '@hono/zod-openapi';
import { SCOPES } from '../auth/scopes';
import type { AppEnv } from '../env';
import { ProblemSchema } from './problem';
import { sharedComponents } from './route';

export const API_TITLE = 'Memoria API';
/** The published contract's version: bump the major for any breaking change (npm run breaking). */
export const API_VERSION = '0.1.0';
export const API_DESCRIPTION = [
  'Multi-tenant memory API: store, search and govern memories for your users and AI agents.',
  '',
  'Every request is scoped to the tenant of the verified Auth0 access token (send it as',
  '`Authorization: Bearer <token>`). Errors are RFC 9457 `application/problem+json` with a stable',
  '`code` and a `request_id`. Lists are keyset-paginated (`limit`, `cursor` → `next_cursor`).',
  'POST requests accept an `Idempotency-Key`; single resources carry an `ETag` for `If-Match`.',
  '',
  'Trying it locally: `npm start` seeds a demo tenant and writes a development token to',
  '`.dev/token.txt` (also printed on start); paste it into the Bearer field of this page.',
  'The TypeScript client is `@memoria/client` (in `clients/`).',
].join('\n');

export const TAGS = [
  { name: 'System', description: 'Health, the OpenAPI document and the docs page (no token needed).' },
  { name: 'Me', description: 'The caller: user, tenant, role and granted scopes.' },
  { name: 'Tenants', description: "Provisioning and the caller's tenant: settings, deletion, export and import." },
  { name: 'Memories', description: 'Store, find, tag, update and delete memories; full-text search.' },
  { name: 'Users', description: "The tenant's users and service clients, and their roles." },
  { name: 'Sessions', description: 'MCP client sessions and session-scoped memory.' },
  { name: 'Subscription', description: 'Plan, limits and current usage.' },
  { name: 'Usage', description: 'Daily usage analytics.' },
  { name: 'Audit logs', description: 'The append-only record of every mutation.' },
];

export const BEARER_DESCRIPTION = [
  'An Auth0 RS256 access token (a JWS conforming to RFC8725: RS256 only, `iss`, `aud`, `exp` and `nbf`',
  "checked, keys from the tenant's JWKS).",
  '',
  'Auth0 setup: create an API whose identifier is the `AUTH0_AUDIENCE` of this deployment, signing',
  'algorithm RS256; enable RBAC and "Add Permissions in the Access Token"; add the permissions below.',
  'Server-to-server integrations use a machine-to-machine application authorised for the API and the',
  'client-credentials grant (`POST https://<AUTH0_DOMAIN>/oauth/token` with `audience`); its `sub` is',
  '`<client_id>@clients`. Each user or client is mapped to a tenant by its `sub`.',
  '',
  "Scopes come from the token's `permissions` (Auth0 RBAC) or `scope` claim; each operation lists the",
  'ones it needs: ' +
    Object.entries(SCOPES)
      .map(([s, d]) => `\`${s}\` (${d})`)
      .join(', ') +
    '.',
  '',
  'Local development: `npm start` prints a development token (also in `.dev/token.txt`), signed by a',
  'local key the local server trusts; `npm run token -- --scope "read:memories"` mints more.',
].join('\n');

/**
 * Registers the bearer scheme and the Problem schema (problem responses reference it by name);
 * called once when the app is built (cheap: no document is built).
 */
export function registerSecurity(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.register('Problem', ProblemSchema);
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: BEARER_DESCRIPTION,
  });
}

/** Builds the OpenAPI 3.1 document on demand (never at start-up). */
export function buildOpenApiDocument(app: OpenAPIHono<AppEnv>) {
  const doc = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: API_TITLE,
      version: API_VERSION,
      description: API_DESCRIPTION,
      contact: { name: 'Memoria API support', email: 'api@memoria.example', url: 'https://memoria.example/support' },
      license: { name: 'Proprietary', url: 'https://memoria.example/terms' },
    },
    servers: [
      { url: 'http://127.0.0.1:8787', description: 'Local development server (npm start)', 'x-internal': true },
      {
        url: 'https://api.memoria.example',
        description: "Production (placeholder: your deployment's URL)",
        'x-internal': false,
      },
    ],
    tags: TAGS,
  });
  doc.components = { ...doc.components, ...sharedComponents() };
  addIntegerFormats(doc);
  return doc;
}

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };

/**
 * zod has no OpenAPI integer `format`; derive it from the declared bounds (int32 when both fit,
 * int64 otherwise), so every integer in the contract says how wide it is.
 */
function addIntegerFormats(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) addIntegerFormats(item);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const schema = node as Record<string, unknown>;
  const type = schema.type;
  if ((type === 'integer' || (Array.isArray(type) && type.includes('integer'))) && schema.format === undefined) {
    const { minimum, maximum } = schema as { minimum?: number; maximum?: number };
    const fits = minimum !== undefined && maximum !== undefined && minimum >= INT32.min && maximum <= INT32.max;
    schema.format = fits ? 'int32' : 'int64';
  }
  for (const value of Object.values(schema)) addIntegerFormats(value);
}
