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
  { name: 'Changes', description: 'The change feed: every change to memories, in commit order, resumable.' },
  { name: 'Webhooks', description: 'Signed Standard Webhooks deliveries of the change feed to your endpoints.' },
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
      contact: { name: 'Memoria', email: 'api@memoria.dev', url: 'https://memoria.dev' },
      license: { name: 'MIT', url: 'https://opensource.org/license/mit' },
    },
    // Production first, so generated SDKs default to it; deployers fill in their host. The docs
    // page lists only the server it is served from (routes/system).
    servers: [
      {
        url: 'https://{host}',
        description: "Production: your deployment's host",
        variables: {
          host: { default: 'api.memoria.example', description: 'The host name the Worker is deployed under.' },
        },
        'x-internal': false,
      },
      { url: 'http://127.0.0.1:8787', description: 'Local development server (npm start)', 'x-internal': true },
    ],
    tags: TAGS,
  });
  doc.components = { ...doc.components, ...sharedComponents() };
  if (doc.webhooks && Object.keys(doc.webhooks).length === 0) delete doc.webhooks;
  const operations = Object.values(doc.paths ?? {}).flatMap((item) =>
    Object.values(item).filter(
      (op): op is { parameters?: unknown[]; tags?: string[] } => !!op && typeof op === 'object' && 'parameters' in op,
    ),
  );
  for (const op of operations) publishExamples(op);
  doc.components.parameters = shareParameters(operations) as NonNullable<typeof doc.components.parameters>;
  addIntegerFormats(doc);
  return doc;
}

/** Examples that name one resource (a prefixed id, or the ETag of one): none can exist on the reader's server. */
const NAMES_A_RESOURCE = /^"?(?:mem|usr|ses|aud|ten)_[0-9A-Z]{26}/;
/** A value valid for one request only (a cursor from the previous page, a fresh Idempotency-Key): no fixed example. */
const PER_REQUEST = new Set(['cursor', 'Idempotency-Key']);

/**
 * Parameter examples, as generators, Dredd and the docs page read them: zod puts them in the
 * schema (`schema.example`, deprecated in OpenAPI 3.1), so publish them on the parameter, falling
 * back to the default or the first allowed value. An optional parameter whose example names a
 * resource keeps it as an `examples` entry the docs page leaves unchecked (`x-disabled`), so
 * "Try it" never sends an id that cannot exist on the reader's server.
 */
function publishExamples(op: { parameters?: unknown[] }) {
  for (const param of op.parameters ?? []) {
    const p = param as Record<string, unknown> & { name: string; required?: boolean; schema?: Record<string, unknown> };
    const schema = p.schema ?? {};
    const example = p.example ?? schema.example ?? schema.default ?? (schema.enum as unknown[] | undefined)?.[0];
    delete schema.example;
    delete p.example;
    // zod writes a described parameter's text twice (on the parameter and its schema): keep the parameter's.
    if (schema.description === p.description) delete schema.description;
    if (PER_REQUEST.has(p.name) || example === undefined) continue;
    if (!p.required && typeof example === 'string' && NAMES_A_RESOURCE.test(example))
      p.examples = { yours: { summary: 'One from your own data', value: example, 'x-disabled': true } };
    else p.example = example;
  }
}

/**
 * A query or header parameter that several operations declare identically (limit, cursor,
 * Idempotency-Key, session_id, include, ...) is published once under `components.parameters`
 * and referenced. A name declared in several ways (If-Match of a memory or of a user) gets one
 * component per shared declaration, named after the first operation's tag (MemoriesIfMatch).
 */
function shareParameters(operations: { parameters?: unknown[]; tags?: string[] }[]) {
  type Param = { name: string; in: string };
  const declarations = new Map<string, { count: number; param: Param; tag: string }>();
  for (const op of operations)
    for (const param of (op.parameters ?? []) as Param[]) {
      if (param.in === 'path' || '$ref' in param) continue;
      const json = JSON.stringify(param);
      const entry = declarations.get(json);
      if (entry) entry.count++;
      else declarations.set(json, { count: 1, param, tag: op.tags?.[0] ?? '' });
    }
  const sharedByKey = new Map<string, number>();
  for (const { count, param } of declarations.values())
    if (count > 1)
      sharedByKey.set(`${param.in} ${param.name}`, (sharedByKey.get(`${param.in} ${param.name}`) ?? 0) + 1);
  const shared: Record<string, unknown> = {};
  const names = new Map<string, string>();
  const pascal = (text: string) => text.replace(/(^|[-_ ])([a-zA-Z0-9])/g, (_, __, ch: string) => ch.toUpperCase());
  for (const [json, { count, param, tag }] of [...declarations].sort(([, a], [, b]) =>
    `${a.param.in} ${a.param.name} ${a.tag}`.localeCompare(`${b.param.in} ${b.param.name} ${b.tag}`),
  )) {
    if (count < 2) continue;
    const name =
      (sharedByKey.get(`${param.in} ${param.name}`) ?? 0) > 1 ? pascal(tag) + pascal(param.name) : pascal(param.name);
    shared[name] = param;
    names.set(json, name);
  }
  for (const op of operations)
    op.parameters = (op.parameters as Param[] | undefined)?.map((p) => {
      const name = names.get(JSON.stringify(p));
      return name ? { $ref: `#/components/parameters/${name}` } : p;
    });
  return shared;
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
