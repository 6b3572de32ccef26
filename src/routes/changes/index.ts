// GET /v1/changes: the change feed, one D1 round trip, no writes.
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { runAsCaller } from '../../auth/caller';
import { type ChangeRow, listChangesStatement, toChange } from '../../db/changes';
import type { AppEnv } from '../../env';
import { cursorBinding, decodeCursor, encodeCursor } from '../../lib/cursor';
import { CHANGE_FEED_RETENTION_MS, PAGE_LIMIT_MAX } from '../../lib/limits';
import { PageQuerySchema } from '../../lib/pagination';
import { ApiError } from '../../lib/problem';
import { problemResponses, securedRoute } from '../../lib/route';
import { MEMORY_EXAMPLE, MemoryIdSchema, MemorySchema } from '../memories/schemas';

export const changes = new OpenAPIHono<AppEnv>();

const RETENTION_DAYS = CHANGE_FEED_RETENTION_MS / 86_400_000;
export const CHANGE_TYPES = [
  'create',
  'import',
  'update',
  'tags_add',
  'tag_remove',
  'delete',
  'restore',
  'version_restore',
  'purge',
  'expire',
] as const;

export const ChangeSchema = z
  .object({
    seq: z
      .number()
      .int()
      .min(1)
      .max(Number.MAX_SAFE_INTEGER)
      .openapi({ description: 'Position in the feed: strictly increasing in commit order.', example: 42 }),
    type: z.enum(CHANGE_TYPES).openapi({
      description:
        '`create` (also batch creates), `import` (POST /v1/import), `update`, `tags_add`, `tag_remove`, `delete` (soft), `restore`, ' +
        '`version_restore`, `purge` (permanent delete, single or bulk) and `expire` (removed by the expiry cron).',
      example: 'update',
    }),
    memory_id: MemoryIdSchema,
    occurred_at: z.string().max(40).openapi({ format: 'date-time', example: '2026-01-01T12:00:00.000Z' }),
    memory: MemorySchema.nullable().openapi({
      description:
        'The memory as it was right after this change (no embedding). Null for `purge` and `expire` tombstones, and for every change of a ' +
        'memory the caller can no longer see (e.g. purged since).',
    }),
  })
  .openapi('Change');

const ChangePageSchema = z
  .object({
    data: z.array(ChangeSchema).max(PAGE_LIMIT_MAX),
    cursor: z.string().max(2048).openapi({
      description:
        'Pass as `after` to continue; always present, also on an empty page (poll with it later). The feed has no last page.',
      example: 'eyJwIjpbNDIsMTc2NzI2OTYwMDAwMCwidG50XzAxIl19.c2ln',
    }),
    has_more: z.boolean().openapi({ description: 'True when more changes are already waiting.', example: false }),
  })
  .openapi('ChangePage', {
    example: {
      data: [
        {
          seq: 42,
          type: 'update',
          memory_id: MEMORY_EXAMPLE.id,
          occurred_at: '2026-01-01T12:00:00.000Z',
          memory: MEMORY_EXAMPLE,
        },
      ],
      cursor: 'eyJwIjpbNDIsMTc2NzI2OTYwMDAwMCwidG50XzAxIl19.c2ln',
      has_more: false,
    },
  });

const ChangesQuery = z.object({
  after: z
    .string()
    .min(1)
    .max(2048)
    .optional()
    .openapi({ description: "A previous page's `cursor`; omitted: from the oldest retained change." }),
  limit: PageQuerySchema.shape.limit,
});

const invalidCursor = () =>
  new ApiError('invalid_cursor', 'The cursor is invalid or belongs to another caller.', {
    errors: [{ path: 'query.after', message: 'invalid cursor' }],
  });

changes.openapi(
  securedRoute(['read:memories'], {
    method: 'get',
    path: '/v1/changes',
    operationId: 'listChanges',
    tags: ['Changes'],
    summary: 'List changes to memories (change feed)',
    description:
      "Every change to the memories the caller may see, exactly once, in commit order (`seq`). Resume from any page's `cursor` " +
      `(pass it as \`after\`). Changes are kept ${RETENTION_DAYS} days: a cursor whose position is older than that is a 410 \`cursor_expired\` ` +
      '(re-sync with GET /v1/export, then read the feed from the start). Session-scoped memories are not in the feed.',
    request: { query: ChangesQuery },
    responses: {
      200: { description: 'A page of changes.', content: { 'application/json': { schema: ChangePageSchema } } },
      ...problemResponses('invalid_cursor', 'cursor_not_configured', 'cursor_expired'),
    },
  }),
  async (c) => {
    const q = c.req.valid('query');
    const sub = c.get('auth').sub;
    const binding = cursorBinding(sub, 'listChanges', {});
    const now = Date.now();
    // Position: [last seq returned, time up to which every change was seen, tenant].
    let after = 0;
    let tenant: string | undefined;
    if (q.after) {
      const [seq, seenUntil, t] = await decodeCursor(c.env, binding, q.after).catch(() => {
        throw invalidCursor();
      });
      if (!Number.isSafeInteger(seq) || typeof seenUntil !== 'number' || typeof t !== 'string') throw invalidCursor();
      if (seenUntil < now - CHANGE_FEED_RETENTION_MS) {
        throw new ApiError(
          'cursor_expired',
          `The cursor is older than the feed's ${RETENTION_DAYS}-day retention, so changes may be missing: re-sync with GET /v1/export, then read the feed from the start.`,
        );
      }
      after = seq as number;
      tenant = t;
    }
    const { caller, results } = await runAsCaller(c, [listChangesStatement(c.env.DB, sub, after, q.limit)]);
    if (tenant !== undefined && tenant !== caller.tenant_id) throw invalidCursor();
    const rows = results[0]!.results as ChangeRow[];
    const page = rows.slice(0, q.limit);
    const has_more = rows.length > q.limit;
    const last = page.at(-1);
    // A full page has seen everything up to its last change; a short one everything up to now.
    const cursor = await encodeCursor(c.env, binding, [
      last?.seq ?? after,
      has_more && last ? last.occurred_at : now,
      caller.tenant_id,
    ]);
    return c.json({ data: page.map(toChange), cursor, has_more }, 200);
  },
);
