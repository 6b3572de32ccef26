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

// English stop words: dropped from plain queries so a question ("what does the customer prefer?")
// searches for its content words. Kept when nothing else is left ("to be or not to be").
const STOP_WORDS = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both but by ' +
    'can could did do does doing down during each few for from further had has have having he her here hers herself him himself ' +
    'his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other our ours ' +
    'ourselves out over own same she should so some such than that the their theirs them themselves then there these they this ' +
    'those through to too under until up very was we were what when where which while who whom whose why will with would you ' +
    'your yours yourself yourselves'
  ).split(' '),
);

/** At most this many distinct words of a query are searched. */
export const MAX_QUERY_TERMS = 64;

/** The words of a plain query that are searched: distinct tokens, stop words dropped unless nothing else is left. */
export function queryTokens(text: string): string[] {
  const tokens = [...new Set(tokenize(text))];
  const content = tokens.filter((t) => !STOP_WORDS.has(t));
  return (content.length > 0 ? content : tokens).slice(0, MAX_QUERY_TERMS);
}

/**
 * What the keyword ranking needs (src/db/memories.ts keywordSearchSql): FTS5 MATCH expressions
 * whose newest matches form the candidate window, and the tenant-prefixed terms the score counts.
 */
export interface KeywordQuery {
  windows: string[];
  terms: string[];
  key: string;
  /** Plain tokens and prefixes, for snippets. */
  tokens: string[];
  prefixes: string[];
}

/**
 * Plain user text as a keyword query: every token becomes a quoted, tenant-prefixed term (so user
 * input is never FTS syntax). `any` (the default) gives each term its own window, so a rare word
 * reaches further back than a common one; `all` has one window of memories holding every term.
 * Returns null when the text has no searchable token.
 */
export function plainKeywordQuery(tenantId: string, text: string, mode: 'all' | 'any' = 'any'): KeywordQuery | null {
  const key = tenantKey(tenantId);
  const tokens = queryTokens(text);
  if (tokens.length === 0) return null;
  const quoted = tokens.map((t) => `"${key}${t}"`);
  return {
    windows: mode === 'all' ? [quoted.join(' AND ')] : quoted,
    terms: tokens.map((t) => key + t),
    key,
    tokens,
    prefixes: [],
  };
}
