// MCP client sessions: open, list, read, heartbeat, end. One D1 round trip per request.
import { OpenAPIHono, type z } from '@hono/zod-openapi';
import { requestMeta, runAsCaller } from '../../auth/caller';
import type { IdempotencyRow } from '../../db/idempotency';
import {
  createSessionStatements,
  endSessionStatements,
  getSessionStatement,
  heartbeatStatements,
  listSessionsStatement,
  type SessionRow,
  toSession,
} from '../../db/sessions';
import type { AppEnv } from '../../env';
import { cursorBinding, decodeCursor, encodeCursor } from '../../lib/cursor';
import { idempotencyKeyOf, REPLAYED_HEADER, storedResponse } from '../../lib/idempotency';
import { sessionIdleTimeoutMs } from '../../lib/limits';
import { PLANS } from '../../lib/plans';
import { ApiError } from '../../lib/problem';
import { problemResponses, securedRoute } from '../../lib/route';
import { IdempotencyHeaders } from '../memories/schemas';
import {
  CreateSessionSchema,
  ListSessionsQuerySchema,
  SessionIdParamSchema,
  SessionPageSchema,
  SessionSchema,
} from './schemas';

export const sessions = new OpenAPIHono<AppEnv>();

const json = (schema: z.ZodTypeAny, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const notFound = (id: string) => new ApiError('not_found', `Session ${id} was not found.`);
const expired = (id: string) => new ApiError('session_expired', `Session ${id} has expired; open a new one.`);
const VISIBILITY =
  "Members see their own sessions; owners and admins see every session of the tenant. Another user's session is a 404 for a member.";

sessions.openapi(
  securedRoute(['write:sessions'], {
    method: 'post',
    path: '/v1/sessions',
    operationId: 'createSession',
    tags: ['Sessions'],
    summary: 'Open a session',
    description:
      "Opens an MCP client session for the caller. The tenant's plan caps the number of live sessions (403 `quota_exceeded`). " +
      'Send `Idempotency-Key` to make a reconnect retry safe.',
    request: {
      headers: IdempotencyHeaders,
      body: { required: true, content: { 'application/json': { schema: CreateSessionSchema } } },
    },
    responses: {
      201: {
        ...json(SessionSchema, 'The new session (or replayed: header `Idempotent-Replayed: true`)'),
        headers: {
          Location: {
            description: "The session's URL",
            schema: { type: 'string', maxLength: 64, example: '/v1/sessions/ses_01J9Z3Q4W5E6R7T8Y9V0A1B2C3' },
          },
        },
      },
      ...problemResponses('quota_exceeded'),
    },
  }),
  async (c) => {
    const body = c.req.valid('json');
    const now = Date.now();
    const idem = await idempotencyKeyOf(c, body, now);
    const { statements } = createSessionStatements(
      c.env.DB,
      c.get('auth').sub,
      { mcpClientId: body.mcp_client_id, metadata: body.metadata },
      requestMeta(c),
      now,
      idem,
    );
    const { caller, results } = await runAsCaller(c, statements);
    const replay = idem ? storedResponse(results[0]!.results[0] as IdempotencyRow | undefined, idem) : null;
    if (replay) c.header(REPLAYED_HEADER, 'true');
    const row = (replay ? results[1] : results[idem ? 2 : 0])!.results[0] as SessionRow | undefined;
    if (!row) {
      const limit = PLANS[caller.tenant_plan].sessions;
      throw new ApiError(
        'quota_exceeded',
        `The ${caller.tenant_plan} plan allows ${limit} live sessions; end one or upgrade the plan.`,
      );
    }
    return c.json(toSession(row), 201, { Location: `/v1/sessions/${row.id}` });
  },
);

sessions.openapi(
  securedRoute(['read:sessions'], {
    method: 'get',
    path: '/v1/sessions',
    operationId: 'listSessions',
    tags: ['Sessions'],
    summary: 'List sessions',
    description: `Newest first. Live sessions by default; \`status=expired\` or \`all\` for the others. ${VISIBILITY}`,
    request: { query: ListSessionsQuerySchema },
    responses: { 200: json(SessionPageSchema, 'A page of sessions') },
  }),
  async (c) => {
    const q = c.req.valid('query');
    const sub = c.get('auth').sub;
    const binding = cursorBinding(sub, 'listSessions', q);
    const after = q.cursor ? ((await decodeCursor(c.env, binding, q.cursor)) as [number, string]) : undefined;
    const { results } = await runAsCaller(c, [
      listSessionsStatement(c.env.DB, sub, { status: q.status, userId: q.user_id, limit: q.limit, after }),
    ]);
    const rows = results[0]!.results as unknown as SessionRow[];
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    const next_cursor =
      rows.length > q.limit && last ? await encodeCursor(c.env, binding, [last.created_at, last.id]) : null;
    return c.json({ data: page.map(toSession), next_cursor }, 200);
  },
);

sessions.openapi(
  securedRoute(['read:sessions'], {
    method: 'get',
    path: '/v1/sessions/{id}',
    operationId: 'getSession',
    tags: ['Sessions'],
    summary: 'Get a session',
    description: VISIBILITY,
    request: { params: SessionIdParamSchema },
    responses: { 200: json(SessionSchema, 'The session'), ...problemResponses('not_found') },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { results } = await runAsCaller(c, [getSessionStatement(c.env.DB, c.get('auth').sub, id)]);
    const row = results[0]!.results[0] as SessionRow | undefined;
    if (!row) throw notFound(id);
    return c.json(toSession(row), 200);
  },
);

sessions.openapi(
  securedRoute(['write:sessions'], {
    method: 'post',
    path: '/v1/sessions/{id}/heartbeat',
    operationId: 'heartbeatSession',
    tags: ['Sessions'],
    summary: 'Keep a session alive',
    description:
      "Sets `last_activity_at` to now. Only the session's own user can heartbeat it: anyone else's session is a 404 (owners and admins included). " +
      'A session that has ended, or has been idle longer than the timeout, is expired: 409 `session_expired`.',
    request: { params: SessionIdParamSchema },
    responses: {
      200: json(SessionSchema, 'The session, refreshed'),
      ...problemResponses('not_found', 'session_expired'),
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const statements = heartbeatStatements(
      c.env.DB,
      c.get('auth').sub,
      id,
      requestMeta(c),
      Date.now(),
      sessionIdleTimeoutMs(c.env.SESSION_IDLE_TIMEOUT_MINUTES),
    );
    const { caller, results } = await runAsCaller(c, statements);
    const refreshed = results[2]!.results[0] as SessionRow | undefined;
    const seen = results[4]!.results[0] as SessionRow | undefined;
    if (!seen || seen.user_id !== caller.user_id) throw notFound(id);
    if (!refreshed) throw expired(id);
    return c.json(toSession(refreshed), 200);
  },
);

sessions.openapi(
  securedRoute(['write:sessions'], {
    method: 'delete',
    path: '/v1/sessions/{id}',
    operationId: 'endSession',
    tags: ['Sessions'],
    summary: 'End a session',
    description: `Ends the session (sets \`expired_at\`); its session-scoped memories stop being visible. ${VISIBILITY} Owners and admins can end any session of the tenant. An already ended session is 409 \`session_expired\`.`,
    request: { params: SessionIdParamSchema },
    responses: { 204: { description: 'Ended' }, ...problemResponses('not_found', 'session_expired') },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { results } = await runAsCaller(
      c,
      endSessionStatements(c.env.DB, c.get('auth').sub, id, requestMeta(c), Date.now()),
    );
    if (!results[2]!.results[0]) throw notFound(id);
    if (!results[0]!.results[0]) throw expired(id);
    return c.body(null, 204);
  },
);
