// POST /v1/memories, POST /v1/memories/batch: create, all-or-nothing, quota-checked, idempotent.

import type { z } from '@hono/zod-openapi';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { requestMeta, runAsCaller } from '../../auth/caller';
import type { CallerRow } from '../../db/caller';
import { type IdempotencyKey, type IdempotencyRow, idempotencyLookup, idempotencyStore } from '../../db/idempotency';
import {
  insertMemoriesStatements,
  type MemoryRow,
  type NewMemory,
  replayedMemoriesStatement,
  toMemory,
  unusableSessionsStatement,
} from '../../db/memories';
import type { AppEnv } from '../../env';
import { etagOf } from '../../lib/etag';
import { idempotencyKeyOf, REPLAYED_HEADER, storedResponse } from '../../lib/idempotency';
import { newId } from '../../lib/ids';
import { PLANS } from '../../lib/plans';
import { ApiError, invalidRequest } from '../../lib/problem';
import { ETAG_HEADERS, problemResponses, securedRoute } from '../../lib/route';
import { searchDoc } from '../../lib/search-text';
import { syncIndex, vectorLimit } from '../../vectors/vectorize';
import { embedsOnServer, embedTexts } from './embed';
import { dedupe, expiryOf, indexedOf, notFound, vectorRefusal } from './helpers';
import { BatchCreateSchema, CreateMemorySchema, IdempotencyHeaders, MemoryListSchema, MemorySchema } from './schemas';
import { assumedEmbedding, withCallerTenant } from './tenant';

export const writeRoutes = new OpenAPIHono<AppEnv>();

type CreateInput = z.infer<typeof CreateMemorySchema>;

export function quotaExceeded(caller: CallerRow, adding: number): ApiError {
  const limit = PLANS[caller.tenant_plan].memories;
  return new ApiError(
    'quota_exceeded',
    `The ${caller.tenant_plan} plan allows ${limit} live memories; the tenant has ${caller.tenant_memory_count} and this request adds ${adding}. Delete memories or upgrade the plan.`,
  );
}

/**
 * Creates `inputs` in one batch. Returns the created (or, on an idempotent replay, the stored)
 * rows. `pathOf(i)` names item i in validation errors.
 */
async function createMemories(
  c: Context<AppEnv>,
  inputs: CreateInput[],
  action: string,
  idem: IdempotencyKey | null,
  now: number,
  pathOf: (i: number) => string,
): Promise<{ rows: MemoryRow[]; replayed: IdempotencyRow | null }> {
  const db = c.env.DB;
  const sub = c.get('auth').sub;
  const sessionIds = [...new Set(inputs.map((i) => i.session_id).filter((s): s is string => !!s))];
  const attempt = async (tenantId: string) => {
    // A tenant whose model is a Workers AI model gets a vector for every memory sent without one,
    // from one AI call before the batch; the batch checks that the model is still the one assumed.
    const assumed = assumedEmbedding(tenantId);
    const lacking = inputs.flatMap((input, n) => (input.embedding ? [] : [n]));
    const embedded = new Map<number, number[]>();
    if (lacking.length && embedsOnServer(assumed.model, assumed.dimensions)) {
      const vectors = await embedTexts(
        c.env.AI,
        assumed.model!,
        assumed.dimensions!,
        lacking.map((n) => inputs[n]!.content),
      );
      for (const [k, n] of lacking.entries()) embedded.set(n, vectors[k]!);
    }
    // Sorted ids: a batch shares created_at, so (created_at, id) order is the request order.
    const ids = inputs.map(() => newId('mem', now)).sort();
    const items: NewMemory[] = inputs.map((i, n) => {
      const tags = dedupe(i.tags);
      return {
        id: ids[n]!,
        session_id: i.session_id ?? null,
        content: i.content,
        tags,
        metadata: i.metadata,
        importance: i.importance,
        access_scope: i.access_scope,
        source: i.source,
        subject_id: i.subject_id,
        agent_id: i.agent_id,
        expires_at: expiryOf(i, now) ?? null,
        embedding: i.embedding ?? embedded.get(n) ?? null,
        search_doc: searchDoc(tenantId, i.content, tags),
      };
    });
    const statements: D1PreparedStatement[] = [];
    if (idem) statements.push(idempotencyLookup(db, sub, idem), replayedMemoriesStatement(db, sub, idem, {}));
    if (sessionIds.length) statements.push(unusableSessionsStatement(db, sub, sessionIds));
    const first = statements.length;
    const insert = insertMemoriesStatements(db, items, action, {
      sub,
      tenantId,
      now,
      meta: requestMeta(c),
      idempotency: idem,
      vectorMax: vectorLimit(c.env),
      assumedModel: lacking.length ? assumed.model : undefined,
    });
    statements.push(...insert.statements);
    if (idem) {
      const ids = JSON.stringify({ ids: items.map((m) => m.id) });
      statements.push(
        idempotencyStore(
          db,
          sub,
          idem,
          { status: 201, body: ids },
          (b) => `EXISTS (SELECT 1 FROM memories WHERE id = ${b.bind(items[0]!.id)})`,
        ),
      );
    }
    const { caller, results } = await runAsCaller(c, statements);
    const modelChanged = lacking.length > 0 && caller.tenant_embedding_model !== assumed.model;
    return { caller, results, first, inserts: insert.inserts, items, modelChanged };
  };
  let out = await withCallerTenant(c, attempt);
  // The tenant's model changed since this isolate last saw it: the guarded insert wrote nothing; once more with it.
  if (out.modelChanged) out = await withCallerTenant(c, attempt);
  const { caller, results } = out;
  if (idem) {
    const replay = storedResponse(results[0]!.results[0] as IdempotencyRow | undefined, idem);
    if (replay) return { rows: results[1]!.results as MemoryRow[], replayed: replay };
  }
  const rows = results.slice(out.first, out.first + out.inserts).flatMap((r) => r.results as MemoryRow[]);
  if (rows.length === inputs.length) {
    await syncIndex(c.env, { upsert: indexedOf(out.items, caller.tenant_id) });
    return { rows, replayed: null };
  }
  if (sessionIds.length) {
    const unusable = new Set((results[idem ? 2 : 0]!.results as { id: string }[]).map((r) => r.id));
    if (unusable.size) {
      const errors = inputs.flatMap((input, i) =>
        input.session_id && unusable.has(input.session_id)
          ? [{ path: pathOf(i), message: 'is not a live session of the caller' }]
          : [],
      );
      throw invalidRequest(errors);
    }
  }
  const vectors = out.items.flatMap((item, i) =>
    item.embedding ? [{ path: pathOf(i).replace(/session_id$/, 'embedding'), dimensions: item.embedding.length }] : [],
  );
  const refusal = vectors.length ? vectorRefusal(caller, vectors, vectors.length, vectorLimit(c.env)) : null;
  if (refusal) throw refusal;
  if (caller.tenant_memory_count + inputs.length > PLANS[caller.tenant_plan].memories)
    throw quotaExceeded(caller, inputs.length);
  throw new Error(`memory insert refused without a known reason (${rows.length}/${inputs.length})`);
}

writeRoutes.openapi(
  securedRoute(['write:memories'], {
    method: 'post',
    path: '/v1/memories',
    operationId: 'createMemory',
    tags: ['Memories'],
    summary: 'Create a memory',
    description:
      "Stores a memory authored by the caller. Counts against the plan's memory quota (403 `quota_exceeded`). " +
      'Send `Idempotency-Key` to make retries safe. Returns the memory with its `ETag` and `Location`.',
    request: {
      headers: IdempotencyHeaders,
      body: { required: true, content: { 'application/json': { schema: CreateMemorySchema } } },
    },
    responses: {
      201: {
        description: 'Created (or replayed: header `Idempotent-Replayed: true`).',
        headers: {
          ...ETAG_HEADERS,
          Location: {
            description: "The memory's URL.",
            schema: { type: 'string', maxLength: 100 },
            example: '/v1/memories/mem_01J9Z3Q4W5E6R7T8Y9V0A1B2C3',
          },
        },
        content: { 'application/json': { schema: MemorySchema } },
      },
      ...problemResponses(
        'quota_exceeded',
        'vector_limit_exceeded',
        'not_found',
        'conflict',
        'embedding_failed',
        'embedding_unavailable',
      ),
    },
  }),
  async (c) => {
    const body = c.req.valid('json');
    const now = Date.now();
    const idem = await idempotencyKeyOf(c, body, now);
    const { rows, replayed } = await createMemories(c, [body], 'memory.create', idem, now, () => 'json.session_id');
    const row = rows[0];
    if (!row) throw notFound('created by this request (it was since deleted for good)');
    if (replayed) c.header(REPLAYED_HEADER, 'true');
    c.header('ETag', etagOf(row));
    c.header('Location', `/v1/memories/${row.id}`);
    return c.json(toMemory(row), 201);
  },
);

writeRoutes.openapi(
  securedRoute(['write:memories'], {
    method: 'post',
    path: '/v1/memories/batch',
    operationId: 'createMemoriesBatch',
    tags: ['Memories'],
    summary: 'Create up to 100 memories at once',
    description:
      'All-or-nothing: one invalid item is a 422 naming it (`errors[].path` like `json.memories.3.content`) and nothing is written. ' +
      'The whole batch counts against the quota. `data` is in request order. Send `Idempotency-Key` to make retries safe.',
    request: {
      headers: IdempotencyHeaders,
      body: { required: true, content: { 'application/json': { schema: BatchCreateSchema } } },
    },
    responses: {
      201: {
        description: 'Created (or replayed: header `Idempotent-Replayed: true`).',
        content: { 'application/json': { schema: MemoryListSchema } },
      },
      ...problemResponses(
        'quota_exceeded',
        'vector_limit_exceeded',
        'conflict',
        'embedding_failed',
        'embedding_unavailable',
      ),
    },
  }),
  async (c) => {
    const body = c.req.valid('json');
    const now = Date.now();
    const idem = await idempotencyKeyOf(c, body, now);
    const { rows, replayed } = await createMemories(
      c,
      body.memories,
      'memory.batch_create',
      idem,
      now,
      (i) => `json.memories.${i}.session_id`,
    );
    if (replayed) c.header(REPLAYED_HEADER, 'true');
    return c.json({ data: rows.map((r) => toMemory(r)) }, 201);
  },
);
