// Text → FTS5 tokens with a per-tenant prefix (see migrations/001_initial.sql for why).
// The same normalisation runs on stored text and on queries, so they always meet.

/** At most this many content tokens of a memory are indexed (keeps search_doc well under D1's row limit). */
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

// Layout of memories.search_doc: one segment per tag, each followed by ',', then '|', then the
// content's tokens:  "<tag1 tokens>,<tag2 tokens>,|<content tokens>". FTS5's tokenizer drops ','
// and '|' (separators), so the index only sees the tokens; the markers let SQL splice the doc
// without the Worker knowing the current row: replace the content part after '|', append or cut
// one tag segment (',<segment>,' is unambiguous: tokens never contain ',' or '|').
// See src/db/memories.ts (tag add/remove, content-only PATCH).

/** The tokens of one tag, tenant-prefixed (may be empty for a tag without letters or digits). */
export function tagSegment(tenantId: string, tag: string): string {
  const key = tenantKey(tenantId);
  return tokenize(tag)
    .map((t) => key + t)
    .join(' ');
}

/** The content part of search_doc (after '|'). */
export function contentPart(tenantId: string, content: string): string {
  const key = tenantKey(tenantId);
  return tokenize(content)
    .slice(0, MAX_INDEXED_TOKENS)
    .map((t) => key + t)
    .join(' ');
}

/** The tag part of search_doc (before '|'). */
export function tagPart(tenantId: string, tags: readonly string[]): string {
  return tags.map((tag) => `${tagSegment(tenantId, tag)},`).join('');
}

/** The value stored in memories.search_doc: tags and content as tenant-prefixed tokens. */
export function searchDoc(tenantId: string, content: string, tags: readonly string[] = []): string {
  return `${tagPart(tenantId, tags)}|${contentPart(tenantId, content)}`;
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
