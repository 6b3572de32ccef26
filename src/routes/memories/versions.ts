// GET /v1/memories/{id}/versions, POST /v1/memories/{id}/versions/{version}/restore.
// Versions are the rows each change saves in its own batch (db/memories.ts versionInsertSql).
import { OpenAPIHono } from '@hono/zod-openapi';
import { requestMeta, runAsCaller } from '../../auth/caller';
import {
  listVersionsStatements,
  type MemoryRow,
  restoreVersionStatements,
  toMemory,
  toVersion,
  type VersionRow,
  versionStatement,
} from '../../db/memories';
import type { AppEnv } from '../../env';
import { cursorBinding, decodeCursor, encodeCursor } from '../../lib/cursor';
import { acceptedVersions, etagOf } from '../../lib/etag';
import { ApiError } from '../../lib/problem';
import { problemResponses, securedRoute } from '../../lib/route';
import { memoryDeleted, notFound, preconditionFailed, syncChanged } from './helpers';
import {
  IfMatchHeaders,
  MemoryPathSchema,
  MemorySchema,
  MemoryVersionPageSchema,
  ReadQuerySchema,
  VersionPathSchema,
  VersionsQuerySchema,
} from './schemas';
import { rememberCaller } from './tenant';

export const versionRoutes = new OpenAPIHono<AppEnv>();

versionRoutes.openapi(
  securedRoute(['read:memories'], {
    method: 'get',
    path: '/v1/memories/{id}/versions',
    operationId: 'listMemoryVersions',
    tags: ['Memories'],
    summary: 'List earlier versions of a memory',
    description:
      'The states the memory had before each change, newest first: each with the `action` that made it, `changed_at` and `changed_by`. ' +
      'The current state is the memory itself. Visible exactly when the memory is; a permanently deleted or expired memory has no versions left.',
    request: { params: MemoryPathSchema, query: VersionsQuerySchema },
    responses: {
      200: { description: 'A page of versions.', content: { 'application/json': { schema: MemoryVersionPageSchema } } },
      ...problemResponses('invalid_cursor', 'not_found'),
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    const sub = c.get('auth').sub;
    const binding = cursorBinding(sub, 'listMemoryVersions', { id, session_id: q.session_id });
    let before: number | undefined;
    if (q.cursor) {
      const p = await decodeCursor(c.env, binding, q.cursor);
      if (typeof p[0] !== 'number')
        throw new ApiError('invalid_cursor', 'The cursor is invalid, expired, or belongs to another query.', {
          errors: [{ path: 'query.cursor', message: 'invalid cursor' }],
        });
      before = p[0];
    }
    const { caller, results } = await runAsCaller(
      c,
      listVersionsStatements(c.env.DB, sub, id, { sessionId: q.session_id, limit: q.limit, before }),
    );
    rememberCaller(c, caller);
    if (!results[0]!.results[0]) throw notFound(id);
    const rows = results[1]!.results as VersionRow[];
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    const next_cursor = rows.length > q.limit && last ? await encodeCursor(c.env, binding, [last.version]) : null;
    return c.json({ data: page.map(toVersion), next_cursor }, 200);
  },
);

versionRoutes.openapi(
  securedRoute(['write:memories'], {
    method: 'post',
    path: '/v1/memories/{id}/versions/{version}/restore',
    operationId: 'restoreMemoryVersion',
    tags: ['Memories'],
    summary: 'Restore an earlier version',
    description:
      "Writes an earlier version's content, tags, metadata, importance, access scope, `subject_id`, `agent_id` and `expires_at` back as a new version " +
      '(the state it replaces becomes a version in turn). Send `If-Match` with the ETag you read: a concurrent change makes it a 412. ' +
      'A deleted memory must be restored first (409). A version whose expiry has passed, or whose scope no longer fits the memory, is a 422.',
    request: { params: VersionPathSchema, query: ReadQuerySchema, headers: IfMatchHeaders },
    responses: {
      200: {
        description: 'The memory, now at a new version.',
        headers: { ETag: { schema: { type: 'string' as const, maxLength: 100 } } },
        content: { 'application/json': { schema: MemorySchema } },
      },
      ...problemResponses('not_found', 'memory_deleted', 'precondition_failed', 'version_not_restorable', 'conflict'),
    },
  }),
  async (c) => {
    const { id, version } = c.req.valid('param');
    const q = c.req.valid('query');
    const embedding = q.include === 'embedding';
    const t = {
      id,
      sessionId: q.session_id,
      versions: acceptedVersions(c.req.valid('header')['If-Match'], id),
      embedding: embedding || !!c.env.VECTORIZE,
    };
    const sub = c.get('auth').sub;
    const change = restoreVersionStatements(
      c.env.DB,
      t,
      { sub, now: Date.now(), meta: requestMeta(c), idempotency: null },
      version,
    );
    const { caller, results } = await runAsCaller(c, [versionStatement(c.env.DB, sub, id, version), ...change]);
    rememberCaller(c, caller);
    const stored = results[0]!.results[0] as VersionRow | undefined;
    const before = results[1]!.results[0] as MemoryRow | undefined;
    const after = results.at(-1)!.results[0] as MemoryRow | undefined;
    if (after) {
      await syncChanged(c, after);
      c.header('ETag', etagOf(after));
      return c.json(toMemory(after, embedding), 200);
    }
    if (!before) throw notFound(id);
    if (before.deleted_at !== null) throw memoryDeleted(id);
    if (t.versions && !t.versions.includes(before.version)) throw preconditionFailed(id);
    if (!stored) throw new ApiError('not_found', `Memory ${id} has no version ${version}.`);
    const message =
      stored.expires_at !== null && stored.expires_at <= Date.now()
        ? 'this version has expired'
        : 'this version has an access scope the memory can no longer have';
    throw new ApiError('version_not_restorable', `Version ${version} of memory ${id} cannot be restored: ${message}.`, {
      errors: [{ path: 'path.version', message }],
    });
  },
);
