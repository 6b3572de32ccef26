// Text → FTS5 tokens with a per-tenant prefix (see migrations/001_initial.sql for why).
// The same normalisation runs on stored text and on queries, so they always meet.

/** At most this many tokens of a memory are indexed (keeps search_doc well under D1's row limit). */
export const MAX_INDEXED_TOKENS = 4096;

/** The 26-character ULID part of a tenant id, lower-cased: an alphanumeric, fixed-length prefix. */
export function tenantKey(tenantId: string): string {
  const key = tenantId.slice(tenantId.indexOf('_') + 1).toLowerCase();
  if (!/^[0-9a-z]{26}$/.test(key)) throw new Error('tenant id has no ULID part');
  return key;
}

/** Lower-cased, diacritics removed, split on anything that is not a letter or a digit. */
export function tokenize(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t.length > 0 && t.length <= 64);
}

/** The value stored in memories.search_doc: content and tags as tenant-prefixed tokens. */
export function searchDoc(tenantId: string, content: string, tags: readonly string[] = []): string {
  const key = tenantKey(tenantId);
  return [...tokenize(content), ...tags.flatMap(tokenize)]
    .slice(0, MAX_INDEXED_TOKENS)
    .map((t) => key + t)
    .join(' ');
}

/**
 * An FTS5 MATCH expression for plain user text: every token becomes a quoted, tenant-prefixed
 * term (so user input is never FTS syntax). `all` requires every term, `any` ranks by how many
 * match. Returns null when the text has no searchable token.
 */
export function plainFtsQuery(tenantId: string, text: string, mode: 'all' | 'any' = 'all'): string | null {
  const key = tenantKey(tenantId);
  const terms = [...new Set(tokenize(text))].slice(0, 64).map((t) => `"${key}${t}"`);
  if (terms.length === 0) return null;
  return terms.join(mode === 'all' ? ' AND ' : ' OR ');
}
