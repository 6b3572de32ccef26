// GET /v1/memories, /v1/memories/search, /v1/memories/{id}: one D1 round trip, no writes.
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { runAsCaller } from '../../auth/caller';
import {
  getMemoryStatement,
  listMemoriesStatement,
  type MemoryRow,
  searchMemoriesStatement,
  toMemory,
} from '../../db/memories';
import type { AppEnv } from '../../env';
import { cursorBinding, decodeCursor, encodeCursor } from '../../lib/cursor';
import { etagOf } from '../../lib/etag';
import { ApiError } from '../../lib/problem';
import { ETAG_HEADERS, problemResponses, securedRoute } from '../../lib/route';
import { snippet } from '../../lib/search-query';
import { ANY_TENANT, filtersOf, keywordQueryOf, metadataFilters, notFound, runKeywordSearch } from './helpers';
import {
  ListQuerySchema,
  METADATA_FILTER_DOC,
  MemoryPageSchema,
  MemoryPathSchema,
  MemorySchema,
  ReadQuerySchema,
  SearchPageSchema,
  SearchQuerySchema,
} from './schemas';
import { rememberCaller, withCallerTenant } from './tenant';

export const readRoutes = new OpenAPIHono<AppEnv>();

const badCursor = () =>
  new ApiError('invalid_cursor', 'The cursor is invalid, expired, or belongs to another query.', {
    errors: [{ path: 'query.cursor', message: 'invalid cursor' }],
  });

readRoutes.openapi(
  securedRoute(['read:memories'], {
    method: 'get',
    path: '/v1/memories',
    operationId: 'listMemories',
    tags: ['Memories'],
    summary: 'List memories',
    description:
      'The memories visible to the caller, newest first (or `order=asc`), filtered; keyset-paginated by (created_at, id): walking every ' +
      '`next_cursor` returns each matching memory exactly once, even while memories are being added. A cursor only works with the query that produced it.' +
      METADATA_FILTER_DOC,
    request: { query: ListQuerySchema },
    responses: {
      200: { description: 'A page of memories.', content: { 'application/json': { schema: MemoryPageSchema } } },
    },
  }),
  async (c) => {
    const q = c.req.valid('query');
    const metadata = metadataFilters(c);
    const sub = c.get('auth').sub;
    const binding = cursorBinding(sub, 'listMemories', { ...q, metadata });
    let after: [number, string] | undefined;
    if (q.cursor) {
      const p = await decodeCursor(c.env, binding, q.cursor);
      if (typeof p[0] !== 'number' || typeof p[1] !== 'string') throw badCursor();
      after = [p[0], p[1]];
    }
    const embedding = q.include === 'embedding';
    const { caller, results } = await runAsCaller(c, [
      listMemoriesStatement(c.env.DB, sub, filtersOf(q, metadata), {
        order: q.order,
        limit: q.limit,
        after,
        sessionId: q.session_id,
        embedding,
      }),
    ]);
    rememberCaller(c, caller);
    const rows = results[0]!.results as MemoryRow[];
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    const next_cursor =
      rows.length > q.limit && last ? await encodeCursor(c.env, binding, [last.created_at, last.id]) : null;
    return c.json({ data: page.map((r) => toMemory(r, embedding)), next_cursor }, 200);
  },
);

readRoutes.openapi(
  securedRoute(['read:memories'], {
    method: 'get',
    path: '/v1/memories/search',
    operationId: 'searchMemories',
    tags: ['Memories'],
    summary: 'Full-text search',
    description:
      "BM25-ranked full-text search over the caller's visible, live memories (content and tags; case and accents ignored), with the list filters. " +
      'Each hit has a `score` and an HTML-escaped `snippet` with matches in `<mark>…</mark>`. Pages follow the ranking (keyset on score, then ' +
      'storage order); scores depend on the whole index, so pages fetched while memories change may shift. A query without letters or digits returns no hits.' +
      METADATA_FILTER_DOC,
    request: { query: SearchQuerySchema },
    responses: {
      200: {
        description: 'A page of hits, best first.',
        content: { 'application/json': { schema: SearchPageSchema } },
      },
      ...problemResponses('invalid_query', 'conflict'),
    },
  }),
  async (c) => {
    const q = c.req.valid('query');
    const metadata = metadataFilters(c);
    const sub = c.get('auth').sub;
    const binding = cursorBinding(sub, 'searchMemories', { ...q, metadata });
    let after: [number, number] | undefined;
    if (q.cursor) {
      const p = await decodeCursor(c.env, binding, q.cursor);
      if (typeof p[0] !== 'number' || typeof p[1] !== 'number') throw badCursor();
      after = [p[0], p[1]];
    }
    // Validate fts syntax before touching D1 (the tenant only changes the prefix).
    keywordQueryOf(ANY_TENANT, q.q, q.syntax, q.match);
    const embedding = q.include === 'embedding';
    const { caller, results, terms } = await withCallerTenant(c, async (tenantId) => {
      const terms = keywordQueryOf(tenantId, q.q, q.syntax, q.match);
      if (terms === null) return { ...(await runAsCaller(c, [])), terms };
      const stmt = searchMemoriesStatement(c.env.DB, sub, filtersOf(q, metadata), {
        tenantId,
        query: terms,
        limit: q.limit,
        after,
        sessionId: q.session_id,
        embedding,
      });
      return { ...(await runKeywordSearch(c, [stmt])), terms };
    });
    rememberCaller(c, caller);
    const rows = (results[0]?.results ?? []) as (MemoryRow & { score: number })[];
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    const next_cursor =
      rows.length > q.limit && last ? await encodeCursor(c.env, binding, [last.score, last.seq]) : null;
    return c.json(
      {
        data: page.map((r) => ({
          ...toMemory(r, embedding),
          score: r.score,
          snippet: snippet(r.content, terms?.tokens ?? [], terms?.prefixes ?? []),
        })),
        next_cursor,
      },
      200,
    );
  },
);

readRoutes.openapi(
  securedRoute(['read:memories'], {
    method: 'get',
    path: '/v1/memories/{id}',
    operationId: 'getMemory',
    tags: ['Memories'],
    summary: 'Get a memory',
    description:
      "A memory visible to the caller, with its `ETag`. Soft-deleted memories are returned too (with `deleted_at`) until purged. Others' private memories, other tenants' memories and session memories without their `session_id` are 404.",
    request: {
      params: MemoryPathSchema,
      query: ReadQuerySchema,
      headers: z.object({
        'If-None-Match': z.string().max(1024).optional().openapi({
          description: 'An ETag you hold: 304 without a body if the memory is unchanged.',
          example: '"mem_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3-v3"',
        }),
      }),
    },
    responses: {
      200: {
        description: 'The memory.',
        headers: ETAG_HEADERS,
        content: { 'application/json': { schema: MemorySchema } },
      },
      304: {
        description: 'Unchanged since the ETag in If-None-Match.',
        headers: ETAG_HEADERS,
      },
      ...problemResponses('not_found'),
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    const embedding = q.include === 'embedding';
    const { caller, results } = await runAsCaller(c, [
      getMemoryStatement(c.env.DB, c.get('auth').sub, id, { sessionId: q.session_id, embedding }),
    ]);
    rememberCaller(c, caller);
    const row = results[0]!.results[0] as MemoryRow | undefined;
    if (!row) throw notFound(id);
    const etag = etagOf(row);
    c.header('ETag', etag);
    const held = c.req.valid('header')['If-None-Match'];
    if (held && (held.trim() === '*' || held.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)))
      return c.body(null, 304);
    return c.json(toMemory(row, embedding), 200);
  },
);
