import { OpenAPIHono, type z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { type D1Stats, serverTiming } from './db/instrument';
import { resilientD1 } from './db/resilience';
import { BOOKMARK_HEADER } from './db/session';
import { requestDatabase } from './db/shard-router';
import type { AppEnv } from './env';
import { newId } from './lib/ids';
import { MAX_BODY_BYTES } from './lib/limits';
import { mediaTypeEssence } from './lib/media-type';
import { buildOpenApiDocument, registerSecurity } from './lib/openapi';
import { ApiError, type FieldError, invalidRequest, issueErrors, problemResponse } from './lib/problem';
import { unstorableJson } from './lib/schemas';
import { meterRequest } from './lib/usage-meter';
import { mountMcp } from './mcp';
import { mcpRequestId } from './mcp/dispatch';
import { cors } from './middleware/cors';
import { logRequest } from './middleware/request-log';
import { securityHeaders } from './middleware/security-headers';
import { wakeWebhooks } from './middleware/webhook-wake';
import { auditLogs } from './routes/audit-logs';
import { changes } from './routes/changes';
import { data } from './routes/data';
import { invitations } from './routes/invitations';
import { me } from './routes/me';
import { memories } from './routes/memories';
import { sessions } from './routes/sessions';
import { subscription } from './routes/subscription';
import { system } from './routes/system';
import { lifecycle, provisioning, vectorIndex } from './routes/tenants';
import { usage } from './routes/usage';
import { users } from './routes/users';
import { webhooks } from './routes/webhooks';

/** Validation failures: a bad body is 422, a bad query/path/header 400; each names its field. */
async function validationHook(result: { success: boolean; target?: string; error?: z.ZodError }, c: Context<AppEnv>) {
  // What the schema would drop or the database alter, in the body as parsed (cached by the validator).
  const unstorable = result.target === 'json' ? unstorableJson(await c.req.json(), 'json') : [];
  if ((result.success || !result.error) && unstorable.length === 0) return;
  const errors: FieldError[] = [
    ...unstorable,
    ...issueErrors(result.target ?? 'request', result.error?.issues ?? []).filter(
      (e) => !unstorable.some((u) => u.path === e.path),
    ),
  ];
  throw invalidRequest(errors);
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function createApp() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook as never });
  registerSecurity(app);

  app.use('*', async (c, next) => {
    const startedAt = Date.now();
    const given = c.req.header('x-request-id');
    // `mcp:` ids mark MCP tool calls in audit rows: only /mcp's own requests to the app have one.
    const valid = given && REQUEST_ID.test(given) && !given.startsWith('mcp:');
    c.set('requestId', mcpRequestId(c.req.raw) ?? (valid ? given : newId('req')));
    const stats: D1Stats = { roundTrips: 0, rowsRead: 0, rowsWritten: 0 };
    c.set('d1', stats);
    // The request's D1: one session (src/db/session.ts), every attempt counted (instrument
    // inside), retries and 503s decided outside. The one place that picks the request's database.
    // With several shards it routes to the caller's shard (src/db/shard-router.ts).
    const bindings = c.env;
    const database = requestDatabase(bindings, {
      bookmark: c.req.header(BOOKMARK_HEADER),
      authenticated: c.req.path.startsWith('/v1/'),
      stats,
      subject: () => c.get('auth')?.sub,
    });
    c.env = { ...bindings, DB: resilientD1(database.db) };
    c.set('databases', database.direct);
    await next();
    const latest = database.bookmark(); // null when the request read nothing
    if (latest) c.res.headers.set(BOOKMARK_HEADER, latest);
    c.set('shard', database.shard() ?? undefined);
    c.res.headers.set('X-Request-Id', c.get('requestId'));
    c.res.headers.set('Server-Timing', serverTiming(stats));
    meterRequest(c, stats);
    wakeWebhooks(c);
    logRequest(c, stats, startedAt);
  });

  app.use('*', securityHeaders);
  app.use('*', cors);

  // Bodies: JSON only, and bounded.
  app.use('/v1/*', async (c, next) => {
    if (['POST', 'PUT', 'PATCH'].includes(c.req.method)) {
      const type = c.req.header('content-type');
      const hasBody =
        type !== undefined ||
        (c.req.header('content-length') ?? '0') !== '0' ||
        c.req.header('transfer-encoding') !== undefined;
      // POST /v1/import alone takes NDJSON (the export format).
      const ndjson = c.req.path === '/v1/import';
      const essence = mediaTypeEssence(type);
      const accepted = ndjson ? /^application\/x-ndjson$/ : /^application\/(?:[\w.-]+\+)?json$/;
      if (hasBody && !accepted.test(essence ?? '')) {
        throw new ApiError(
          'unsupported_media_type',
          `The request body must be ${ndjson ? 'application/x-ndjson' : 'application/json'}.`,
        );
      }
      // The route validators match Content-Type with a narrower pattern than RFC 9110 allows
      // (`application/json;` fails it): hand them the essence alone (JSON is UTF-8 whatever the charset says).
      if (hasBody && essence && type !== essence) {
        const headers = new Headers(c.req.raw.headers);
        headers.set('content-type', essence);
        c.req.raw = new Request(c.req.raw, { headers });
      }
    }
    await next();
  });
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ApiError('payload_too_large', `The request body exceeds ${MAX_BODY_BYTES} bytes.`);
      },
    }),
  );

  for (const routes of [
    system,
    me,
    provisioning,
    lifecycle,
    vectorIndex,
    memories,
    auditLogs,
    changes,
    users,
    invitations,
    sessions,
    subscription,
    usage,
    data,
    webhooks,
  ]) {
    app.route('/', routes);
  }

  mountMcp(app); // after the routes: its tools wrap them

  let spec: unknown;
  app.get('/openapi.json', (c) => c.json((spec ??= buildOpenApiDocument(app))));

  app.notFound((c) => {
    const allowed = allowedMethods(app, c.req.path);
    if (allowed.length > 0) {
      return problemResponse(
        c,
        new ApiError('method_not_allowed', `${c.req.method} is not allowed on ${c.req.path}.`, {
          headers: { Allow: allowed.join(', ') },
        }),
      );
    }
    return problemResponse(c, new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}.`));
  });

  app.onError((err, c) => problemResponse(c, toApiError(err, c.get('requestId'))));
  return app;
}

/** Maps anything thrown to a client-safe problem; internals are logged, never sent. */
function toApiError(err: unknown, requestId: string): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) {
    if (err.status === 400) return new ApiError('malformed_json', 'The request body is not valid JSON.');
    if (err.status === 413)
      return new ApiError('payload_too_large', `The request body exceeds ${MAX_BODY_BYTES} bytes.`);
    if (err.status === 415) return new ApiError('unsupported_media_type', 'The request body must be application/json.');
    if (err.status < 500) return new ApiError('http_error', err.message || 'Request failed.');
  }
  const message = err instanceof Error ? err.message : String(err);
  console.error(
    JSON.stringify({
      event: 'unhandled_error',
      request_id: requestId,
      message,
      stack: err instanceof Error ? err.stack : undefined,
    }),
  );
  if (/UNIQUE constraint failed/i.test(message))
    return new ApiError('conflict', 'The request conflicts with an existing resource.');
  return new ApiError('internal_error', 'An unexpected error occurred. Quote the request id when reporting it.');
}

let routeMatchers: { method: string; pattern: RegExp }[] | undefined;
function allowedMethods(app: OpenAPIHono<AppEnv>, path: string): string[] {
  routeMatchers ??= app.routes
    .filter((r) => r.method !== 'ALL')
    .map((r) => ({
      method: r.method,
      pattern: new RegExp(`^${r.path.replace(/:[^/]+/g, '[^/]+').replace(/\*/g, '.*')}$`),
    }));
  return [...new Set(routeMatchers.filter((r) => r.pattern.test(path)).map((r) => r.method))];
}
