// POST/DELETE /mcp: the Model Context Protocol over Streamable HTTP (JSON responses, no SSE), and
// the RFC 9728 protected-resource document its 401 points to. Stateless: each request builds a
// fresh MCP server and the session is its D1 row (docs/architecture.md, "MCP"), so consecutive
// requests of one session may land on any isolate.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requireAuth } from '../auth/middleware';
import { SCOPES } from '../auth/scopes';
import { authConfig } from '../auth/verify';
import type { AppEnv } from '../env';
import { idPattern } from '../lib/ids';
import { MAX_BODY_BYTES } from '../lib/limits';
import { API_TITLE, API_VERSION } from '../lib/openapi';
import { allowlist } from '../middleware/cors';
import { rateLimitAnonymous } from '../middleware/rate-limit';
import { type AppFetch, callOperation, dispatcher, type ProblemFields, problemOf } from './dispatch';
import { buildTools, type OpenApiDocument, TOOLS, type Tool } from './tools';

// JSON-RPC error codes of the answers given before the SDK sees a message (as its transport does).
const RPC = { invalidRequest: -32600, invalidParams: -32602, serverError: -32000, sessionNotFound: -32001 };

/** The SDK is loaded on the first MCP request, not when the Worker starts (its schemas are many). */
const runServer: (...args: Parameters<typeof import('./server').runServer>) => Promise<Response> = async (...args) =>
  (await import('./server')).runServer(...args);

const PRM_PATH = '/.well-known/oauth-protected-resource';
const SESSION_ID = idPattern('ses');

/** Tools per app, built once per isolate from its route definitions. */
const toolsByApp = new WeakMap<object, Map<string, Tool>>();

/**
 * The OpenAPI document of the operations the tools wrap, from the app's route definitions: the
 * same generator as /openapi.json, over 7 routes instead of all of them (a cold isolate's first
 * MCP request pays for it).
 */
function wrappedOperations(app: OpenAPIHono<AppEnv>): OpenApiDocument {
  const wanted = new Set(TOOLS.map((t) => t.operationId));
  const only = new OpenAPIHono<AppEnv>();
  for (const def of app.openAPIRegistry.definitions)
    if (def.type === 'route' && wanted.has(def.route.operationId ?? '')) only.openAPIRegistry.registerPath(def.route);
  return only.getOpenAPI31Document({ openapi: '3.1.0', info: { title: API_TITLE, version: API_VERSION } }) as never;
}

export function mountMcp(app: OpenAPIHono<AppEnv>) {
  const fetch: AppFetch = app.fetch;
  const tools = () => {
    let built = toolsByApp.get(app);
    if (!built) {
      built = buildTools(wrappedOperations(app));
      toolsByApp.set(app, built);
    }
    return built;
  };

  // RFC 9728: who issues tokens for /mcp and which scopes exist. Also at the path-suffixed
  // location RFC 9728 §3.1 derives from the resource `<origin>/mcp`.
  const protectedResource = (c: Context<AppEnv>) => {
    const origin = new URL(c.req.url).origin;
    return c.json(
      {
        resource: `${origin}/mcp`,
        authorization_servers: [authConfig(c.env).issuer],
        scopes_supported: Object.keys(SCOPES),
        bearer_methods_supported: ['header'],
        resource_name: 'Memoria',
        resource_documentation: `${origin}/docs`,
      },
      200,
      // Public, like any discovery document: browser-based hosts read it from their own origin.
      { 'Cache-Control': 'public, max-age=3600', 'Access-Control-Allow-Origin': '*' },
    );
  };
  app.get(PRM_PATH, protectedResource);
  app.get(`${PRM_PATH}/mcp`, protectedResource);

  // A 401 names the metadata document, so an MCP host can discover where to get a token.
  app.use('/mcp', async (c, next) => {
    await next();
    if (c.res.status !== 401) return;
    const metadata = `resource_metadata="${new URL(c.req.url).origin}${PRM_PATH}"`;
    const error = c.req.header('authorization') ? ', error="invalid_token"' : '';
    c.res.headers.set('WWW-Authenticate', `Bearer ${metadata}, realm="memoria"${error}`);
  });
  // DNS rebinding: a browser page may only reach /mcp from an origin the deployment allows.
  app.use('/mcp', async (c, next) => {
    const origin = c.req.header('origin');
    if (origin && origin !== new URL(c.req.url).origin && !allowlist(c.env.CORS_ORIGINS).has(origin))
      return rpcError(c, 403, RPC.invalidRequest, `Origin ${origin.slice(0, 200)} is not allowed.`);
    await next();
  });
  app.use('/mcp', rateLimitAnonymous, requireAuth([]));
  app.use(
    '/mcp',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => rpcError(c, 413, RPC.invalidRequest, `The request body exceeds ${MAX_BODY_BYTES} bytes.`),
    }),
  );

  app.post('/mcp', async (c) => {
    const text = await c.req.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return runServer(c, fetch, text, null); // the SDK answers the parse error
    }
    const messages = (Array.isArray(parsed) ? parsed : [parsed]) as { method?: unknown }[];
    if (messages.some((m) => m?.method === 'initialize')) {
      if (Array.isArray(parsed))
        return rpcError(c, 400, RPC.invalidRequest, 'initialize must be sent alone, not in a batch.');
      return initialize(c, fetch, text);
    }

    const sessionId = c.req.header('mcp-session-id');
    if (!sessionId)
      return rpcError(c, 400, RPC.invalidRequest, 'Mcp-Session-Id header is required: send initialize first.');
    // The request is the session's heartbeat; an ended, expired or unknown session is a 404.
    const beat = await live(c, fetch, sessionId, 'POST', 'heartbeat');
    if (beat instanceof Response) return beat;
    // A single message was counted against the rate limit as its heartbeat; each tool call of a
    // (pre-2025-06-18) batch counts on its own.
    const counted = !Array.isArray(parsed);
    const answer = await runServer(c, fetch, text, { sessionId, tools: tools(), counted });
    return withHeaders(answer, beat);
  });

  app.delete('/mcp', async (c) => {
    const sessionId = c.req.header('mcp-session-id');
    if (!sessionId) return rpcError(c, 400, RPC.invalidRequest, 'Mcp-Session-Id header is required.');
    const ended = await live(c, fetch, sessionId, 'DELETE', '');
    return ended instanceof Response ? ended : c.body(null, 204, ended);
  });

  // No server-initiated messages: the spec's answer for a GET without an SSE stream is 405.
  app.get('/mcp', (c) => c.body(null, 405, { Allow: 'POST, DELETE' }));
}

/**
 * Runs heartbeatSession (or endSession) for the session. For the caller's live session, returns
 * the rate-limit headers of that request (it is the one the MCP request is counted as); else the
 * response to send (404 for an ended, expired, unknown or foreign session).
 */
async function live(c: Context<AppEnv>, fetch: AppFetch, sessionId: string, method: 'POST' | 'DELETE', action: string) {
  if (!SESSION_ID.test(sessionId)) return rpcError(c, 404, RPC.sessionNotFound, 'Session not found');
  const res = await callOperation(dispatcher(c, fetch, sessionId), {
    method,
    path: `/v1/sessions/${sessionId}${action ? `/${action}` : ''}`,
  });
  if (res.ok) return rateHeaders(res);
  const problem = await problemOf(res);
  if (problem.status === 404 || problem.code === 'session_expired')
    return rpcError(
      c,
      404,
      RPC.sessionNotFound,
      'Session not found: it has ended or expired. Initialize a new session.',
    );
  return httpProblem(c, res, problem) ?? rpcError(c, problem.status, RPC.serverError, problem.detail, problem);
}

/** initialize: the SDK negotiates, then createSession makes the D1 row that is the session. */
async function initialize(c: Context<AppEnv>, fetch: AppFetch, text: string) {
  const answer = await runServer(c, fetch, text, null);
  type Reply = { result?: { protocolVersion?: string } } | null;
  const reply = (await answer
    .clone()
    .json()
    .catch(() => null)) as Reply;
  if (!answer.ok || !reply?.result) return answer;
  const { id, params } = JSON.parse(text) as { id: string | number; params?: { clientInfo?: Record<string, unknown> } };
  const client = params?.clientInfo ?? {};
  const metadata: Record<string, unknown> = {
    client_version: client.version,
    protocol_version: reply.result.protocolVersion,
    transport: 'mcp-streamable-http',
  };
  if (typeof client.title === 'string') metadata.client_title = client.title;
  const res = await callOperation(dispatcher(c, fetch, null), {
    method: 'POST',
    path: '/v1/sessions',
    body: { mcp_client_id: client.name, metadata },
  });
  if (!res.ok) {
    const problem = await problemOf(res);
    const http = httpProblem(c, res, problem);
    if (http) return http;
    const code = problem.status === 422 ? RPC.invalidParams : RPC.serverError;
    return rpcError(c, 200, code, problem.detail, problem, {}, id); // the client matches it to its initialize
  }
  const session = (await res.json()) as { id: string };
  return withHeaders(answer, { 'Mcp-Session-Id': session.id, ...rateHeaders(res) });
}

/**
 * Refusals the MCP host must see at the HTTP level: 401 (sign in again), 403 for a missing
 * scope (the challenge names it), 429 and 503 (retry after). Others are answered in JSON-RPC.
 */
function httpProblem(c: Context<AppEnv>, res: Response, p: ProblemFields): Response | null {
  const atHttp = p.status === 401 || p.status === 429 || p.status >= 500 || p.code === 'insufficient_scope';
  if (!atHttp) return null;
  const headers: Record<string, string> = {};
  for (const name of ['WWW-Authenticate', 'Retry-After']) {
    const value = res.headers.get(name);
    if (value) headers[name] = value;
  }
  return rpcError(c, p.status, RPC.serverError, p.detail, p, headers);
}

const RATE_HEADERS = ['RateLimit', 'RateLimit-Policy'];
const rateHeaders = (res: Response): Record<string, string> =>
  Object.fromEntries(RATE_HEADERS.flatMap((h) => (res.headers.has(h) ? [[h, res.headers.get(h)!]] : [])));

function withHeaders(res: Response, headers: Record<string, string>): Response {
  const out = new Response(res.body, res);
  for (const [name, value] of Object.entries(headers)) out.headers.set(name, value);
  return out;
}

function rpcError(
  c: Context<AppEnv>,
  status: number,
  code: number,
  message: string,
  problem?: ProblemFields,
  headers: Record<string, string> = {},
  id: string | number | null = null,
) {
  const data = problem ? { status: problem.status, code: problem.code, detail: problem.detail } : undefined;
  return c.json({ jsonrpc: '2.0', id, error: { code, message, ...(data ? { data } : {}) } }, status as 200, headers);
}
