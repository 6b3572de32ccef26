import type { Context } from 'hono';
import type { MemoryFilters } from '../../db/memories';
import type { AppEnv } from '../../env';
import { FILTER_VALUES_MAX } from '../../lib/limits';
import { ApiError, invalidRequest } from '../../lib/problem';
import { fromIso } from '../../lib/time';

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

/** The validated query's filters in repository form (timestamps as epoch ms). */
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
