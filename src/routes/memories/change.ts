// PATCH/DELETE /v1/memories/{id}, POST …/restore, POST …/tags, DELETE …/tags/{tag}.
// Each is one batch: [caller, current row, audit insert, the guarded change]. The current row
// (read in the same transaction) tells a refused change apart: 404, 409, 412, 403, 422.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { requestMeta, requireRole, runAsCaller } from '../../auth/caller';
import type { CallerRow } from '../../db/caller';
import { type IdempotencyKey, type IdempotencyRow, idempotencyLookup, idempotencyStore } from '../../db/idempotency';
import {
  addTagsStatements,
  type MemoryPatch,
  type MemoryRow,
  patchMemoryStatements,
  purgeStatements,
  removeTagStatements,
  replayedMemoriesStatement,
  restoreStatements,
  softDeleteStatements,
  toMemory,
  visibleMemorySql,
} from '../../db/memories';
import type { AppEnv } from '../../env';
import { acceptedVersions, etagOf } from '../../lib/etag';
import { idempotencyKeyOf, REPLAYED_HEADER, storedResponse } from '../../lib/idempotency';
import { MEMORY_TAGS_MAX, MEMORY_VERSION_MAX } from '../../lib/limits';
import { PLANS } from '../../lib/plans';
import { ApiError, invalidRequest } from '../../lib/problem';
import { ETAG_HEADERS, problemResponses, securedRoute } from '../../lib/route';
import { contentPart, searchDoc, tagPart, tagSegment } from '../../lib/search-text';
import { vectorLimit } from '../../vectors/vectorize';
import { embedsOnServer, embedTexts } from './embed';
import { dedupe, expiryOf, memoryDeleted, notFound, preconditionFailed, syncChanged, vectorRefusal } from './helpers';
import {
  AddTagsSchema,
  DeleteQuerySchema,
  IdempotencyHeaders,
  IfMatchHeaders,
  MemoryPathSchema,
  MemorySchema,
  PatchMemorySchema,
  ReadQuerySchema,
  TagPathSchema,
} from './schemas';
import { assumedEmbedding, rememberCaller, withCallerTenant } from './tenant';
import { quotaExceeded } from './write';

export const changeRoutes = new OpenAPIHono<AppEnv>();

const MemoryResponse = (description: string) => ({
  description,
  headers: ETAG_HEADERS,
  content: { 'application/json': { schema: MemorySchema } },
});

interface Outcome {
  caller: CallerRow;
  /** The row before the change (null: missing or invisible). */
  before: MemoryRow | null;
  /** The row after the change (null: nothing changed). */
  after: MemoryRow | null;
  /** Set when an Idempotency-Key replay applies: the stored request's memory as it is now. */
  replay: MemoryRow | null | undefined;
}

/** Runs [idempotency lookup + replay rows]?, pre-read, audit, change, [idempotency store]? in one batch. */
async function runChange(
  c: Context<AppEnv>,
  statements: D1PreparedStatement[],
  idem: IdempotencyKey | null,
  extra: { sessionId?: string; embedding?: boolean },
  store?: D1PreparedStatement,
): Promise<Outcome> {
  const db = c.env.DB;
  const sub = c.get('auth').sub;
  const head = idem ? [idempotencyLookup(db, sub, idem), replayedMemoriesStatement(db, sub, idem, extra)] : [];
  const { caller, results } = await runAsCaller(c, [...head, ...statements, ...(store ? [store] : [])]);
  rememberCaller(c, caller);
  const off = head.length;
  let replay: MemoryRow | null | undefined;
  if (idem && storedResponse(results[0]!.results[0] as IdempotencyRow | undefined, idem))
    replay = (results[1]!.results[0] as MemoryRow | undefined) ?? null;
  const before = (results[off]!.results[0] as MemoryRow | undefined) ?? null;
  const after = (results[off + statements.length - 1]!.results[0] as MemoryRow | undefined) ?? null;
  // Every change but a purge bumps the version, which is served as an int32.
  if (!after && replay === undefined && before && before.version >= MEMORY_VERSION_MAX)
    throw new ApiError(
      'version_exhausted',
      `Memory ${before.id} is at version ${MEMORY_VERSION_MAX}, the largest there is: it cannot change any more. Create a new memory from it.`,
    );
  return { caller, before, after, replay };
}

/** Scope changes and deletes are for the memory's author, owners and admins (MAY_RESCOPE_SQL). */
function requireAuthorOrAdmin(caller: CallerRow, memory: MemoryRow) {
  if (memory.user_id !== caller.user_id && caller.role === 'member')
    throw new ApiError(
      'insufficient_role',
      `Only the memory's author, an owner or an admin may change the scope of memory ${memory.id} or delete it; members may edit its content and tags.`,
    );
}

function respond(c: Context<AppEnv>, row: MemoryRow, embedding: boolean, replayed = false) {
  if (replayed) c.header(REPLAYED_HEADER, 'true');
  c.header('ETag', etagOf(row));
  return c.json(toMemory(row, embedding), 200);
}

changeRoutes.openapi(
  securedRoute(['write:memories'], {
    method: 'patch',
    path: '/v1/memories/{id}',
    operationId: 'updateMemory',
    tags: ['Memories'],
    summary: 'Update a memory',
    description:
      'Partial update of content, tags, metadata, importance and access scope; bumps `version`. With `If-Match`, only at that version (412 otherwise).',
    request: {
      params: MemoryPathSchema,
      query: ReadQuerySchema,
      headers: IfMatchHeaders,
      body: { required: true, content: { 'application/json': { schema: PatchMemorySchema } } },
    },
    responses: {
      200: MemoryResponse('The updated memory.'),
      ...problemResponses(
        'not_found',
        'memory_deleted',
        'precondition_failed',
        'vector_limit_exceeded',
        'conflict',
        'insufficient_role',
        'version_exhausted',
        'embedding_failed',
        'embedding_unavailable',
      ),
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    const { expires_at, ttl_seconds, ...fields } = c.req.valid('json');
    const now = Date.now();
    const expiry = expiryOf({ expires_at, ttl_seconds }, now);
    const patch: MemoryPatch = { ...fields, ...(expiry === undefined ? {} : { expires_at: expiry }) };
    if (patch.tags) patch.tags = dedupe(patch.tags);
    const embedding = q.include === 'embedding';
    const t = {
      id,
      sessionId: q.session_id,
      versions: acceptedVersions(c.req.valid('header')['If-Match'], id),
      // The vector index is rewritten from the changed row's vector.
      embedding: embedding || !!c.env.VECTORIZE,
    };
    const w = { sub: c.get('auth').sub, now, meta: requestMeta(c), idempotency: null, vectorMax: vectorLimit(c.env) };
    // New content without a vector: embedded here when the tenant's model is a Workers AI one
    // (else the stored vector turns stale); the batch checks the model is still the one assumed.
    const reembed = patch.content !== undefined && patch.embedding === undefined;
    const run = async (tenantId: string) => {
      const doc =
        patch.content !== undefined && patch.tags !== undefined
          ? { full: searchDoc(tenantId, patch.content, patch.tags) }
          : patch.content !== undefined
            ? { contentPart: contentPart(tenantId, patch.content) }
            : patch.tags !== undefined
              ? { tagPart: tagPart(tenantId, patch.tags) }
              : {};
      const assumed = assumedEmbedding(tenantId);
      const vector =
        reembed && embedsOnServer(assumed.model, assumed.dimensions)
          ? (await embedTexts(c.env.AI, assumed.model!, assumed.dimensions!, [patch.content!]))[0]
          : undefined;
      const statements = patchMemoryStatements(
        c.env.DB,
        t,
        { ...w, tenantId, ...(reembed ? { assumedModel: assumed.model } : {}) },
        vector ? { ...patch, embedding: vector } : patch,
        doc,
      );
      const out = await runChange(c, statements, null, t);
      return { ...out, modelChanged: reembed && !out.after && out.caller.tenant_embedding_model !== assumed.model };
    };
    // Only new search text needs the tenant up front.
    let out =
      patch.content !== undefined || patch.tags !== undefined
        ? await withCallerTenant(c, run)
        : await runChange(c, patchMemoryStatements(c.env.DB, t, { ...w, tenantId: '' }, patch, {}), null, t);
    if ('modelChanged' in out && out.modelChanged) out = await withCallerTenant(c, run);
    if (out.after) {
      await syncChanged(c, out.after);
      return respond(c, out.after, embedding);
    }
    if (!out.before) throw notFound(id);
    if (out.before.deleted_at !== null) throw memoryDeleted(id);
    if (t.versions && !t.versions.includes(out.before.version)) throw preconditionFailed(id);
    if (patch.access_scope !== undefined) requireAuthorOrAdmin(out.caller, out.before);
    if (patch.embedding) {
      const refusal = vectorRefusal(
        out.caller,
        [{ path: 'json.embedding', dimensions: patch.embedding.length }],
        out.before.embedding_status === null ? 1 : 0,
        vectorLimit(c.env),
      );
      if (refusal) throw refusal;
    }
    if (patch.access_scope === 'session' && out.before.session_id === null) {
      throw invalidRequest([
        { path: 'json.access_scope', message: 'a memory without a session cannot become session-scoped' },
      ]);
    }
    throw new Error('memory update refused without a known reason');
  },
);

changeRoutes.openapi(
  securedRoute(['write:memories'], {
    method: 'delete',
    path: '/v1/memories/{id}',
    operationId: 'deleteMemory',
    tags: ['Memories'],
    summary: 'Delete a memory',
    description:
      'Soft delete: the memory leaves lists and search and stops counting against the quota, until restored. Deleting a deleted memory is a no-op (204). ' +
      '`permanent=true` (owner or admin) deletes it for good. With `If-Match`, only at that version (412 otherwise).',
    request: { params: MemoryPathSchema, query: DeleteQuerySchema, headers: IfMatchHeaders },
    responses: {
      204: { description: 'Deleted.' },
      ...problemResponses('insufficient_role', 'not_found', 'precondition_failed', 'conflict', 'version_exhausted'),
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    const t = { id, sessionId: q.session_id, versions: acceptedVersions(c.req.valid('header')['If-Match'], id) };
    const w = { sub: c.get('auth').sub, now: Date.now(), meta: requestMeta(c), idempotency: null };
    const permanent = q.permanent;
    const out = await runChange(
      c,
      permanent ? purgeStatements(c.env.DB, t, w) : softDeleteStatements(c.env.DB, t, w),
      null,
      t,
    );
    if (out.after) {
      await syncChanged(c, out.after);
      return c.body(null, 204);
    }
    if (permanent) requireRole(out.caller, 'owner', 'admin');
    if (!out.before) throw notFound(id);
    if (t.versions && !t.versions.includes(out.before.version)) throw preconditionFailed(id);
    if (!permanent && out.before.deleted_at !== null) return c.body(null, 204);
    requireAuthorOrAdmin(out.caller, out.before);
    throw new Error('memory delete refused without a known reason');
  },
);

changeRoutes.openapi(
  securedRoute(['write:memories'], {
    method: 'post',
    path: '/v1/memories/{id}/restore',
    operationId: 'restoreMemory',
    tags: ['Memories'],
    summary: 'Restore a soft-deleted memory',
    description:
      'Brings a soft-deleted memory back (it counts against the quota again: 403 `quota_exceeded`). Restoring a live memory is a no-op (200).',
    request: { params: MemoryPathSchema, query: ReadQuerySchema, headers: IdempotencyHeaders },
    responses: {
      200: MemoryResponse('The restored memory.'),
      ...problemResponses('not_found', 'quota_exceeded', 'conflict', 'version_exhausted'),
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    const embedding = q.include === 'embedding';
    const now = Date.now();
    const idem = await idempotencyKeyOf(c, null, now);
    const t = { id, sessionId: q.session_id, embedding: embedding || !!c.env.VECTORIZE };
    const sub = c.get('auth').sub;
    const store = idem
      ? idempotencyStore(c.env.DB, sub, idem, { status: 200, body: JSON.stringify({ ids: [id] }) }, (b) =>
          visibleMemorySql(b, id, q.session_id, 'm.deleted_at IS NULL'),
        )
      : undefined;
    const out = await runChange(
      c,
      restoreStatements(c.env.DB, t, { sub, now, meta: requestMeta(c), idempotency: idem }),
      idem,
      t,
      store,
    );
    if (out.replay !== undefined) {
      if (!out.replay) throw notFound(id);
      return respond(c, out.replay, embedding, true);
    }
    if (out.after) {
      await syncChanged(c, out.after);
      return respond(c, out.after, embedding);
    }
    if (!out.before) throw notFound(id);
    if (out.before.deleted_at === null) return respond(c, out.before, embedding);
    if (out.caller.tenant_memory_count + 1 > PLANS[out.caller.tenant_plan].memories) throw quotaExceeded(out.caller, 1);
    throw new Error('memory restore refused without a known reason');
  },
);

changeRoutes.openapi(
  securedRoute(['write:memories'], {
    method: 'post',
    path: '/v1/memories/{id}/tags',
    operationId: 'addMemoryTags',
    tags: ['Memories'],
    summary: 'Add tags',
    description: `Adds tags the memory does not have yet, after the existing ones (order kept, no duplicates; at most ${MEMORY_TAGS_MAX} in all, else 422 \`too_many_tags\`). Adding tags it already has is a no-op.`,
    request: {
      params: MemoryPathSchema,
      query: ReadQuerySchema,
      headers: IdempotencyHeaders,
      body: { required: true, content: { 'application/json': { schema: AddTagsSchema } } },
    },
    responses: {
      200: MemoryResponse('The memory with its tags.'),
      ...problemResponses('not_found', 'memory_deleted', 'too_many_tags', 'conflict', 'version_exhausted'),
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    const tags = dedupe(c.req.valid('json').tags);
    const embedding = q.include === 'embedding';
    const now = Date.now();
    const idem = await idempotencyKeyOf(c, { tags }, now);
    const t = { id, sessionId: q.session_id, embedding };
    const sub = c.get('auth').sub;
    const store = idem
      ? idempotencyStore(c.env.DB, sub, idem, { status: 200, body: JSON.stringify({ ids: [id] }) }, (b) =>
          visibleMemorySql(
            b,
            id,
            q.session_id,
            `m.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM json_each(${b.bind(JSON.stringify(tags))}) x WHERE x.value NOT IN (SELECT value FROM json_each(m.tags)))`,
          ),
        )
      : undefined;
    const out = await withCallerTenant(c, (tenantId) => {
      const segments = tags.map((tag): [string, string] => [tag, tagSegment(tenantId, tag)]);
      return runChange(
        c,
        addTagsStatements(
          c.env.DB,
          t,
          { sub, tenantId, now, meta: requestMeta(c), idempotency: idem },
          segments,
          MEMORY_TAGS_MAX,
        ),
        idem,
        t,
        store,
      );
    });
    if (out.replay !== undefined) {
      if (!out.replay) throw notFound(id);
      return respond(c, out.replay, embedding, true);
    }
    if (out.after) return respond(c, out.after, embedding);
    if (!out.before) throw notFound(id);
    if (out.before.deleted_at !== null) throw memoryDeleted(id);
    const current = JSON.parse(out.before.tags) as string[];
    const added = tags.filter((tag) => !current.includes(tag));
    if (added.length === 0) return respond(c, out.before, embedding);
    throw new ApiError(
      'too_many_tags',
      `A memory has at most ${MEMORY_TAGS_MAX} tags; it has ${current.length} and this adds ${added.length}.`,
      {
        errors: [{ path: 'json.tags', message: `at most ${MEMORY_TAGS_MAX} tags in all` }],
      },
    );
  },
);

changeRoutes.openapi(
  securedRoute(['write:memories'], {
    method: 'delete',
    path: '/v1/memories/{id}/tags/{tag}',
    operationId: 'removeMemoryTag',
    tags: ['Memories'],
    summary: 'Remove a tag',
    description:
      'Removes one tag (exact match; URL-encode it). Removing a tag the memory does not have is a no-op (200). With `If-Match`, only at that version.',
    request: { params: TagPathSchema, query: ReadQuerySchema, headers: IfMatchHeaders },
    responses: {
      200: MemoryResponse('The memory with its tags.'),
      ...problemResponses('not_found', 'memory_deleted', 'precondition_failed', 'conflict', 'version_exhausted'),
    },
  }),
  async (c) => {
    const { id, tag } = c.req.valid('param');
    const q = c.req.valid('query');
    const embedding = q.include === 'embedding';
    const t = {
      id,
      sessionId: q.session_id,
      versions: acceptedVersions(c.req.valid('header')['If-Match'], id),
      embedding,
    };
    const sub = c.get('auth').sub;
    const out = await withCallerTenant(c, (tenantId) =>
      runChange(
        c,
        removeTagStatements(
          c.env.DB,
          t,
          { sub, tenantId, now: Date.now(), meta: requestMeta(c), idempotency: null },
          tag,
          tagSegment(tenantId, tag),
        ),
        null,
        t,
      ),
    );
    if (out.after) return respond(c, out.after, embedding);
    if (!out.before) throw notFound(id);
    if (out.before.deleted_at !== null) throw memoryDeleted(id);
    if (t.versions && !t.versions.includes(out.before.version)) throw preconditionFailed(id);
    return respond(c, out.before, embedding);
  },
);
