import { z } from '@hono/zod-openapi';
import { idempotencyKeyHeader } from '../../lib/idempotency';
import { demoId, idPattern } from '../../lib/ids';
import {
  BULK_DELETE_MAX,
  FILTER_VALUES_MAX,
  MEMORY_BATCH_MAX,
  MEMORY_CONTENT_MAX,
  MEMORY_EMBEDDING_MAX_DIMENSIONS,
  MEMORY_LABEL_MAX,
  MEMORY_METADATA_KEY_MAX,
  MEMORY_METADATA_MAX_BYTES,
  MEMORY_SOURCE_MAX,
  MEMORY_TAG_MAX_CHARS,
  MEMORY_TAGS_MAX,
  MEMORY_TTL_MAX_SECONDS,
  METADATA_MAX_DEPTH,
  SEARCH_QUERY_MAX,
  SEARCH_TOP_K_MAX,
} from '../../lib/limits';
import { PageQuerySchema, pageSchema } from '../../lib/pagination';
import { metadataSchema, queryFlag } from '../../lib/schemas';
import { fromIso } from '../../lib/time';
import { FUSION_WEIGHTS_DEFAULT } from '../../lib/vectors';

export const MemoryIdSchema = z
  .string()
  .max(30)
  .regex(idPattern('mem'), 'must be a memory id (mem_…)')
  .openapi({ example: demoId('mem') });
export const SessionIdSchema = z
  .string()
  .max(30)
  .regex(idPattern('ses'), 'must be a session id (ses_…)')
  .openapi({ example: 'ses_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3' });
const UserIdSchema = z.string().max(30).regex(idPattern('usr'), 'must be a user id (usr_…)');

/** Text the database stores as given: no NUL (SQLite text ends there) and no lone UTF-16 surrogate (not valid UTF-8). */
const storable = (schema: z.ZodString) =>
  schema
    .refine((v) => !v.includes('\u0000'), 'must not contain NUL characters')
    .refine(
      (v) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(v),
      'must be valid Unicode (no lone surrogates)',
    );

export const TagSchema = storable(
  z
    .string()
    .min(1)
    .max(MEMORY_TAG_MAX_CHARS)
    .regex(/^[^\x00-\x1f\x7f]+$/, 'must not contain control characters'),
).openapi({ example: 'preferences' });
const TagsSchema = z
  .array(TagSchema)
  .max(MEMORY_TAGS_MAX)
  .openapi({
    description: `Up to ${MEMORY_TAGS_MAX} tags of 1–${MEMORY_TAG_MAX_CHARS} characters; duplicates are dropped (first occurrence kept, order kept).`,
    example: ['preferences', 'ui'],
  });

const ScopeSchema = z.enum(['private', 'session', 'global']).openapi({
  description:
    '`private`: only its author sees it. `session`: only its author, in requests that name its (live) session with `session_id`. `global`: everyone in the tenant.',
});

const MetadataSchema = metadataSchema(MEMORY_METADATA_MAX_BYTES).openapi({
  description: `Any JSON object, at most ${MEMORY_METADATA_MAX_BYTES} bytes serialized and ${METADATA_MAX_DEPTH} levels deep. Filter on top-level keys with \`metadata.<key>=<value>\`.`,
  example: { app: 'support-bot', priority: 2 },
});

/** subject_id / agent_id: labels the integrator chooses; printable (no C0/C1 control characters). */
const LabelSchema = storable(
  z
    .string()
    .min(1)
    .max(MEMORY_LABEL_MAX)
    .regex(/^[^\x00-\x1f\x7f-\x9f]+$/, 'must not contain control characters'),
);
const SubjectIdSchema = LabelSchema.openapi({
  description: `Your own id for the end user this memory is about (1–${MEMORY_LABEL_MAX} printable characters). A label for filtering and bulk deletion, not an identity: it grants and restricts no access.`,
  example: 'alice',
});
const AgentIdSchema = LabelSchema.openapi({
  description: `Your own id for the agent that wrote or uses this memory (1–${MEMORY_LABEL_MAX} printable characters). A label, like \`subject_id\`.`,
  example: 'support-bot',
});
const ExpiresAtSchema = z
  .string()
  .max(40)
  .refine((v) => fromIso(v) !== undefined, 'must be an RFC 3339 date-time')
  .refine((v) => (fromIso(v) ?? 0) > Date.now(), 'must be in the future')
  .refine((v) => (fromIso(v) ?? 0) <= Date.now() + MEMORY_TTL_MAX_SECONDS * 1000, 'must be at most 10 years ahead')
  .openapi({
    format: 'date-time',
    description:
      'RFC 3339, in the future, at most 10 years ahead. From then on the memory is gone: not listed, searched, exported or readable (404); the maintenance cron then deletes it.',
    example: '2027-01-01T00:00:00Z',
  });
const TtlSecondsSchema = z
  .number()
  .int()
  .min(1)
  .max(MEMORY_TTL_MAX_SECONDS)
  .openapi({ description: 'Instead of `expires_at`: expire this many seconds from now.', example: 86400 });

/** expires_at and ttl_seconds are alternatives. */
const oneExpiry = (m: { expires_at?: unknown; ttl_seconds?: unknown }, ctx: z.RefinementCtx) => {
  if (m.expires_at !== undefined && m.expires_at !== null && m.ttl_seconds !== undefined)
    ctx.addIssue({ code: 'custom', path: ['ttl_seconds'], message: 'send either expires_at or ttl_seconds, not both' });
};

const ContentSchema = storable(z.string().min(1).max(MEMORY_CONTENT_MAX)).openapi({
  description: `1–${MEMORY_CONTENT_MAX} characters.`,
  example: 'The user prefers dark mode and metric units.',
});
const ImportanceSchema = z
  .number()
  .int()
  .min(1)
  .max(10)
  .openapi({ description: '1 (trivia) to 10 (critical).', example: 7 });

const EmbeddingSchema = z
  .array(z.number())
  .min(1)
  .max(MEMORY_EMBEDDING_MAX_DIMENSIONS)
  .openapi({
    description:
      "Optional vector for semantic search: exactly the tenant's `embedding.dimensions` finite numbers (GET /v1/tenant; 422 naming the expected and received dimensions otherwise). " +
      'Stored as given and returned only with `include=embedding`.',
    example: [0.12, -0.5, 0.33],
  });

export const CreateMemorySchema = z
  .object({
    content: ContentSchema,
    tags: TagsSchema.default([]),
    metadata: MetadataSchema.default({}),
    importance: ImportanceSchema.default(5),
    access_scope: ScopeSchema.default('private'),
    session_id: SessionIdSchema.nullable()
      .default(null)
      .openapi({ description: "One of the caller's live sessions. Required when `access_scope` is `session`." }),
    source: storable(
      z
        .string()
        .min(1)
        .max(MEMORY_SOURCE_MAX)
        .regex(/^[^\x00-\x1f\x7f]+$/, 'must not contain control characters'),
    )
      .nullable()
      .default(null)
      .openapi({ description: 'Where the memory came from (free text).', example: 'chat' }),
    embedding: EmbeddingSchema.nullable().default(null),
    subject_id: SubjectIdSchema.nullable().default(null),
    agent_id: AgentIdSchema.nullable().default(null),
    expires_at: ExpiresAtSchema.nullable().optional(),
    ttl_seconds: TtlSecondsSchema.optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.access_scope === 'session' && !m.session_id)
      ctx.addIssue({ code: 'custom', path: ['session_id'], message: 'is required when access_scope is session' });
    oneExpiry(m, ctx);
  })
  // The example names no session: one that exists on the reader's server cannot be known here.
  .openapi('CreateMemory', {
    example: {
      content: 'Prefers dark mode in every app.',
      tags: ['preferences', 'ui'],
      metadata: { project: 'memoria' },
      importance: 7,
      access_scope: 'private',
      source: 'chat',
      subject_id: 'alice',
      agent_id: 'support-bot',
    },
  });

export const BatchCreateSchema = z
  .object({
    memories: z
      .array(CreateMemorySchema)
      .min(1)
      .max(MEMORY_BATCH_MAX)
      .openapi({ description: `1–${MEMORY_BATCH_MAX} memories, created all-or-nothing.` }),
  })
  .strict()
  .openapi('BatchCreateMemories', {
    example: {
      memories: [
        { content: 'Prefers dark mode in every app.', tags: ['preferences'], importance: 7 },
        { content: 'Lives in Lisbon.', tags: ['profile'], metadata: { project: 'memoria' } },
      ],
    },
  });

export const PatchMemorySchema = z
  .object({
    content: ContentSchema.optional(),
    tags: TagsSchema.optional().openapi({ description: 'Replaces all tags.' }),
    metadata: MetadataSchema.optional().openapi({ description: 'Replaces the whole metadata object.' }),
    importance: ImportanceSchema.optional(),
    access_scope: ScopeSchema.optional().openapi({
      description: 'A memory can become `session`-scoped only if it belongs to a session.',
    }),
    subject_id: SubjectIdSchema.nullable().optional().openapi({ description: '`null` clears it.' }),
    agent_id: AgentIdSchema.nullable().optional().openapi({ description: '`null` clears it.' }),
    expires_at: ExpiresAtSchema.nullable()
      .optional()
      .openapi({ description: 'RFC 3339 (future, ≤ 10 years); `null`: never expires.' }),
    ttl_seconds: TtlSecondsSchema.optional(),
    embedding: EmbeddingSchema.nullable().optional().openapi({
      description:
        "A new vector (the tenant's `embedding.dimensions` numbers), or null to remove it. A `content` change without it marks the stored vector `stale`.",
    }),
  })
  .strict()
  .superRefine(oneExpiry)
  .refine((p) => Object.keys(p).length > 0, 'must change at least one field')
  .openapi('PatchMemory', { example: { importance: 8, tags: ['preferences', 'ui'] } });

export const AddTagsSchema = z
  .object({
    tags: z
      .array(TagSchema)
      .min(1)
      .max(MEMORY_TAGS_MAX)
      .openapi({ example: ['travel', 'family'] }),
  })
  .strict()
  .openapi('AddTags', { example: { tags: ['travel', 'family'] } });

export const MEMORY_EXAMPLE = {
  id: demoId('mem'),
  user_id: demoId('usr'),
  session_id: null,
  content: 'The user prefers dark mode and metric units.',
  tags: ['preferences', 'ui'],
  metadata: { app: 'support-bot', priority: 2 },
  importance: 7,
  access_scope: 'private',
  source: 'chat',
  subject_id: 'alice',
  agent_id: 'support-bot',
  expires_at: null,
  embedding_status: null,
  version: 1,
  created_at: '2026-01-01T12:00:00.000Z',
  updated_at: '2026-01-01T12:00:00.000Z',
  deleted_at: null,
};

export const MemorySchema = z
  .object({
    id: MemoryIdSchema,
    user_id: z
      .string()
      .max(30)
      .nullable()
      .openapi({ description: 'The author.', example: 'usr_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3' }),
    session_id: z.string().max(30).nullable(),
    content: z.string().max(MEMORY_CONTENT_MAX),
    tags: z.array(z.string().max(MEMORY_TAG_MAX_CHARS)).max(MEMORY_TAGS_MAX),
    metadata: z.record(z.string(), z.unknown()),
    importance: z.number().int().min(1).max(10),
    access_scope: z.enum(['private', 'session', 'global']),
    source: z.string().max(MEMORY_SOURCE_MAX).nullable(),
    subject_id: z
      .string()
      .max(MEMORY_LABEL_MAX)
      .nullable()
      .openapi({ description: 'Your end-user label (not an identity).', example: 'alice' }),
    agent_id: z
      .string()
      .max(MEMORY_LABEL_MAX)
      .nullable()
      .openapi({ description: 'Your agent label.', example: 'support-bot' }),
    expires_at: z
      .string()
      .max(40)
      .nullable()
      .openapi({ format: 'date-time', description: 'When the memory expires (null: never).' }),
    embedding: z
      .array(z.number())
      .max(MEMORY_EMBEDDING_MAX_DIMENSIONS)
      .nullable()
      .optional()
      .openapi({ description: 'Present only with `include=embedding`.' }),
    embedding_status: z.enum(['current', 'stale']).nullable().openapi({
      description:
        '`current`: the vector is searchable. `stale`: the content changed after it was embedded; it is left out of semantic search until a new `embedding` is sent. null: no vector.',
    }),
    version: z
      .number()
      .int()
      .min(1)
      .max(2 ** 31 - 1)
      .openapi({ description: 'Bumped by every change; the ETag is `"<id>-v<version>"`.', example: 1 }),
    created_at: z.string().max(40).openapi({ format: 'date-time', example: '2026-01-01T12:00:00.000Z' }),
    updated_at: z.string().max(40).openapi({ format: 'date-time', example: '2026-01-01T12:00:00.000Z' }),
    deleted_at: z
      .string()
      .max(40)
      .nullable()
      .openapi({ format: 'date-time', description: 'Set while soft-deleted (restore with POST …/restore).' }),
  })
  .openapi('Memory', { example: MEMORY_EXAMPLE });

/** What a keyword `score` means (the spec states it). */
export const SCORE_DOC =
  "Relevance, higher is better: BM25 (k1 1.2, b 0.75) computed from your tenant's own memories only — how many hold each word and " +
  "how long they are — so other tenants' data never changes it. Comparable within one query only.";

export const SearchHitSchema = MemorySchema.extend({
  score: z.number().openapi({
    description: SCORE_DOC,
    example: 4.21,
  }),
  snippet: z.string().max(4000).openapi({
    description:
      'Up to 200 characters of the content around the first match, HTML-escaped, with matched words wrapped in `<mark>…</mark>`.',
    example: 'The user prefers <mark>dark</mark> mode and metric units.',
  }),
}).openapi('MemorySearchHit', {
  example: { ...MEMORY_EXAMPLE, score: 4.21, snippet: 'The user prefers <mark>dark</mark> mode and metric units.' },
});

export const MemoryPageSchema = pageSchema(MemorySchema, 'MemoryPage');
export const SearchPageSchema = pageSchema(SearchHitSchema, 'MemorySearchPage');
export const MemoryListSchema = z.object({ data: z.array(MemorySchema).max(MEMORY_BATCH_MAX) }).openapi('MemoryList');

/** A query parameter that may repeat (`?tag=a&tag=b`). */
const repeatable = <T extends z.ZodTypeAny>(item: T, description: string, example: string[]) =>
  z
    .preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(item).max(FILTER_VALUES_MAX))
    .optional()
    .openapi({ description: `${description} Repeatable, up to ${FILTER_VALUES_MAX} times.`, example });

/** A repeatable subject_id / agent_id query filter. */
export const labelFilter = (description: string, example: string) => repeatable(LabelSchema, description, [example]);

/** An RFC 3339 date-time query parameter (also used by the audit-log filters). */
export const DateTimeParam = z
  .string()
  .max(40)
  .refine((v) => fromIso(v) !== undefined, 'must be an RFC 3339 date-time')
  .openapi({ format: 'date-time' });
const rfc3339 = DateTimeParam;

export const IncludeSchema = z
  .enum(['embedding'])
  .optional()
  .openapi({ description: "`embedding`: also return each memory's embedding." });
const SessionParam = SessionIdSchema.optional().openapi({
  description:
    "Names the caller's live session: makes that session's `session`-scoped memories visible. On lists and search it also filters to memories of that session.",
});

export const ReadQuerySchema = z.object({ session_id: SessionParam, include: IncludeSchema });

// The examples select what the CreateMemory example creates, so the docs page's "Try it" on a
// list or search finds the memory its "Try it" on create made.
const FilterFields = {
  tag: repeatable(TagSchema, 'Only memories that have ALL these tags.', ['preferences']),
  any_tag: repeatable(TagSchema, 'Only memories that have AT LEAST ONE of these tags.', ['ui', 'travel']),
  min_importance: z.coerce
    .number()
    .int()
    .min(1)
    .max(10)
    .optional()
    .openapi({ description: 'Only memories with importance ≥ this.', example: 5 }),
  access_scope: ScopeSchema.optional(),
  session_id: SessionParam,
  user_id: UserIdSchema.optional().openapi({
    description: 'Only memories by this author (still only those visible to the caller).',
    example: 'usr_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3',
  }),
  subject_id: labelFilter('Only memories about one of these end users (`subject_id`).', 'alice'),
  agent_id: labelFilter('Only memories of one of these agents (`agent_id`).', 'support-bot'),
  created_after: rfc3339
    .optional()
    .openapi({ description: 'RFC 3339; only memories created strictly after.', example: '2026-01-01T00:00:00Z' }),
  created_before: rfc3339
    .optional()
    .openapi({ description: 'RFC 3339; only memories created strictly before.', example: '2100-01-01T00:00:00Z' }),
  include: IncludeSchema,
  // Read from the raw query by metadataFilters (routes/memories/helpers.ts); declared for the spec.
  metadata: z
    .record(z.string().max(MEMORY_METADATA_KEY_MAX), z.string().max(1024))
    .optional()
    .openapi({
      param: { style: 'deepObject', explode: true },
      maxProperties: FILTER_VALUES_MAX,
      description:
        'Equality on top-level metadata keys, sent as `metadata[<key>]=<value>` (deepObject; up to 20; key 1–64 of `A–Z a–z 0–9 _ -`): ' +
        'text values compare as text, numbers numerically, `true`/`false` as booleans. The form `metadata.<key>=<value>` is accepted too.',
      example: { project: 'memoria' },
    }),
};
export const METADATA_FILTER_DOC =
  ' Also accepts `metadata.<key>=<value>` (up to 20; key 1–64 of `A–Z a–z 0–9 _ -`): equality on a top-level metadata key — ' +
  'text values compare as text, numbers numerically, `true`/`false` as booleans.';

export const ListQuerySchema = PageQuerySchema.extend({
  ...FilterFields,
  deleted: z
    .enum(['exclude', 'only', 'include'])
    .default('exclude')
    .openapi({ description: 'Soft-deleted memories: left out (default), only them, or both.' }),
  order: z
    .enum(['desc', 'asc'])
    .default('desc')
    .openapi({ description: 'By creation time: newest first (default) or oldest first.' }),
});

export const SearchQuerySchema = PageQuerySchema.extend({
  q: z
    .string()
    .min(1)
    .max(SEARCH_QUERY_MAX)
    .openapi({ description: `The search text, 1–${SEARCH_QUERY_MAX} characters.`, example: 'dark mode' }),
  syntax: z
    .enum(['plain', 'fts'])
    .default('plain')
    .openapi({
      description:
        '`plain` (default): the words are searched, any punctuation or operator is just text. `fts`: a validated subset of FTS5 syntax — ' +
        'terms, "quoted phrases", `prefix*`, upper-case `AND` / `OR` / `NOT` and parentheses (no column filters, NEAR or ^); invalid syntax is a 400 `invalid_query`.',
    }),
  match: z
    .enum(['all', 'any'])
    .default('any')
    .openapi({
      description:
        'Plain syntax only: `any` (default) finds memories holding any of the words, those with more and rarer words first; `all` requires every word. ' +
        'English stop words ("what", "does", "the"…) are left out unless the query has nothing else.',
    }),
  ...FilterFields,
});

export const MemoryPathSchema = z.object({
  id: MemoryIdSchema.openapi({ param: { name: 'id', in: 'path' }, description: 'The memory id (`mem_…`).' }),
});
export const TagPathSchema = z.object({
  id: MemoryIdSchema.openapi({ param: { name: 'id', in: 'path' }, description: 'The memory id (`mem_…`).' }),
  tag: TagSchema.openapi({ param: { name: 'tag', in: 'path' }, description: 'The tag, URL-encoded.' }),
});

export const IdempotencyHeaders = z.object({ 'Idempotency-Key': idempotencyKeyHeader });
export const IfMatchHeaders = z.object({
  'If-Match': z
    .string()
    .max(1024)
    .optional()
    .openapi({
      description:
        'The memory\'s ETag (`"<id>-v<version>"`), or `*`: the change only happens at that version, else 412 `precondition_failed`.',
      example: `"${demoId('mem')}-v1"`,
    }),
});

export const DeleteQuerySchema = z.object({
  session_id: SessionParam,
  permanent: queryFlag('`true`: delete for good (owner or admin only); the audit row keeps the last content.', false),
});

export const VersionPathSchema = z.object({
  id: MemoryIdSchema.openapi({ param: { name: 'id', in: 'path' }, description: 'The memory id (`mem_…`).' }),
  version: z.coerce
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1)
    .openapi({
      param: { name: 'version', in: 'path' },
      description: 'A version number from the versions list.',
      example: 2,
    }),
});

export const VersionsQuerySchema = PageQuerySchema.extend({ session_id: SessionParam });

export const MemoryVersionSchema = z
  .object({
    version: z
      .number()
      .int()
      .min(1)
      .max(2 ** 31 - 1),
    content: z.string().max(MEMORY_CONTENT_MAX),
    tags: z.array(z.string().max(MEMORY_TAG_MAX_CHARS)).max(MEMORY_TAGS_MAX),
    metadata: z.record(z.string(), z.unknown()),
    importance: z.number().int().min(1).max(10),
    access_scope: z.enum(['private', 'session', 'global']),
    subject_id: z.string().max(MEMORY_LABEL_MAX).nullable(),
    agent_id: z.string().max(MEMORY_LABEL_MAX).nullable(),
    expires_at: z.string().max(40).nullable().openapi({ format: 'date-time' }),
    changed_at: z.string().max(40).openapi({ format: 'date-time', description: 'When this version was written.' }),
    changed_by: z.string().max(30).nullable().openapi({ description: 'The user who wrote this version (`usr_…`).' }),
    action: z
      .string()
      .max(64)
      .openapi({ description: 'The audit action that wrote this version, e.g. `memory.create`, `memory.update`.' }),
  })
  .openapi('MemoryVersion', {
    example: {
      version: 2,
      content: 'The user prefers dark mode.',
      tags: ['preferences'],
      metadata: {},
      importance: 5,
      access_scope: 'private',
      subject_id: 'alice',
      agent_id: null,
      expires_at: null,
      changed_at: '2026-01-01T12:00:00.000Z',
      changed_by: 'usr_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3',
      action: 'memory.update',
    },
  });
export const MemoryVersionPageSchema = pageSchema(MemoryVersionSchema, 'MemoryVersionPage');

const filterValues = <T extends z.ZodTypeAny>(item: T, description: string) =>
  z
    .array(item)
    .min(1)
    .max(FILTER_VALUES_MAX)
    .optional()
    .openapi({ description: `${description} Up to ${FILTER_VALUES_MAX}.` });

/** The list filters as a JSON object (bulk delete). */
export const BulkDeleteFilterSchema = z
  .object({
    tag: filterValues(TagSchema, 'Only memories that have ALL these tags.'),
    any_tag: filterValues(TagSchema, 'Only memories that have AT LEAST ONE of these tags.'),
    min_importance: ImportanceSchema.optional().openapi({ description: 'Only memories with importance ≥ this.' }),
    access_scope: ScopeSchema.optional(),
    session_id: SessionIdSchema.optional().openapi({
      description:
        "One of the caller's live sessions: its `session`-scoped memories become visible, and only memories of that session match.",
    }),
    user_id: UserIdSchema.optional().openapi({ description: 'Only memories by this author.' }),
    subject_id: filterValues(LabelSchema, 'Only memories about one of these end users.'),
    agent_id: filterValues(LabelSchema, 'Only memories of one of these agents.'),
    created_after: DateTimeParam.optional().openapi({ description: 'RFC 3339; only memories created strictly after.' }),
    created_before: DateTimeParam.optional().openapi({
      description: 'RFC 3339; only memories created strictly before.',
    }),
    metadata: z
      .record(
        z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'metadata keys are 1–64 characters of A–Z a–z 0–9 _ -'),
        z.union([z.string().max(1024), z.number(), z.boolean()]),
      )
      .refine((m) => Object.keys(m).length <= FILTER_VALUES_MAX, `at most ${FILTER_VALUES_MAX} keys`)
      .optional()
      .openapi({
        description: 'Equality on top-level metadata keys (as `metadata.<key>=<value>` on the list).',
        example: { app: 'support-bot' },
      }),
    deleted: z.enum(['exclude', 'only', 'include']).optional().openapi({
      description:
        'Purge mode only: soft-deleted memories left out, only them, or both (default). Soft mode always takes live memories.',
    }),
  })
  .strict()
  .openapi('BulkDeleteFilter');

export const BulkDeleteSchema = z
  .object({
    filter: BulkDeleteFilterSchema,
    mode: z
      .enum(['soft', 'purge'])
      .openapi({ description: '`soft`: soft delete (restorable). `purge`: for good (owner or admin).' }),
    dry_run: z.boolean().default(false).openapi({ description: 'Only count what would be deleted.' }),
    all: z
      .boolean()
      .default(false)
      .openapi({ description: 'Required (true) with an empty filter: the whole tenant. Owner or admin only.' }),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.mode === 'soft' && b.filter.deleted !== undefined && b.filter.deleted !== 'exclude')
      ctx.addIssue({ code: 'custom', path: ['filter', 'deleted'], message: 'soft mode only deletes live memories' });
  })
  .openapi('BulkDelete', { example: { filter: { subject_id: ['alice'] }, mode: 'purge' } });

export const BulkDeleteResultSchema = z
  .object({
    matched: z
      .number()
      .int()
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .openapi({ description: 'Memories the filter selected before this call.' }),
    deleted: z
      .number()
      .int()
      .min(0)
      .max(BULK_DELETE_MAX)
      .openapi({ description: `Deleted by this call (at most ${BULK_DELETE_MAX}; 0 on a dry run).` }),
    remaining: z.boolean().openapi({ description: 'More matching memories are left: call again.' }),
  })
  .openapi('BulkDeleteResult', { example: { matched: 1200, deleted: 1000, remaining: true } });

// ---------------------------------------------------------------- POST /v1/memories/search

const MetadataFilterValue = z.union([z.string().max(1024), z.number(), z.boolean()]);

export const SearchFilterSchema = z
  .object({
    tag: z
      .array(TagSchema)
      .max(FILTER_VALUES_MAX)
      .optional()
      .openapi({ description: 'Only memories that have ALL these tags.' }),
    any_tag: z
      .array(TagSchema)
      .max(FILTER_VALUES_MAX)
      .optional()
      .openapi({ description: 'Only memories that have AT LEAST ONE of these tags.' }),
    min_importance: ImportanceSchema.optional().openapi({ description: 'Only memories with importance ≥ this.' }),
    access_scope: ScopeSchema.optional(),
    session_id: SessionIdSchema.optional().openapi({
      description:
        "Names the caller's live session: makes that session's `session`-scoped memories visible, and filters to memories of that session.",
    }),
    user_id: UserIdSchema.optional().openapi({
      description: 'Only memories by this author (still only those visible to the caller).',
    }),
    subject_id: filterValues(LabelSchema, 'Only memories about one of these end users.'),
    agent_id: filterValues(LabelSchema, 'Only memories of one of these agents.'),
    created_after: rfc3339.optional().openapi({ description: 'RFC 3339; only memories created strictly after.' }),
    created_before: rfc3339.optional().openapi({ description: 'RFC 3339; only memories created strictly before.' }),
    metadata: z
      .record(
        z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'metadata keys are 1–64 characters of A–Z a–z 0–9 _ -'),
        MetadataFilterValue,
      )
      .refine((m) => Object.keys(m).length <= FILTER_VALUES_MAX, `at most ${FILTER_VALUES_MAX} keys`)
      .optional()
      .openapi({
        description: `Equality on top-level metadata keys (up to ${FILTER_VALUES_MAX}): text compares as text, numbers numerically, booleans as booleans.`,
        example: { app: 'support-bot' },
      }),
  })
  .strict()
  .openapi('SearchFilter', {
    description: 'The same filters as GET /v1/memories (soft-deleted memories are never searched).',
  });

const Weight = z.number().min(0).max(100);

export const SearchRequestSchema = z
  .object({
    query: z
      .string()
      .min(1)
      .max(SEARCH_QUERY_MAX)
      .optional()
      .openapi({
        description: `The search text, 1–${SEARCH_QUERY_MAX} characters.`,
        example: 'what contact method does the customer prefer?',
      }),
    vector: EmbeddingSchema.optional().openapi({
      description: "A query vector of the tenant's `embedding.dimensions` finite numbers (422 otherwise).",
      example: [0.12, -0.5, 0.33],
    }),
    mode: z
      .enum(['keyword', 'semantic', 'hybrid'])
      .optional()
      .openapi({
        description:
          '`keyword`: BM25 over content and tags (needs `query`). `semantic`: nearest vectors by cosine similarity (needs `vector`). `hybrid`: both, fused by ' +
          "Reciprocal Rank Fusion (needs `query`). Without `vector`, semantic and hybrid embed `query` with the tenant's Workers AI model when the server has " +
          'the AI binding (422 `vector_required` otherwise). Default: `hybrid` when both `query` and `vector` are sent, or `query` alone for a tenant the server embeds for; `semantic` with `vector` only; else `keyword`.',
      }),
    top_k: z
      .number()
      .int()
      .min(1)
      .max(SEARCH_TOP_K_MAX)
      .default(10)
      .openapi({ description: `Hits to return, 1–${SEARCH_TOP_K_MAX}.`, example: 10 }),
    filter: SearchFilterSchema.optional(),
    min_score: z
      .number()
      .min(-1_000_000)
      .max(1_000_000)
      .optional()
      .openapi({ description: 'Leave out hits whose `score` is below this (the score of the mode used).' }),
    explain: z
      .boolean()
      .default(false)
      .openapi({ description: "Add each hit's ranks and scores per ranking (`explain`)." }),
    syntax: z
      .enum(['plain', 'fts'])
      .default('plain')
      .openapi({ description: 'How `query` is read, as in GET /v1/memories/search.' }),
    match: z
      .enum(['all', 'any'])
      .default('any')
      .openapi({ description: 'Plain syntax: any word (default) or every word.' }),
    weights: z
      .object({
        keyword: Weight.default(FUSION_WEIGHTS_DEFAULT.keyword),
        vector: Weight.default(FUSION_WEIGHTS_DEFAULT.vector),
      })
      .strict()
      .optional()
      .openapi({
        description: 'Hybrid only: the weight of each ranking in the fusion (default keyword 1, vector 0.5).',
      }),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.query === undefined && r.vector === undefined)
      ctx.addIssue({ code: 'custom', path: ['query'], message: 'send query, vector, or both' });
    const mode = r.mode;
    if ((mode === 'keyword' || mode === 'hybrid') && r.query === undefined)
      ctx.addIssue({ code: 'custom', path: ['query'], message: `is required with mode ${mode}` });
    if (mode === 'semantic' && r.vector === undefined && r.query === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['vector'],
        message: 'is required with mode semantic (or a query to embed)',
      });
  })
  .openapi('SearchRequest', {
    example: {
      query: 'what contact method does the customer prefer?',
      top_k: 5,
      filter: { tag: ['crm'] },
      explain: true,
    },
  });

const rankOrNull = z.number().int().min(1).max(1_000_000).nullable();
const scoreOrNull = z.number().nullable();

export const SearchResultHitSchema = z
  .object({
    memory: MemorySchema,
    score: z.number().openapi({
      description:
        "Higher is better, comparable within one response only. keyword: BM25 from your tenant's own memories (see GET /v1/memories/search). " +
        'semantic: cosine similarity, −1 to 1. hybrid: Σ weight / (60 + rank) over the keyword and vector rankings (Reciprocal Rank Fusion, k = 60).',
      example: 0.0325,
    }),
    snippet: z.string().max(4000).optional().openapi({
      description:
        'With a `query`: up to 200 characters around the first match, HTML-escaped, matches in `<mark>…</mark>`.',
    }),
    explain: z
      .object({
        keyword_rank: rankOrNull,
        keyword_score: scoreOrNull,
        vector_rank: rankOrNull,
        vector_score: scoreOrNull,
      })
      .optional()
      .openapi({
        description: 'With `explain: true`: the hit in each ranking (null where it is not in that ranking).',
      }),
  })
  .openapi('SearchResultHit');

export const SearchResultSchema = z
  .object({
    data: z.array(SearchResultHitSchema).max(SEARCH_TOP_K_MAX),
    mode: z.enum(['keyword', 'semantic', 'hybrid']).openapi({ description: 'The mode that ran.' }),
  })
  .openapi('SearchResult', {
    example: {
      data: [
        {
          memory: { ...MEMORY_EXAMPLE, content: 'Customer prefers email contact', tags: ['crm'] },
          score: 0.0325,
          snippet: 'Customer prefers email <mark>contact</mark>',
          explain: { keyword_rank: 1, keyword_score: 2.41, vector_rank: 2, vector_score: 0.83 },
        },
      ],
      mode: 'hybrid',
    },
  });
