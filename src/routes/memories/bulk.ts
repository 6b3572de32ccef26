// POST /v1/memories/bulk-delete: up to BULK_DELETE_MAX memories per call, atomically, each with its
// audit row; the caller repeats while `remaining`.
import { OpenAPIHono } from '@hono/zod-openapi';
import { requestMeta, requireRole, runAsCaller } from '../../auth/caller';
import { bulkDeleteStatements } from '../../db/memories';
import type { AppEnv } from '../../env';
import { BULK_DELETE_MAX } from '../../lib/limits';
import { invalidRequest } from '../../lib/problem';
import { problemResponses, securedRoute } from '../../lib/route';
import { syncIndex } from '../../vectors/vectorize';
import { bodyMetadataFilters, filtersOf } from './helpers';
import { BulkDeleteResultSchema, BulkDeleteSchema } from './schemas';
import { rememberCaller } from './tenant';

export const bulkRoutes = new OpenAPIHono<AppEnv>();

bulkRoutes.openapi(
  securedRoute(['write:memories'], {
    method: 'post',
    path: '/v1/memories/bulk-delete',
    operationId: 'bulkDeleteMemories',
    tags: ['Memories'],
    summary: 'Delete memories by filter',
    description:
      `Deletes the memories the \`filter\` selects (the list filters), oldest first, at most ${BULK_DELETE_MAX} per call, all-or-nothing, ` +
      'each with its audit row. Repeat the call while `remaining` is true. `mode: "soft"` soft-deletes live memories the caller may delete one by one; ' +
      '`mode: "purge"` deletes for good (owner or admin) every matching memory of the tenant, private and session memories of other users included, ' +
      'soft-deleted ones too unless `filter.deleted` says otherwise. ' +
      '`dry_run: true` only counts. An empty filter (the whole tenant) needs `all: true` and the owner or admin role. ' +
      'To forget an end user: `{"filter": {"subject_id": ["alice"]}, "mode": "purge"}` until `remaining` is false.',
    request: { body: { required: true, content: { 'application/json': { schema: BulkDeleteSchema } } } },
    responses: {
      200: {
        description: 'What matched and what was deleted.',
        content: { 'application/json': { schema: BulkDeleteResultSchema } },
      },
      ...problemResponses('insufficient_role', 'conflict'),
    },
  }),
  async (c) => {
    const body = c.req.valid('json');
    const f = body.filter;
    const unfiltered = Object.values(f).every((v) => v === undefined || (Array.isArray(v) && v.length === 0));
    if (unfiltered && !body.all)
      throw invalidRequest([
        { path: 'json.filter', message: 'an empty filter selects the whole tenant; send `all: true` to mean it' },
      ]);
    if (!unfiltered && body.all)
      throw invalidRequest([{ path: 'json.all', message: '`all: true` goes with an empty filter only' }]);
    const filters = filtersOf(f, bodyMetadataFilters(f.metadata));
    const built = bulkDeleteStatements(
      c.env.DB,
      filters,
      { mode: body.mode, dryRun: body.dry_run, limit: BULK_DELETE_MAX, all: unfiltered },
      { sub: c.get('auth').sub, now: Date.now(), meta: requestMeta(c), idempotency: null },
    );
    const { caller, results } = await runAsCaller(c, built.statements);
    rememberCaller(c, caller);
    // The statements wrote nothing for a caller without the role; say why.
    if (unfiltered || body.mode === 'purge') requireRole(caller, 'owner', 'admin');
    const { matched, deleted, ids } = built.decode(results);
    await syncIndex(c.env, { remove: ids });
    return c.json({ matched, deleted, remaining: matched > deleted }, 200);
  },
);
