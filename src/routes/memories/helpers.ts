import type { Context } from 'hono';
import { runAsCaller } from '../../auth/caller';
import type { CallerRow } from '../../db/caller';
import type { MemoryFilters, MemoryRow } from '../../db/memories';
import type { AppEnv } from '../../env';
import { D1_VECTOR_MAX, FILTER_VALUES_MAX } from '../../lib/limits';
import { ApiError, invalidRequest } from '../../lib/problem';
import { ftsKeywordQuery, SearchSyntaxError } from '../../lib/search-query';
import { type KeywordQuery, plainKeywordQuery } from '../../lib/search-text';
import { fromIso } from '../../lib/time';
import { type IndexedMemory, syncIndex } from '../../vectors/vectorize';

/** Tags de-duplicated, first occurrence and order kept. */
export const dedupe = (tags: readonly string[]) => [...new Set(tags)];

const METADATA_KEY = /^[A-Za-z0-9_-]{1,64}$/;

/** `metadata[<key>]=<value>` (or `metadata.<key>=<value>`) query parameters: the route schema cannot name dynamic keys. */
export function metadataFilters(c: Context<AppEnv>): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, values] of Object.entries(c.req.queries())) {
    // metadata[<key>] (deepObject, as the spec declares it) or the older metadata.<key>.
    const key = /^metadata\[(.*)\]$/.exec(name)?.[1] ?? (name.startsWith('metadata.') ? name.slice(9) : undefined);
    if (key === undefined) continue;
    const bad = (message: string) => invalidRequest([{ path: `query.${name}`, message }]);
    if (!METADATA_KEY.test(key)) throw bad('metadata keys are 1–64 characters of A–Z a–z 0–9 _ -');
    for (const value of values) {
      if (value.length > 1024) throw bad('the value is longer than 1024 characters');
      out.push([key, value]);
    }
  }
  if (out.length > FILTER_VALUES_MAX) {
    throw new ApiError('invalid_parameter', `At most ${FILTER_VALUES_MAX} metadata filters.`, {
      errors: [{ path: 'query.metadata', message: `at most ${FILTER_VALUES_MAX}` }],
    });
  }
  return out.sort();
}

/** A JSON body's `metadata` filter in the form metadataFilters gives (values as text, sorted). */
export function bodyMetadataFilters(metadata: Record<string, string | number | boolean> = {}): [string, string][] {
  return Object.entries(metadata)
    .map(([k, v]): [string, string] => [k, String(v)])
    .sort();
}

/** The validated query's (or body filter's) filters in repository form (timestamps as epoch ms). */
export function filtersOf(
  q: {
    tag?: string[];
    any_tag?: string[];
    min_importance?: number;
    access_scope?: 'private' | 'session' | 'global';
    session_id?: string;
    user_id?: string;
    subject_id?: string[];
    agent_id?: string[];
    created_after?: string;
    created_before?: string;
    deleted?: 'exclude' | 'only' | 'include';
  },
  metadata: [string, string][],
): MemoryFilters {
  return {
    tag: q.tag,
    any_tag: q.any_tag,
    min_importance: q.min_importance,
    access_scope: q.access_scope,
    session_id: q.session_id,
    user_id: q.user_id,
    subject_id: q.subject_id,
    agent_id: q.agent_id,
    created_after: q.created_after === undefined ? undefined : fromIso(q.created_after),
    created_before: q.created_before === undefined ? undefined : fromIso(q.created_before),
    metadata,
    deleted: q.deleted,
  };
}

export const notFound = (id: string) => new ApiError('not_found', `Memory ${id} was not found.`);
export const preconditionFailed = (id: string) =>
  new ApiError(
    'precondition_failed',
    `Memory ${id} has changed: If-Match does not match its current ETag. GET it again and retry.`,
  );
export const memoryDeleted = (id: string) =>
  new ApiError('memory_deleted', `Memory ${id} is deleted; restore it first.`);

/** expires_at (RFC 3339) or ttl_seconds as epoch ms; null clears; undefined when neither was sent. */
export function expiryOf(
  input: { expires_at?: string | null; ttl_seconds?: number },
  now: number,
): number | null | undefined {
  if (input.ttl_seconds !== undefined) return now + input.ttl_seconds * 1000;
  if (input.expires_at === null) return null;
  return input.expires_at === undefined ? undefined : fromIso(input.expires_at);
}

/** A well-formed tenant id, to validate a query before the caller's tenant is known. */
export const ANY_TENANT = 'ten_00000000000000000000000000';

/** The search text as a keyword query (null: no searchable word); invalid fts syntax is a 400. */
export function keywordQueryOf(
  tenantId: string,
  text: string,
  syntax: 'plain' | 'fts',
  match: 'all' | 'any',
  path = 'query.q',
): KeywordQuery | null {
  if (syntax === 'plain') return plainKeywordQuery(tenantId, text, match);
  try {
    return ftsKeywordQuery(tenantId, text);
  } catch (err) {
    if (err instanceof SearchSyntaxError)
      throw new ApiError('invalid_query', `The search query is not valid fts syntax: ${err.message}`, {
        errors: [{ path, message: err.message }],
      });
    throw err;
  }
}

/** runAsCaller for keyword searches: the builders only emit valid FTS5, but bad input is never a 500. */
export async function runKeywordSearch(c: Context<AppEnv>, statements: D1PreparedStatement[], path = 'query.q') {
  try {
    return await runAsCaller(c, statements);
  } catch (err) {
    if (err instanceof Error && /fts5|MATCH/i.test(err.message))
      throw new ApiError('invalid_query', 'The search query could not be run.', {
        errors: [{ path, message: 'unsupported query' }],
      });
    throw err;
  }
}

/**
 * Why a write with vectors was refused, from the caller row of its batch (the SQL guard is
 * db/memories.ts vectorGuardSql): a length that is not the tenant's dimensions (422), or the d1
 * engine's vector bound (403). Null when neither explains it.
 */
export function vectorRefusal(
  caller: CallerRow,
  vectors: { path: string; dimensions: number }[],
  adding: number,
  max = D1_VECTOR_MAX,
): ApiError | null {
  const expected = caller.tenant_embedding_dimensions;
  const errors = vectors
    .filter((v) => v.dimensions !== expected)
    .map((v) => ({
      path: v.path,
      message:
        expected === null
          ? `has ${v.dimensions} dimensions, but the tenant has no embedding configuration: set embedding.dimensions with PATCH /v1/tenant first`
          : `has ${v.dimensions} dimensions; the tenant's embedding configuration expects ${expected}`,
    }));
  if (errors.length) return invalidRequest(errors);
  if (adding > 0 && caller.tenant_vector_count + adding > max)
    return new ApiError(
      'vector_limit_exceeded',
      `The embedded vector engine holds at most ${D1_VECTOR_MAX} vectors per tenant; the tenant has ${caller.tenant_vector_count} and this request adds ${adding}. ` +
        'Remove vectors (PATCH a memory with "embedding": null) or deploy with a Vectorize index (the VECTORIZE binding), which has no such bound.',
    );
  return null;
}

/** The memories of a write that carry a vector, as the vector index holds them. */
export const indexedOf = (
  items: { id: string; subject_id: string | null; agent_id: string | null; embedding: number[] | null }[],
  tenantId: string,
): IndexedMemory[] =>
  items.flatMap((m) =>
    m.embedding
      ? [{ id: m.id, tenant_id: tenantId, subject_id: m.subject_id, agent_id: m.agent_id, values: m.embedding }]
      : [],
  );

/**
 * After a committed change to one memory, the vector index follows its row: (re)written while the
 * memory is live with a current vector, removed otherwise (deleted, purged, stale, no vector).
 * The row must carry `embedding` when the index is bound (statements built with `embedding: true`).
 */
export async function syncChanged(c: Context<AppEnv>, row: Pick<MemoryRow, 'id'> & Partial<MemoryRow>) {
  if (!c.env.VECTORIZE) return;
  const live = row.deleted_at === null && row.embedding_status === 'current' && row.embedding;
  await syncIndex(
    c.env,
    live
      ? {
          upsert: [
            {
              id: row.id,
              tenant_id: row.tenant_id!,
              subject_id: row.subject_id ?? null,
              agent_id: row.agent_id ?? null,
              values: JSON.parse(row.embedding!) as number[],
            },
          ],
        }
      : { remove: [row.id] },
  );
}
