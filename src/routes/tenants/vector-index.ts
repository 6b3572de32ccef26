// POST /v1/tenant/vector-index/backfill: writes the tenant's stored vectors into the Vectorize
// index, one page per call (memories stored before the index was bound, or a sync that failed).
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { requireRole, runAsCaller } from '../../auth/caller';
import { indexableVectorsStatement } from '../../db/memories';
import type { AppEnv } from '../../env';
import { cursorBinding, decodeCursor, encodeCursor } from '../../lib/cursor';
import { PageQuerySchema } from '../../lib/pagination';
import { ApiError } from '../../lib/problem';
import { jsonResponse, problemResponses, securedRoute } from '../../lib/route';
import { countSchema } from '../../lib/schemas';
import { syncIndex } from '../../vectors/vectorize';

export const vectorIndex = new OpenAPIHono<AppEnv>();

/** Vectors written per call (a page of at most 100 × 1,536 dimensions stays far below the Worker's memory). */
const BACKFILL_PAGE = 100;

const BackfillResultSchema = z
  .object({
    upserted: countSchema.openapi({ description: 'Vectors written to the index by this call.', example: 100 }),
    next_cursor: z
      .string()
      .max(512)
      .nullable()
      .openapi({ description: 'Send it back as `cursor` for the next page; null when done.', example: null }),
  })
  .openapi('VectorIndexBackfill');

const backfill = securedRoute(['manage:tenant'], {
  method: 'post',
  path: '/v1/tenant/vector-index/backfill',
  operationId: 'backfillVectorIndex',
  tags: ['Tenants'],
  summary: "Write the tenant's vectors into the Vectorize index",
  description:
    "Owner or admin. Upserts up to 100 of the tenant's live memories with a current vector into the Vectorize index per call, oldest first; " +
    'repeat with `cursor` until `next_cursor` is null. Needed once for memories stored before the deployment had its VECTORIZE binding. ' +
    '409 `vector_index_not_configured` when this deployment has no Vectorize index (the embedded d1 engine needs no backfill).',
  request: { query: PageQuerySchema.pick({ cursor: true }) },
  responses: {
    200: jsonResponse(BackfillResultSchema, 'One page written'),
    ...problemResponses('insufficient_role', 'invalid_cursor', 'vector_index_not_configured', 'embedding_failed'),
  },
});

vectorIndex.openapi(backfill, async (c) => {
  const sub = c.get('auth').sub;
  const binding = cursorBinding(sub, 'backfillVectorIndex', {});
  let after = 0;
  const { cursor } = c.req.valid('query');
  if (cursor) {
    const p = await decodeCursor(c.env, binding, cursor);
    if (typeof p[0] !== 'number')
      throw new ApiError('invalid_cursor', 'The cursor is invalid, expired, or belongs to another query.', {
        errors: [{ path: 'query.cursor', message: 'invalid cursor' }],
      });
    after = p[0];
  }
  const { caller, results } = await runAsCaller(c, [
    indexableVectorsStatement(c.env.DB, sub, after, BACKFILL_PAGE + 1),
  ]);
  requireRole(caller, 'owner', 'admin');
  if (!c.env.VECTORIZE)
    throw new ApiError(
      'vector_index_not_configured',
      'This deployment has no Vectorize index (VECTORIZE binding): semantic search runs on the embedded d1 engine, which needs no backfill.',
    );
  const rows = results[0]!.results as {
    seq: number;
    id: string;
    subject_id: string | null;
    agent_id: string | null;
    embedding: string;
  }[];
  const page = rows.slice(0, BACKFILL_PAGE);
  const written = await syncIndex(c.env, {
    upsert: page.map((r) => ({
      id: r.id,
      tenant_id: caller.tenant_id,
      subject_id: r.subject_id,
      agent_id: r.agent_id,
      values: JSON.parse(r.embedding) as number[],
    })),
  });
  if (!written)
    throw new ApiError(
      'embedding_failed',
      'The Vectorize index refused the vectors; nothing was skipped: retry the same call.',
    );
  const last = page.at(-1);
  const next_cursor = rows.length > BACKFILL_PAGE && last ? await encodeCursor(c.env, binding, [last.seq]) : null;
  return c.json({ upserted: page.length, next_cursor }, 200);
});
