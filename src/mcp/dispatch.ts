// Runs REST operations for MCP as requests to the same Hono app, with the caller's own token:
// authentication, scopes, roles, quotas, the rate limit, idempotency and audit are the REST
// path itself, not a copy of it.
import type { Context, ExecutionContext } from 'hono';
import type { AppEnv, Env } from '../env';
import type { Location, Tool } from './tools';

export interface Dispatcher {
  fetch: (request: Request, env: Env, ctx?: ExecutionContext) => Response | Promise<Response>;
  env: Env;
  ctx?: ExecutionContext;
  /** The MCP request's URL: the operations are addressed on the same origin. */
  url: string;
  authorization: string;
  /** The operation's request id, in its audit rows: `mcp:<session id>:<the MCP request's id>`. */
  requestId: string;
  userAgent?: string;
  ip?: string;
}

export type AppFetch = Dispatcher['fetch'];

/** Operations on behalf of the MCP request `c` (its token, its client), audited as `mcp:<session>:<request id>`. */
export function dispatcher(c: Context<AppEnv>, fetch: AppFetch, sessionId: string | null): Dispatcher {
  let ctx: ExecutionContext | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    ctx = undefined; // app.request() in tests has none
  }
  return {
    fetch,
    env: c.env,
    ctx,
    url: c.req.url,
    authorization: c.req.header('authorization') ?? '',
    requestId: ['mcp', sessionId, c.get('requestId')].filter(Boolean).join(':'),
    userAgent: c.req.header('user-agent'),
    ip: c.req.header('cf-connecting-ip'),
  };
}

export interface Operation {
  method: string;
  /** A concrete path, ids filled in. */
  path: string;
  query?: URLSearchParams;
  body?: unknown;
  idempotencyKey?: string;
}

const requestIds = new WeakMap<Request, string>();

/**
 * The request id of a request /mcp made to the app (src/app.ts uses it as the request's id);
 * undefined for any request from outside, so an `mcp:` id in an audit row cannot be forged.
 */
export const mcpRequestId = (request: Request): string | undefined => requestIds.get(request);

export function callOperation(d: Dispatcher, op: Operation): Promise<Response> {
  const url = new URL(op.path, d.url);
  if (op.query) url.search = op.query.toString();
  const headers = new Headers({ authorization: d.authorization });
  if (d.userAgent) headers.set('user-agent', d.userAgent);
  if (d.ip) headers.set('cf-connecting-ip', d.ip);
  if (op.idempotencyKey) headers.set('idempotency-key', op.idempotencyKey);
  let body: string | undefined;
  if (op.body !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(op.body);
  }
  const request = new Request(url, { method: op.method, headers, body });
  requestIds.set(request, d.requestId.slice(0, 128));
  return Promise.resolve(d.fetch(request, d.env, d.ctx));
}

export interface ProblemFields {
  status: number;
  code: string;
  detail: string;
  errors?: { path: string; message: string }[];
  request_id?: string;
}

/** The problem an operation answered (every error of the API is problem+json). */
export async function problemOf(res: Response): Promise<ProblemFields> {
  const text = await res.text();
  try {
    const p = JSON.parse(text) as Partial<ProblemFields>;
    return {
      status: res.status,
      code: typeof p.code === 'string' ? p.code : 'error',
      detail: typeof p.detail === 'string' ? p.detail : text.slice(0, 500),
      ...(p.errors ? { errors: p.errors } : {}),
      ...(p.request_id ? { request_id: p.request_id } : {}),
    };
  } catch {
    return { status: res.status, code: 'error', detail: text.slice(0, 500) };
  }
}

const hex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((x) => x.toString(16).padStart(2, '0')).join('');

/** Same session + same JSON-RPC id = same key: a retried tool call is replayed, never run twice. */
export async function idempotencyKeyFor(sessionId: string, rpcId: string | number): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify(rpcId)));
  return `mcp:${sessionId}:${hex(digest).slice(0, 32)}`;
}

/** Arguments the tool does not take: the call is malformed (JSON-RPC invalid params). */
export class InvalidArguments extends Error {}
const invalid = (message: string) => new InvalidArguments(message);

/**
 * The REST request of a tool call. Arguments the tool does not declare, or a missing path
 * parameter, make the call malformed (a JSON-RPC error); values are left to the operation's own
 * validation, whose refusal becomes a tool error the model can correct.
 */
export async function operationFor(
  tool: Tool,
  args: Record<string, unknown>,
  sessionId: string,
  rpcId: string | number,
): Promise<Operation> {
  const unknown = Object.keys(args).filter(
    (k) => !tool.locations.has(k) && !(k === 'this_session' && tool.spec.sessionFilter),
  );
  if (unknown.length) throw invalid(`Tool ${tool.spec.name} has no argument ${unknown.join(', ')}.`);
  const query = new URLSearchParams();
  const body: Record<string, unknown> = {};
  const put = (name: string, where: Location | undefined, value: unknown) => {
    if (value === undefined || value === null) {
      if (where === 'body' && value === null) body[name] = null;
      return;
    }
    if (where === 'query' && tool.deepObject.has(name) && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) query.append(`${name}[${k}]`, String(v));
    } else if (where === 'query') {
      for (const v of Array.isArray(value) ? value : [value])
        query.append(name, typeof v === 'object' ? JSON.stringify(v) : String(v));
    } else if (where === 'body') body[name] = value;
  };
  let path = tool.path;
  for (const [name, where] of tool.locations) {
    if (where === 'path') {
      const value = args[name];
      if (typeof value !== 'string' && typeof value !== 'number') throw invalid(`Argument ${name} is required.`);
      path = path.replace(`{${name}}`, encodeURIComponent(String(value)));
    } else put(name, where, args[name]);
  }
  // The MCP session's id goes wherever the operation takes session_id: always (it makes this
  // session's session-scoped memories visible), except that a list or search only filters by it
  // when asked to (`this_session`).
  const at = tool.sessionAt;
  const only = args.this_session ?? false;
  if (tool.spec.sessionFilter && typeof only !== 'boolean')
    throw invalid('Argument this_session must be true or false.');
  const send = Boolean(at) && (!tool.spec.sessionFilter || only);
  if (at?.where === 'query' && send) query.set('session_id', sessionId);
  if (at?.where === 'body' && at.path.length === 1 && send) body.session_id = sessionId;
  if (at?.where === 'body' && at.path.length === 2) {
    // A nested object (e.g. `filter`) is passed through: never with a session id of the caller's choosing.
    const [outer] = at.path as [string, string];
    const { session_id: _theirs, ...inner } = (body[outer] ?? {}) as Record<string, unknown>;
    if (send) body[outer] = { ...inner, session_id: sessionId };
    else if (body[outer] !== undefined) body[outer] = inner;
  }
  return {
    method: tool.method,
    path,
    query,
    body: tool.hasBody ? body : undefined,
    idempotencyKey: tool.spec.idempotent ? await idempotencyKeyFor(sessionId, rpcId) : undefined,
  };
}
