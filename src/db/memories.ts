// Every SQL statement that touches `memories`, and the row → API mapping.
// Statements bind the token subject as ?1 and run in the request's one batch (src/db/caller.ts).
// Visibility (issue 4): private → its author; session → its author, only when the request names
// that session and the session is live; global → everyone in the tenant. Invisible rows are
// never read or written, so they look exactly like missing ones (404).
// Writes that carry Worker-computed search text (search_doc is tenant-prefixed) are guarded by
// `c.tenant_id = <the tenant the Worker assumed>` (see routes/memories/tenant.ts).
import { newId } from '../lib/ids';
import { D1_VECTOR_MAX, KEYWORD_WINDOW, MEMORY_VERSION_MAX } from '../lib/limits';
import { planLimitSql } from '../lib/plans';
import type { KeywordQuery } from '../lib/search-text';
import { toIso } from '../lib/time';
import { toFloat32Hex } from '../lib/vectors';
import { auditIdTimePart, auditInsertSql, perRowAuditIdSql, type RequestMeta } from './audit';
import { Binder, balancedSql, prepared } from './binder';
import { withCaller } from './caller';
import { liveMemoryCountSql, NOW_MS_SQL, unexpiredSql } from './expiry';
import { type IdempotencyKey, keyIsFreshSql } from './idempotency';

export type AccessScope = 'private' | 'session' | 'global';

export interface MemoryRow {
  seq: number;
  id: string;
  tenant_id: string;
  user_id: string | null;
  session_id: string | null;
  content: string;
  tags: string;
  metadata: string;
  importance: number;
  access_scope: AccessScope;
  source: string | null;
  subject_id: string | null;
  agent_id: string | null;
  expires_at: number | null;
  embedding?: string | null;
  embedding_status: 'current' | 'stale' | null;
  version: number;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export function toMemory(row: MemoryRow, includeEmbedding = false) {
  return {
    id: row.id,
    user_id: row.user_id,
    session_id: row.session_id,
    content: row.content,
    tags: JSON.parse(row.tags) as string[],
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    importance: row.importance,
    access_scope: row.access_scope,
    source: row.source,
    subject_id: row.subject_id,
    agent_id: row.agent_id,
    expires_at: toIso(row.expires_at),
    ...(includeEmbedding ? { embedding: row.embedding ? (JSON.parse(row.embedding) as number[]) : null } : {}),
    embedding_status: row.embedding_status,
    version: row.version,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
    deleted_at: toIso(row.deleted_at),
  };
}

export type Memory = ReturnType<typeof toMemory>;

const BASE_COLS = [
  'seq',
  'id',
  'tenant_id',
  'user_id',
  'session_id',
  'content',
  'tags',
  'metadata',
  'importance',
  'access_scope',
  'source',
  'subject_id',
  'agent_id',
  'expires_at',
  'embedding_status',
  'version',
  'created_at',
  'updated_at',
  'deleted_at',
];
/** Column list (search_doc never leaves the database; embedding only when asked for). */
const cols = (embedding: boolean, alias = 'm.') =>
  [...BASE_COLS, ...(embedding ? ['embedding'] : [])].map((c) => alias + c).join(', ');

/** SQL: epoch ms column as RFC 3339 (NULL stays NULL), the API's format. */
const isoSql = (col: string) => `strftime('%Y-%m-%dT%H:%M:%fZ', ${col} / 1000.0, 'unixepoch')`;

/** The row's fields as audit JSON (no embedding: it is large and not human-readable). */
const SNAPSHOT_SQL = `json_object('content', m.content, 'tags', json(m.tags), 'metadata', json(m.metadata), 'importance', m.importance,
  'access_scope', m.access_scope, 'session_id', m.session_id, 'source', m.source, 'subject_id', m.subject_id, 'agent_id', m.agent_id,
  'expires_at', ${isoSql('m.expires_at')})`;

/** SQL condition: caller `c` may change memory `m`'s scope or delete it (its author, an owner or an admin). */
export const MAY_RESCOPE_SQL = `(m.user_id = c.user_id OR c.role IN ('owner', 'admin'))`;

/**
 * Visibility of memory `m` to caller `c`; `sessionId` is the session the request names. The one
 * visibility predicate: every read, change and search re-check goes through it, so an expired
 * memory disappears everywhere at once, before the cron removes it.
 */
export function visibleSql(b: Binder, sessionId: string | undefined): string {
  let session = '';
  if (sessionId) {
    const s = b.bind(sessionId);
    session = ` OR (m.access_scope = 'session' AND m.user_id = c.user_id AND m.session_id = ${s}
      AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = ${s} AND s.tenant_id = c.tenant_id AND s.user_id = c.user_id AND s.expired_at IS NULL))`;
  }
  // Owners also see the private and session memories of removed users (soft-deleted with them:
  // removedUserMemoriesStatements), so someone can restore or purge them.
  return `m.tenant_id = c.tenant_id AND ${unexpiredSql()} AND (m.access_scope = 'global' OR (m.access_scope = 'private' AND m.user_id = c.user_id)${session}
    OR (c.role = 'owner' AND m.access_scope <> 'global' AND EXISTS (SELECT 1 FROM users ru WHERE ru.id = m.user_id AND ru.deleted_at IS NOT NULL)))`;
}

/**
 * SQL condition: caller `c` may see memory `m` now, in some request (a session memory while its
 * session is live, since only its author can name it). What the audit log shows of a memory follows it.
 */
export function visibleNowSql(): string {
  return `(${visibleSql(new Binder(''), undefined)} OR (m.tenant_id = c.tenant_id AND m.access_scope = 'session' AND m.user_id = c.user_id
    AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = m.session_id AND s.expired_at IS NULL)))`;
}

// ---------------------------------------------------------------- reads

export interface ReadOptions {
  sessionId?: string;
  embedding?: boolean;
}

export function getMemoryStatement(db: D1Database, sub: string, id: string, o: ReadOptions): D1PreparedStatement {
  const b = new Binder(sub);
  return prepared(
    db,
    b,
    withCaller(
      `SELECT ${cols(!!o.embedding)} FROM memories m, caller c WHERE m.id = ${b.bind(id)} AND ${visibleSql(b, o.sessionId)}`,
    ),
  );
}

export interface MemoryFilters {
  tag?: string[];
  any_tag?: string[];
  min_importance?: number;
  access_scope?: AccessScope;
  session_id?: string;
  user_id?: string;
  subject_id?: string[];
  agent_id?: string[];
  created_after?: number;
  created_before?: number;
  metadata?: [key: string, value: string][];
  deleted?: 'exclude' | 'only' | 'include';
}

function filterSql(b: Binder, f: MemoryFilters): string {
  const where: string[] = [];
  if (f.deleted !== 'include') where.push(f.deleted === 'only' ? 'm.deleted_at IS NOT NULL' : 'm.deleted_at IS NULL');
  if (f.tag?.length) {
    where.push(
      `(SELECT count(DISTINCT t.value) FROM json_each(m.tags) t WHERE t.value IN (SELECT value FROM json_each(${b.bind(JSON.stringify(f.tag))}))) = ${b.bind(new Set(f.tag).size)}`,
    );
  }
  if (f.any_tag?.length) {
    where.push(
      `EXISTS (SELECT 1 FROM json_each(m.tags) t WHERE t.value IN (SELECT value FROM json_each(${b.bind(JSON.stringify(f.any_tag))})))`,
    );
  }
  if (f.min_importance !== undefined) where.push(`m.importance >= ${b.bind(f.min_importance)}`);
  if (f.access_scope) where.push(`m.access_scope = ${b.bind(f.access_scope)}`);
  if (f.session_id) where.push(`m.session_id = ${b.bind(f.session_id)}`);
  if (f.user_id) where.push(`m.user_id = ${b.bind(f.user_id)}`);
  for (const col of ['subject_id', 'agent_id'] as const) {
    const values = [...new Set(f[col] ?? [])];
    // One value is an equality, so the (tenant_id, <col>, created_at, id) index also gives the order.
    if (values.length === 1) where.push(`m.${col} = ${b.bind(values[0])}`);
    else if (values.length > 1)
      where.push(`m.${col} IN (SELECT value FROM json_each(${b.bind(JSON.stringify(values))}))`);
  }
  if (f.created_after !== undefined) where.push(`m.created_at > ${b.bind(f.created_after)}`);
  if (f.created_before !== undefined) where.push(`m.created_at < ${b.bind(f.created_before)}`);
  for (const [key, value] of f.metadata ?? []) {
    // Equality by the stored JSON type: text compares as text, numbers numerically, booleans as true/false.
    const path = b.bind(`$."${key}"`);
    const num = value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : null;
    const v = b.bind(value);
    where.push(`(CASE json_type(m.metadata, ${path})
      WHEN 'text' THEN json_extract(m.metadata, ${path}) = ${v}
      WHEN 'integer' THEN json_extract(m.metadata, ${path}) = ${b.bind(num)}
      WHEN 'real' THEN json_extract(m.metadata, ${path}) = ${b.bind(num)}
      WHEN 'true' THEN ${v} = 'true'
      WHEN 'false' THEN ${v} = 'false'
      ELSE 0 END)`);
  }
  return where.length ? ` AND ${where.join(' AND ')}` : '';
}

/**
 * INDEXED BY the subject (or agent) index when the filter names subjects (agents): the cost then
 * follows those subjects' rows. Left alone, SQLite walks the tenant's keyset index to save a sort
 * when there are several values, or for search where there is no sort to save (bench/RESULTS.md).
 */
function labelIndexSql(f: MemoryFilters): string {
  if (f.subject_id?.length) return ' INDEXED BY memories_tenant_subject_created';
  if (f.agent_id?.length) return ' INDEXED BY memories_tenant_agent_created';
  return '';
}

export interface ListOptions extends ReadOptions {
  order: 'asc' | 'desc';
  limit: number;
  /** Keyset position: the last row of the previous page. */
  after?: [createdAt: number, id: string];
}

/** One page (limit + 1 rows, to know whether there is a next page) ordered by (created_at, id). */
export function listMemoriesStatement(
  db: D1Database,
  sub: string,
  f: MemoryFilters,
  o: ListOptions,
): D1PreparedStatement {
  const b = new Binder(sub);
  const dir = o.order === 'asc' ? 'ASC' : 'DESC';
  // A tag filter (without a subject or agent one) walks that tag's rows of memory_tags in list
  // order, so a page costs about the page whatever share of the tenant holds the tag; the other
  // tags are checked per row. The tenant is a scalar subquery so the index applies in any join order.
  const byTag = f.tag?.length && !labelIndexSql(f) ? f.tag[0] : undefined;
  const [at, id] = byTag ? ['mt.created_at', 'mt.memory_id'] : ['m.created_at', 'm.id'];
  const keyset = o.after
    ? ` AND (${at}, ${id}) ${o.order === 'asc' ? '>' : '<'} (${b.bind(o.after[0])}, ${b.bind(o.after[1])})`
    : '';
  const from = byTag
    ? `memory_tags mt INDEXED BY memory_tags_tenant_tag_created JOIN memories m ON m.seq = mt.memory_seq, caller c
    WHERE mt.tenant_id = (SELECT tenant_id FROM caller) AND mt.tag = ${b.bind(byTag)} AND`
    : `memories m${labelIndexSql(f)}, caller c
    WHERE`;
  const sql = `SELECT ${cols(!!o.embedding)} FROM ${from} ${visibleSql(b, f.session_id)}${filterSql(b, byTag ? { ...f, tag: f.tag!.slice(1) } : f)}${keyset}
    ORDER BY ${at} ${dir}, ${id} ${dir} LIMIT ${b.bind(o.limit + 1)}`;
  return prepared(db, b, withCaller(sql));
}

export interface SearchOptions extends ReadOptions {
  tenantId: string;
  query: KeywordQuery;
  limit: number;
  /** Keyset position: (score, seq) of the last hit of the previous page. */
  after?: [score: number, seq: number];
}

/** A SQL string literal for text the Worker generated (FTS expressions and tenant-prefixed tokens). */
const sqlText = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** The newest `n` memories matching one FTS5 expression (seq is the FTS rowid, so newest = highest). */
const matchWindowSql = (match: string, n: number) =>
  `SELECT rowid FROM memories_fts WHERE memories_fts MATCH ${sqlText(match)} ORDER BY rowid DESC LIMIT ${n}`;
/** Memory `m` is among the candidates: in the window of any of the query's expressions (an OR of rowid lookups; D1 caps compound SELECTs). */
const candidatesSql = (windows: string[], n: number) =>
  balancedSql(
    windows.map((w) => `m.seq IN (${matchWindowSql(w, n)})`),
    'OR',
  );

/**
 * Keyword ranking of the caller's visible live memories, as a SELECT of the memory columns and a
 * `score` (needs the caller CTE). Bounded cost: only the newest KEYWORD_WINDOW matches (split
 * between the query's windows) are read and ranked, about two rows read each. The score is BM25
 * (k1 = 1.2, b = 0.75) from the tenant's own statistics only, so other tenants' writes never move
 * it: N = the tenant's live memories, n = its memories holding the term (tokens are
 * tenant-prefixed, so a term's fts5vocab row counts the tenant's memories only),
 * idf = ln(1 + (N − n + 0.5) / (n + 0.5)); tf and the length come from the memory's search_doc,
 * the average length over the ranked candidates.
 * Terms and windows are inlined as literals: they only hold tokens the Worker made (letters and
 * digits), and 64 of them as parameters would pass D1's 100.
 */
function keywordSearchSql(b: Binder, f: MemoryFilters, o: Omit<SearchOptions, 'limit' | 'after'>): string {
  const q = o.query;
  const per = Math.max(1, Math.floor(KEYWORD_WINDOW / q.windows.length));
  const key = sqlText(q.key);
  const lengthOf = (doc: string) =>
    `(length(${doc}) - length(replace(${doc}, ${key}, ''))) / ${q.key.length.toFixed(1)}`;
  const avgdl = 'max(avg(m.dl) OVER (), 1.0)';
  const terms = q.terms.map((term) => {
    const idf = `(SELECT ln(1.0 + (${liveMemoryCountSql('tn')} - v.doc + 0.5) / (v.doc + 0.5)) FROM tenants tn, caller c, (SELECT coalesce(max(doc), 0) AS doc FROM memories_fts_terms WHERE term = ${sqlText(term)}) v WHERE tn.id = c.tenant_id)`;
    const tf = `(length(m.d) - length(replace(m.d, ${sqlText(` ${term} `)}, ''))) / ${(term.length + 2).toFixed(1)}`;
    return `(SELECT ${idf} * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * m.dl / m.avgdl)) FROM (SELECT ${tf} AS tf))`;
  });
  // Filtered by subject or agent: the candidates are that subject's rows (by its index), each
  // probed in the FTS index (rowid + MATCH), so every match of the subject is ranked and the cost
  // follows the subject's data, not the tenant's newest matches (bench/RESULTS.md).
  const candidates = labelIndexSql(f)
    ? `memories m${labelIndexSql(f)} WHERE m.tenant_id = ${b.bind(o.tenantId)}${filterSql(b, { subject_id: f.subject_id, agent_id: f.agent_id, deleted: 'exclude' })}
          AND ${balancedSql(
            q.windows.map(
              (w) =>
                `EXISTS (SELECT 1 FROM memories_fts WHERE memories_fts.rowid = m.seq AND memories_fts MATCH ${sqlText(w)})`,
            ),
            'OR',
          )}`
    : `memories m WHERE ${candidatesSql(q.windows, per)}`;
  // d: search_doc with every separator a double space and a space at each end, so ' <term> '
  // occurs once per occurrence of the term, without overlaps (lib/search-text.ts searchDoc).
  return `SELECT ${cols(!!o.embedding)}, ${balancedSql(terms, '+')} AS score
    FROM (SELECT m.*, ${avgdl} AS avgdl FROM (SELECT m.*, ${lengthOf('m.search_doc')} AS dl,
            ' ' || replace(replace(replace(m.search_doc, ',', ' '), '|', ' '), ' ', '  ') || ' ' AS d
          FROM ${candidates}) m) m, caller c
    WHERE c.tenant_id = ${b.bind(o.tenantId)} AND ${visibleSql(b, f.session_id)}${filterSql(b, { ...f, deleted: 'exclude' })}`;
}

/** GET search: one page of keyword hits, best first, ties by seq; limit + 1 rows with a `score` column. */
export function searchMemoriesStatement(
  db: D1Database,
  sub: string,
  f: MemoryFilters,
  o: SearchOptions,
): D1PreparedStatement {
  const b = new Binder(sub);
  const inner = keywordSearchSql(b, f, o);
  const keyset = o.after
    ? ` WHERE score < ${b.bind(o.after[0])} OR (score = ${b.bind(o.after[0])} AND seq > ${b.bind(o.after[1])})`
    : '';
  const sql = `SELECT * FROM (${inner})${keyset} ORDER BY score DESC, seq LIMIT ${b.bind(o.limit + 1)}`;
  return prepared(db, b, withCaller(sql));
}

/**
 * The embedded (d1) vector engine's read: every searchable vector the caller may see under the
 * filters (live, current, visible), as hex of its float32 bytes. The Worker ranks them exactly
 * (lib/vectors.ts nearest); D1_VECTOR_MAX bounds how many there can be.
 */
export function vectorScanStatement(db: D1Database, sub: string, f: MemoryFilters): D1PreparedStatement {
  const b = new Binder(sub);
  const sql = `SELECT m.seq, hex(m.vector) AS v FROM memories m, caller c
    WHERE ${visibleSql(b, f.session_id)} AND m.vector IS NOT NULL AND m.embedding_status = 'current'${filterSql(b, { ...f, deleted: 'exclude' })}`;
  return prepared(db, b, withCaller(sql));
}

/**
 * The memories a vector index returned (`ids`, best first), re-checked here: those the caller
 * can see, live, whose vector is current and that pass the request's filters, in that order.
 */
export function indexHitsStatement(db: D1Database, sub: string, ids: string[], f: MemoryFilters): D1PreparedStatement {
  const b = new Binder(sub);
  const sql = `SELECT ${cols(false)} FROM json_each(${b.bind(JSON.stringify(ids))}) j JOIN memories m ON m.id = j.value, caller c
    WHERE ${visibleSql(b, f.session_id)} AND m.embedding_status = 'current'${filterSql(b, { ...f, deleted: 'exclude' })} ORDER BY j.key`;
  return prepared(db, b, withCaller(sql));
}

/** Backfill of the vector index: the caller's tenant's live memories with a current vector after `afterSeq`, oldest first. */
export function indexableVectorsStatement(db: D1Database, sub: string, afterSeq: number, limit: number) {
  return db
    .prepare(
      withCaller(`SELECT m.seq, m.id, m.subject_id, m.agent_id, m.embedding FROM caller c JOIN memories m INDEXED BY memories_tenant_vectors
        ON m.tenant_id = c.tenant_id AND m.vector IS NOT NULL AND m.embedding_status = 'current' AND m.deleted_at IS NULL
        WHERE m.seq > ?2 ORDER BY m.seq LIMIT ?3`),
    )
    .bind(sub, afterSeq, limit);
}

/** The memories at `seqs`, in that order, that the caller can still see live (whatever an index returned). */
export function memoriesBySeqStatement(
  db: D1Database,
  sub: string,
  seqs: number[],
  sessionId?: string,
): D1PreparedStatement {
  const b = new Binder(sub);
  const sql = `SELECT ${cols(false)} FROM json_each(${b.bind(JSON.stringify(seqs))}) j JOIN memories m ON m.seq = j.value, caller c
    WHERE ${visibleSql(b, sessionId)} AND m.deleted_at IS NULL ORDER BY j.key`;
  return prepared(db, b, withCaller(sql));
}

// ---------------------------------------------------------------- create

export interface NewMemory {
  id: string;
  session_id: string | null;
  content: string;
  tags: string[];
  metadata: Record<string, unknown>;
  importance: number;
  access_scope: AccessScope;
  source: string | null;
  subject_id: string | null;
  agent_id: string | null;
  /** Epoch ms. */
  expires_at: number | null;
  embedding: number[] | null;
  search_doc: string;
}

/** What a refused write with vectors is checked against (the guard below, and the route's diagnosis). */
export const vectorGuardSql = (b: Binder, dimensions: number[], adding: number, max = D1_VECTOR_MAX) =>
  `(SELECT (t.embedding_dimensions IS NOT NULL AND NOT EXISTS (SELECT 1 FROM json_each(${b.bind(JSON.stringify(dimensions))}) WHERE value <> t.embedding_dimensions))
      AND t.vector_count + ${b.bind(adding)} <= ${b.bind(max)} FROM tenants t WHERE t.id = c.tenant_id)`;

/** The tenant's embedding model is still `model` (a write embedded on the server, or not, by it). */
const embeddingModelIsSql = (b: Binder, model: string | null) =>
  `(SELECT t.embedding_model IS ${b.bind(model)} FROM tenants t WHERE t.id = c.tenant_id)`;

/** What a new memory looks like in its audit row. */
export function auditValuesOf(m: Omit<NewMemory, 'id' | 'search_doc'>) {
  const { embedding, expires_at, ...rest } = m;
  return { ...rest, expires_at: toIso(expires_at), embedding_dimensions: embedding?.length ?? null };
}

/** Items per INSERT: each chunk is ONE bound JSON parameter, kept under D1's 2 MB value limit. */
const CHUNK_BYTES = 1_500_000;
const utf8 = new TextEncoder();

/** Splits `items` so that each chunk's JSON stays under CHUNK_BYTES. */
function chunksOf<T>(items: T[]): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const n = utf8.encode(JSON.stringify(item)).length + 1;
    if (current.length > 0 && bytes + n > CHUNK_BYTES) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += n;
  }
  if (current.length > 0) out.push(current);
  return out;
}

export interface WriteContext {
  sub: string;
  /** The tenant the Worker computed search text for; statements write nothing for another. */
  tenantId: string;
  now: number;
  meta: RequestMeta;
  idempotency: IdempotencyKey | null;
  /** Vectors the tenant may store with the engine in use (default: the d1 engine's bound). */
  vectorMax?: number;
  /**
   * The embedding model the Worker decided by (whether to embed on the server); when set, the
   * write only happens if the tenant's model is still this one.
   */
  assumedModel?: string | null;
}

/**
 * Inserts `items` all-or-nothing with one audit row each (`action`). The first INSERT (the first
 * item) checks the tenant, the idempotency key, the sessions and the plan quota for the WHOLE
 * batch; every later chunk and every audit row only runs if the first row now exists. Rows are expanded from
 * one JSON parameter per chunk (json_each), so no statement comes near D1's 100 bound parameters.
 * Results: `inserts` RETURNING results (the rows, in item order), then the audit inserts.
 */
export function insertMemoriesStatements(
  db: D1Database,
  items: NewMemory[],
  action: string,
  w: WriteContext,
): { statements: D1PreparedStatement[]; inserts: number } {
  const sessionIds = [...new Set(items.map((m) => m.session_id).filter((s): s is string => s !== null))];
  const firstId = items[0]!.id;
  const encoded = items.map((m) => ({
    ...m,
    tags: JSON.stringify(m.tags),
    metadata: JSON.stringify(m.metadata),
    embedding: m.embedding && JSON.stringify(m.embedding),
    vector: m.embedding && toFloat32Hex(m.embedding),
  }));
  const dimensions = [...new Set(items.flatMap((m) => (m.embedding ? [m.embedding.length] : [])))];
  const vectors = items.filter((m) => m.embedding).length;
  // The first item goes alone: its guard reads tenants.memory_count, which the insert trigger
  // bumps row by row, so a multi-row guard on it could stop half-way. The rest only need "the
  // first row exists" (the quota was checked for all of them at once).
  const chunks = [[encoded[0]!], ...chunksOf(encoded.slice(1))];
  const statements: D1PreparedStatement[] = [];
  chunks.forEach((chunk, i) => {
    const b = new Binder(w.sub);
    const now = b.bind(w.now);
    const guard =
      i === 0
        ? `c.tenant_id = ${b.bind(w.tenantId)} AND ${keyIsFreshSql(b, w.idempotency)}
           AND NOT EXISTS (SELECT 1 FROM json_each(${b.bind(JSON.stringify(sessionIds))}) x WHERE NOT EXISTS (
             SELECT 1 FROM sessions s WHERE s.id = x.value AND s.tenant_id = c.tenant_id AND s.user_id = c.user_id AND s.expired_at IS NULL))
           AND (SELECT ${liveMemoryCountSql('t')} + ${b.bind(items.length)} <= ${planLimitSql('memories', 't.plan')} FROM tenants t WHERE t.id = c.tenant_id)
           ${vectors ? `AND ${vectorGuardSql(b, dimensions, vectors, w.vectorMax)}` : ''}
           ${w.assumedModel !== undefined ? `AND ${embeddingModelIsSql(b, w.assumedModel)}` : ''}`
        : `EXISTS (SELECT 1 FROM memories WHERE id = ${b.bind(firstId)})`;
    const f = (k: string) => `json_extract(j.value, '$.${k}')`;
    const sql = `INSERT INTO memories (id, tenant_id, user_id, session_id, content, tags, metadata, importance, access_scope, source, subject_id, agent_id, expires_at,
        embedding, vector, embedding_status, search_doc, version, created_at, updated_at, changed_by, last_action)
      SELECT ${f('id')}, c.tenant_id, c.user_id, ${f('session_id')}, ${f('content')}, ${f('tags')}, ${f('metadata')}, ${f('importance')}, ${f('access_scope')},
             ${f('source')}, ${f('subject_id')}, ${f('agent_id')}, ${f('expires_at')}, ${f('embedding')}, unhex(${f('vector')}), CASE WHEN ${f('vector')} IS NULL THEN NULL ELSE 'current' END,
             ${f('search_doc')}, 1, ${now}, ${now}, c.user_id, ${b.bind(action)}
      FROM caller c, json_each(${b.bind(JSON.stringify(chunk))}) j WHERE ${guard} ORDER BY j.key
      RETURNING ${cols(false, '')}`;
    statements.push(prepared(db, b, withCaller(sql)));
  });
  // Audit rows, one per memory, as JSON too (their size is bounded like the items').
  const audits = items.map((m) => {
    const { id, search_doc: _doc, ...values } = m;
    return { a: newId('aud', w.now), r: id, n: JSON.stringify(auditValuesOf(values)) };
  });
  for (const chunk of chunksOf(audits)) {
    const b = new Binder(w.sub);
    const sql = `INSERT INTO audit_logs (id, tenant_id, user_id, action, resource_type, resource_id, old_values, new_values, ip, user_agent, request_id, created_at)
      SELECT json_extract(j.value, '$.a'), c.tenant_id, c.user_id, ${b.bind(action)}, 'memory', json_extract(j.value, '$.r'), NULL, json_extract(j.value, '$.n'),
             ${b.bind(w.meta.ip)}, ${b.bind(w.meta.userAgent?.slice(0, 512) ?? null)}, ${b.bind(w.meta.requestId)}, ${b.bind(w.now)}
      FROM caller c, json_each(${b.bind(JSON.stringify(chunk))}) j WHERE EXISTS (SELECT 1 FROM memories WHERE id = ${b.bind(firstId)})`;
    statements.push(prepared(db, b, withCaller(sql)));
  }
  return { statements, inserts: chunks.length };
}

/** Of `sessionIds`, those that are not a live session of the caller (diagnoses a refused create). */
export function unusableSessionsStatement(db: D1Database, sub: string, sessionIds: string[]): D1PreparedStatement {
  return db
    .prepare(
      withCaller(`SELECT x.value AS id FROM json_each(?2) x WHERE NOT EXISTS (
        SELECT 1 FROM sessions s, caller c WHERE s.id = x.value AND s.tenant_id = c.tenant_id AND s.user_id = c.user_id AND s.expired_at IS NULL)`),
    )
    .bind(sub, JSON.stringify(sessionIds));
}

/**
 * The memories a stored idempotent response names (`{"ids": [...]}`), in that order, as they are
 * now; only those the caller wrote or can see.
 */
export function replayedMemoriesStatement(
  db: D1Database,
  sub: string,
  k: IdempotencyKey,
  o: ReadOptions,
): D1PreparedStatement {
  const b = new Binder(sub);
  const sql = `SELECT ${cols(!!o.embedding)} FROM idempotency_keys i, caller c, json_each(i.response_body, '$.ids') j
    JOIN memories m ON m.id = j.value AND m.tenant_id = c.tenant_id
    WHERE i.tenant_id = c.tenant_id AND i.key = ${b.bind(k.key)} AND i.expires_at > ${b.bind(k.now)} AND i.request_hash = ${b.bind(k.hash)}
      AND (m.user_id = c.user_id OR ${visibleSql(b, o.sessionId)}) ORDER BY j.key`;
  return prepared(db, b, withCaller(sql));
}

/** SQL condition: memory `id` is visible to the caller and `extra` holds for it (idempotency store guards). */
export function visibleMemorySql(b: Binder, id: string, sessionId: string | undefined, extra = '1'): string {
  return `EXISTS (SELECT 1 FROM memories m, caller c WHERE m.id = ${b.bind(id)} AND ${visibleSql(b, sessionId)} AND ${extra})`;
}

// ---------------------------------------------------------------- changes to one memory

export interface TargetOptions {
  id: string;
  sessionId?: string;
  /** From If-Match: the versions the client accepts; undefined when the header is absent. */
  versions?: number[];
  embedding?: boolean;
}

/**
 * The guard every change to one memory shares (needs `m` and `c`): the row, visible to the caller,
 * at an accepted version. The audit row is inserted BEFORE the change with the same guard, so it
 * sees the same old row and is written exactly when the change is.
 */
function targetSql(b: Binder, t: TargetOptions, extra: string): string {
  const versions = t.versions
    ? ` AND m.version IN (SELECT value FROM json_each(${b.bind(JSON.stringify(t.versions))}))`
    : '';
  return `m.id = ${b.bind(t.id)} AND ${visibleSql(b, t.sessionId)}${versions} AND ${extra}`;
}

interface Change {
  action: string;
  /** Extra guard (uses m, c). */
  when: (b: Binder) => string;
  /** SET clause for an UPDATE; omitted for a hard delete. */
  set?: (b: Binder) => string;
  oldValues: (b: Binder) => string;
  newValues: (b: Binder) => string;
}

/** The replaced version of `m` as a memory_versions row (who made it and how came with the row). */
const versionInsertSql = (from: string) =>
  `INSERT INTO memory_versions (memory_id, tenant_id, version, content, tags, metadata, importance, access_scope, subject_id, agent_id, expires_at,
     search_doc, changed_at, changed_by, action)
   SELECT m.id, m.tenant_id, m.version, m.content, m.tags, m.metadata, m.importance, m.access_scope, m.subject_id, m.agent_id, m.expires_at,
     m.search_doc, m.updated_at, coalesce(m.changed_by, m.user_id), coalesce(m.last_action, 'memory.create')
   FROM ${from} ON CONFLICT DO NOTHING`;

/**
 * [current row (pre-read), audit insert, (version row,) the change (UPDATE … RETURNING or DELETE)]:
 * the change is always last. An UPDATE first saves the version it replaces, with the same guard.
 */
function changeStatements(
  db: D1Database,
  t: TargetOptions,
  w: Omit<WriteContext, 'tenantId'> & { tenantId?: string },
  ch: Change,
): D1PreparedStatement[] {
  const guard = (b: Binder) =>
    targetSql(
      b,
      t,
      `${w.tenantId ? `c.tenant_id = ${b.bind(w.tenantId)} AND ` : ''}${keyIsFreshSql(b, w.idempotency)} AND ${ch.when(b)}${ch.set ? ` AND m.version < ${MEMORY_VERSION_MAX}` : ''}`,
    );
  const pre = getMemoryStatement(db, w.sub, t.id, t);
  const ab = new Binder(w.sub);
  const audit = prepared(
    db,
    ab,
    withCaller(
      auditInsertSql(
        ab,
        {
          action: ch.action,
          resourceType: 'memory',
          resourceIdSql: 'm.id',
          oldSql: ch.oldValues(ab),
          newSql: ch.newValues(ab),
        },
        w.meta,
        w.now,
        `memories m, caller c WHERE ${guard(ab)}`,
      ),
    ),
  );
  const vb = new Binder(w.sub);
  const version = ch.set
    ? [prepared(db, vb, withCaller(versionInsertSql(`memories m, caller c WHERE ${guard(vb)}`)))]
    : [];
  const cb = new Binder(w.sub);
  // The id test stays outside the correlated EXISTS so SQLite looks the row up by its index
  // (inside it, every change scanned the whole memories table: bench/RESULTS.md).
  const where = `m.id = ${cb.bind(t.id)} AND EXISTS (SELECT 1 FROM caller c WHERE ${guard(cb)})`;
  const change = ch.set
    ? `UPDATE memories AS m SET ${ch.set(cb)}, version = m.version + 1, updated_at = ${cb.bind(w.now)},
         changed_by = (SELECT user_id FROM caller), last_action = ${cb.bind(ch.action)} WHERE ${where} RETURNING ${cols(!!t.embedding, '')}`
    : `DELETE FROM memories AS m WHERE ${where} RETURNING id`;
  return [pre, audit, ...version, prepared(db, cb, withCaller(change))];
}

export interface MemoryPatch {
  content?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
  importance?: number;
  access_scope?: AccessScope;
  subject_id?: string | null;
  agent_id?: string | null;
  /** Epoch ms; null clears it. */
  expires_at?: number | null;
  /** A new vector, or null to remove it. Without it, a content change marks a stored vector stale. */
  embedding?: number[] | null;
}

/**
 * PATCH. `doc` is the search text the Worker computed: the whole doc when both content and tags
 * change, else the part that changes (spliced in SQL around the '|' marker, lib/search-text.ts).
 */
export function patchMemoryStatements(
  db: D1Database,
  t: TargetOptions,
  w: WriteContext,
  patch: MemoryPatch,
  doc: { full?: string; contentPart?: string; tagPart?: string },
): D1PreparedStatement[] {
  const keys = Object.keys(patch) as (keyof MemoryPatch)[];
  const jsonCols = new Set(['tags', 'metadata', 'embedding']);
  const vector = patch.embedding ? toFloat32Hex(patch.embedding) : null;
  return changeStatements(db, t, w, {
    action: 'memory.update',
    // A memory can only become session-scoped if it belongs to a session.
    when: (b) =>
      `m.deleted_at IS NULL AND (${b.bind(patch.access_scope ?? null)} IS NOT 'session' OR m.session_id IS NOT NULL)${patch.access_scope !== undefined ? ` AND ${MAY_RESCOPE_SQL}` : ''}${
        patch.embedding
          ? ` AND ${vectorGuardSql(b, [patch.embedding.length], 0, w.vectorMax)} AND (m.vector IS NOT NULL OR ${vectorGuardSql(b, [patch.embedding.length], 1, w.vectorMax)})`
          : ''
      }${w.assumedModel !== undefined ? ` AND ${embeddingModelIsSql(b, w.assumedModel)}` : ''}`,
    set: (b) => {
      const sets = keys.map(
        (k) => `${k} = ${b.bind(jsonCols.has(k) && patch[k] !== null ? JSON.stringify(patch[k]) : patch[k])}`,
      );
      if (patch.embedding !== undefined)
        sets.push(`vector = unhex(${b.bind(vector)})`, `embedding_status = ${b.bind(vector ? 'current' : null)}`);
      else if (patch.content !== undefined)
        sets.push(`embedding_status = CASE WHEN m.vector IS NULL THEN NULL ELSE 'stale' END`);
      if (doc.full !== undefined) sets.push(`search_doc = ${b.bind(doc.full)}`);
      else if (doc.contentPart !== undefined)
        sets.push(`search_doc = substr(m.search_doc, 1, instr(m.search_doc, '|')) || ${b.bind(doc.contentPart)}`);
      else if (doc.tagPart !== undefined)
        sets.push(`search_doc = ${b.bind(doc.tagPart)} || substr(m.search_doc, instr(m.search_doc, '|'))`);
      return sets.join(', ');
    },
    // The audit row names a vector's dimensions, not its numbers (as auditValuesOf does).
    oldValues: () =>
      `json_object(${keys
        .map((k) =>
          k === 'embedding'
            ? `'embedding_dimensions', json_array_length(m.embedding)`
            : `'${k}', ${jsonCols.has(k) ? `json(m.${k})` : k === 'expires_at' ? isoSql('m.expires_at') : `m.${k}`}`,
        )
        .join(', ')})`,
    newValues: (b) => {
      const { embedding, ...rest } = patch;
      const shown =
        rest.expires_at === undefined ? rest : { ...rest, expires_at: toIso(rest.expires_at as number | null) };
      return b.bind(
        JSON.stringify(embedding === undefined ? shown : { ...shown, embedding_dimensions: embedding?.length ?? null }),
      );
    },
  });
}

/** Tags after adding `add` (already de-duplicated): existing order kept, new ones appended. */
const mergedTagsSql = (add: string) =>
  `(SELECT json_group_array(value) FROM (SELECT value FROM json_each(m.tags) UNION ALL SELECT value FROM json_each(${add}) WHERE value NOT IN (SELECT value FROM json_each(m.tags))))`;

/** POST /tags: [pre-read, audit, update]. `segments` = [tag, its search segment] per tag. No-op when all are present. */
export function addTagsStatements(
  db: D1Database,
  t: TargetOptions,
  w: WriteContext,
  segments: [string, string][],
  maxTags: number,
): D1PreparedStatement[] {
  const tags = JSON.stringify(segments.map(([tag]) => tag));
  const newOnly = (_b: Binder, add: string) =>
    `EXISTS (SELECT 1 FROM json_each(${add}) WHERE value NOT IN (SELECT value FROM json_each(m.tags)))`;
  return changeStatements(db, t, w, {
    action: 'memory.tags_add',
    when: (b) => {
      const add = b.bind(tags);
      return `m.deleted_at IS NULL AND ${newOnly(b, add)} AND json_array_length(${mergedTagsSql(add)}) <= ${b.bind(maxTags)}`;
    },
    set: (b) => {
      const add = b.bind(tags);
      const pairs = b.bind(JSON.stringify(segments));
      return `tags = ${mergedTagsSql(add)},
        search_doc = substr(m.search_doc, 1, instr(m.search_doc, '|') - 1)
          || coalesce((SELECT group_concat(json_extract(p.value, '$[1]') || ',', '') FROM json_each(${pairs}) p
                       WHERE json_extract(p.value, '$[0]') NOT IN (SELECT value FROM json_each(m.tags))), '')
          || substr(m.search_doc, instr(m.search_doc, '|'))`;
    },
    oldValues: () => `json_object('tags', json(m.tags))`,
    newValues: (b) => `json_object('tags', json(${mergedTagsSql(b.bind(tags))}))`,
  });
}

/** DELETE /tags/{tag}: [pre-read, audit, update]. No-op when the tag is absent. */
export function removeTagStatements(
  db: D1Database,
  t: TargetOptions,
  w: WriteContext,
  tag: string,
  segment: string,
): D1PreparedStatement[] {
  const remaining = (b: Binder) =>
    `(SELECT json_group_array(value) FROM json_each(m.tags) WHERE value <> ${b.bind(tag)})`;
  return changeStatements(db, t, w, {
    action: 'memory.tag_remove',
    when: (b) => `m.deleted_at IS NULL AND EXISTS (SELECT 1 FROM json_each(m.tags) WHERE value = ${b.bind(tag)})`,
    set: (b) => {
      // Cut the first ",<segment>," of ","||doc: a whole segment of the tag part (see search-text.ts).
      const seg = b.bind(segment);
      const at = `instr(',' || m.search_doc, ',' || ${seg} || ',')`;
      return `tags = ${remaining(b)},
        search_doc = CASE WHEN ${at} > 0 THEN substr(m.search_doc, 1, ${at} - 1) || substr(m.search_doc, ${at} + length(${seg}) + 1) ELSE m.search_doc END`;
    },
    oldValues: () => `json_object('tags', json(m.tags))`,
    newValues: (b) => `json_object('tags', json(${remaining(b)}))`,
  });
}

/** Soft delete: [pre-read, audit, update]. */
export function softDeleteStatements(
  db: D1Database,
  t: TargetOptions,
  w: Omit<WriteContext, 'tenantId'>,
): D1PreparedStatement[] {
  return changeStatements(db, t, w, {
    action: 'memory.delete',
    when: () => `m.deleted_at IS NULL AND ${MAY_RESCOPE_SQL}`,
    set: (b) => `deleted_at = ${b.bind(w.now)}`,
    oldValues: () => `json_object('deleted_at', NULL)`,
    newValues: (b) => `json_object('deleted_at', ${b.bind(toIso(w.now))})`,
  });
}

/** Restore: [pre-read, audit, update]; counts against the plan's memory quota. */
export function restoreStatements(
  db: D1Database,
  t: TargetOptions,
  w: Omit<WriteContext, 'tenantId'>,
): D1PreparedStatement[] {
  return changeStatements(db, t, w, {
    action: 'memory.restore',
    when: () =>
      `m.deleted_at IS NOT NULL AND (SELECT ${liveMemoryCountSql('tn')} + 1 <= ${planLimitSql('memories', 'tn.plan')} FROM tenants tn WHERE tn.id = c.tenant_id)`,
    set: () => 'deleted_at = NULL',
    oldValues: () => `json_object('deleted_at', strftime('%Y-%m-%dT%H:%M:%fZ', m.deleted_at / 1000.0, 'unixepoch'))`,
    newValues: () => `json_object('deleted_at', NULL)`,
  });
}

/** Permanent delete (owner/admin): [pre-read, audit, delete]. The audit row keeps the last content. */
export function purgeStatements(
  db: D1Database,
  t: TargetOptions,
  w: Omit<WriteContext, 'tenantId'>,
): D1PreparedStatement[] {
  return changeStatements(db, t, w, {
    action: 'memory.purge',
    when: () => `c.role IN ('owner', 'admin')`,
    oldValues: () => SNAPSHOT_SQL,
    newValues: () => 'NULL',
  });
}

// ---------------------------------------------------------------- expiry (cron)

/**
 * Cron: deletes up to `limit` expired memories (oldest expiry first, any tenant), each with a
 * system `memory.expire` audit row and counted in usage_daily.memories_expired. The three
 * statements select the same rows (same order, same limit) in one transaction. Deleting the row
 * drops it from the FTS index and tenants.memory_count (triggers) and its versions (cascade).
 * Results: [usage, audit, delete … RETURNING id].
 */
export function expireMemoriesStatements(db: D1Database, now: number, limit: number): D1PreparedStatement[] {
  const chunk = `SELECT seq FROM memories WHERE expires_at IS NOT NULL AND expires_at <= ?1 ORDER BY expires_at, seq LIMIT ?2`;
  return [
    db
      .prepare(
        `INSERT INTO usage_daily (tenant_id, day, memories_expired)
         SELECT m.tenant_id, strftime('%Y-%m-%d', ?1 / 1000, 'unixepoch'), count(*) FROM memories m
         WHERE m.seq IN (${chunk}) AND EXISTS (SELECT 1 FROM tenants t WHERE t.id = m.tenant_id) GROUP BY m.tenant_id
         ON CONFLICT (tenant_id, day) DO UPDATE SET memories_expired = memories_expired + excluded.memories_expired`,
      )
      .bind(now, limit),
    db
      .prepare(
        `INSERT INTO audit_logs (id, tenant_id, user_id, action, resource_type, resource_id, old_values, new_values, created_at)
         SELECT ${perRowAuditIdSql('?3')}, m.tenant_id, NULL, 'memory.expire', 'memory', m.id,
                json_object('expires_at', ${isoSql('m.expires_at')}, 'subject_id', m.subject_id, 'agent_id', m.agent_id), NULL, ?1
         FROM memories m WHERE m.seq IN (${chunk})`,
      )
      .bind(now, limit, auditIdTimePart(now)),
    db.prepare(`DELETE FROM memories WHERE seq IN (${chunk}) RETURNING id`).bind(now, limit),
  ];
}

// ---------------------------------------------------------------- bulk delete

export interface BulkDeleteOptions {
  mode: 'soft' | 'purge';
  dryRun: boolean;
  /** Memories deleted per call at most. */
  limit: number;
  /** The whole tenant (an empty filter): owner or admin only. */
  all: boolean;
}

export interface BulkDeleteOutcome {
  matched: number;
  deleted: number;
}

/**
 * POST /v1/memories/bulk-delete: [count of matches, (audit rows, version rows, the change)].
 * Soft mode takes the live memories the filter selects that the caller may soft-delete one by one
 * (those it sees: DELETE /v1/memories/{id}); purge mode needs owner or admin.
 * Every statement re-selects the same first `limit` rows in (created_at, id) order inside the one
 * transaction, so the audit rows, version rows and deletions cover exactly the same memories.
 */
export function bulkDeleteStatements(
  db: D1Database,
  f: MemoryFilters,
  o: BulkDeleteOptions,
  w: Omit<WriteContext, 'tenantId'>,
) {
  const filters: MemoryFilters = { ...f, deleted: o.mode === 'soft' ? 'exclude' : (f.deleted ?? 'include') };
  // Purge is the erasure tool (owner/admin): it reaches every memory of the tenant, others' private
  // and session memories included, so "forget alice" leaves nothing behind.
  const scope = (b: Binder) =>
    o.mode === 'purge'
      ? `m.tenant_id = c.tenant_id AND c.role IN ('owner', 'admin')`
      : `${visibleSql(b, f.session_id)}${o.all ? ` AND c.role IN ('owner', 'admin')` : ''}`;
  const matching = (b: Binder) =>
    `FROM memories m${labelIndexSql(f)}, caller c WHERE ${scope(b)}${filterSql(b, filters)}`;
  const chunk = (b: Binder) => `SELECT m.seq ${matching(b)} ORDER BY m.created_at, m.id LIMIT ${b.bind(o.limit)}`;
  const cb = new Binder(w.sub);
  const statements = [prepared(db, cb, withCaller(`SELECT count(*) AS matched ${matching(cb)}`))];
  if (!o.dryRun) {
    const ab = new Binder(w.sub);
    const soft = o.mode === 'soft';
    const audit = auditInsertSql(
      ab,
      {
        action: soft ? 'memory.delete' : 'memory.purge',
        resourceType: 'memory',
        resourceIdSql: 'm.id',
        oldSql: soft ? `json_object('deleted_at', NULL)` : SNAPSHOT_SQL,
        newSql: soft ? `json_object('deleted_at', ${ab.bind(toIso(w.now))})` : 'NULL',
        idSql: perRowAuditIdSql(ab.bind(auditIdTimePart(w.now))),
      },
      w.meta,
      w.now,
      `memories m, caller c WHERE m.seq IN (${chunk(ab)})`,
    );
    statements.push(prepared(db, ab, withCaller(audit)));
    const db2 = new Binder(w.sub);
    if (soft) {
      const vb = new Binder(w.sub);
      statements.push(prepared(db, vb, withCaller(versionInsertSql(`memories m WHERE m.seq IN (${chunk(vb)})`))));
      statements.push(
        prepared(
          db,
          db2,
          withCaller(`UPDATE memories AS m SET deleted_at = ${db2.bind(w.now)}, version = m.version + 1, updated_at = ${db2.bind(w.now)},
            changed_by = (SELECT user_id FROM caller), last_action = 'memory.delete' WHERE m.seq IN (${chunk(db2)}) RETURNING id`),
        ),
      );
    } else {
      statements.push(prepared(db, db2, withCaller(`DELETE FROM memories WHERE seq IN (${chunk(db2)}) RETURNING id`)));
    }
  }
  return {
    statements,
    decode(results: D1Result[]): BulkDeleteOutcome & { ids: string[] } {
      const matched = (results[0]!.results[0] as { matched: number }).matched;
      const ids = o.dryRun ? [] : (results.at(-1)!.results as { id: string }[]).map((r) => r.id);
      return { matched, deleted: ids.length, ids };
    },
  };
}

// ---------------------------------------------------------------- versions

export interface VersionRow {
  version: number;
  content: string;
  tags: string;
  metadata: string;
  importance: number;
  access_scope: AccessScope;
  subject_id: string | null;
  agent_id: string | null;
  expires_at: number | null;
  changed_at: number;
  changed_by: string | null;
  action: string | null;
}

export function toVersion(row: VersionRow) {
  return {
    version: row.version,
    content: row.content,
    tags: JSON.parse(row.tags) as string[],
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    importance: row.importance,
    access_scope: row.access_scope,
    subject_id: row.subject_id,
    agent_id: row.agent_id,
    expires_at: toIso(row.expires_at),
    changed_at: toIso(row.changed_at),
    changed_by: row.changed_by,
    action: row.action ?? 'memory.create',
  };
}

/**
 * [the memory (visible to the caller?), one page of its earlier versions newest first (limit + 1)].
 * Visibility is the memory's own.
 */
export function listVersionsStatements(
  db: D1Database,
  sub: string,
  id: string,
  o: { sessionId?: string; limit: number; before?: number },
): D1PreparedStatement[] {
  const b = new Binder(sub);
  const before = o.before === undefined ? '' : ` AND v.version < ${b.bind(o.before)}`;
  const sql = `SELECT v.version, v.content, v.tags, v.metadata, v.importance, v.access_scope, v.subject_id, v.agent_id, v.expires_at,
      v.changed_at, v.changed_by, v.action
    FROM memories m, caller c JOIN memory_versions v ON v.memory_id = m.id
    WHERE m.id = ${b.bind(id)} AND ${visibleSql(b, o.sessionId)}${before}
    ORDER BY v.version DESC LIMIT ${b.bind(o.limit + 1)}`;
  return [getMemoryStatement(db, sub, id, { sessionId: o.sessionId }), prepared(db, b, withCaller(sql))];
}

/**
 * POST …/versions/{version}/restore: [pre-read, audit, version row, update]. Writes version
 * `version`'s content, tags, metadata, importance, scope, labels and expiry (and its search text)
 * back as a new version. Refused (nothing written) when that version is missing, its scope no
 * longer fits the memory, or its expiry has passed.
 */
export function restoreVersionStatements(
  db: D1Database,
  t: TargetOptions,
  w: Omit<WriteContext, 'tenantId'>,
  version: number,
): D1PreparedStatement[] {
  const restorable = (
    b: Binder,
  ) => `EXISTS (SELECT 1 FROM memory_versions v WHERE v.memory_id = m.id AND v.version = ${b.bind(version)}
      AND (v.access_scope <> 'session' OR m.session_id IS NOT NULL) AND (v.access_scope <> 'private' OR m.user_id IS NOT NULL)
      AND (v.expires_at IS NULL OR v.expires_at > ${NOW_MS_SQL}))`;
  return changeStatements(db, t, w, {
    action: 'memory.version_restore',
    when: (b) => `m.deleted_at IS NULL AND ${restorable(b)}`,
    // Restored content the stored vector was not made from turns the vector stale, as a content PATCH does.
    set: (
      b,
    ) => `(content, tags, metadata, importance, access_scope, subject_id, agent_id, expires_at, search_doc, embedding_status) =
      (SELECT v.content, v.tags, v.metadata, v.importance, v.access_scope, v.subject_id, v.agent_id, v.expires_at, v.search_doc,
              CASE WHEN m.vector IS NULL THEN NULL WHEN v.content IS m.content THEN m.embedding_status ELSE 'stale' END
       FROM memory_versions v WHERE v.memory_id = m.id AND v.version = ${b.bind(version)})`,
    oldValues: () => SNAPSHOT_SQL,
    newValues: (b) => `json_object('restored_version', ${b.bind(version)})`,
  });
}

/** Version `version` of memory `id` as stored (diagnoses a refused version restore); no visibility check. */
export function versionStatement(db: D1Database, sub: string, id: string, version: number): D1PreparedStatement {
  return db
    .prepare(
      withCaller(`SELECT v.version, v.content, v.tags, v.metadata, v.importance, v.access_scope, v.subject_id, v.agent_id, v.expires_at,
        v.changed_at, v.changed_by, v.action FROM memory_versions v, caller c WHERE v.memory_id = ?2 AND v.version = ?3 AND v.tenant_id = c.tenant_id`),
    )
    .bind(sub, id, version);
}

/**
 * Removing user `userId`: soft-deletes their live private and session memories (nobody else could
 * ever see them) with one `memory.delete` audit row each, so they leave the quota. Only when
 * `guard` (the removal's own verdict) holds; run before the removal, in its batch. [audit, update]
 */
export function removedUserMemoriesStatements(
  db: D1Database,
  sub: string,
  userId: string,
  meta: RequestMeta,
  now: number,
  guard: (b: Binder) => string,
): D1PreparedStatement[] {
  const theirs = (b: Binder) =>
    `m.tenant_id = c.tenant_id AND m.user_id = ${b.bind(userId)} AND m.access_scope <> 'global' AND m.deleted_at IS NULL AND ${guard(b)}`;
  const a = new Binder(sub);
  const audit = prepared(
    db,
    a,
    withCaller(
      auditInsertSql(
        a,
        {
          action: 'memory.delete',
          resourceType: 'memory',
          resourceIdSql: 'm.id',
          oldSql: `json_object('deleted_at', NULL)`,
          newSql: `json_object('deleted_at', ${a.bind(toIso(now))}, 'reason', 'user_removed')`,
          idSql: perRowAuditIdSql(a.bind(auditIdTimePart(now))),
        },
        meta,
        now,
        `caller c JOIN memories m ON ${theirs(a)}`,
      ),
    ),
  );
  const u = new Binder(sub);
  const update = prepared(
    db,
    u,
    withCaller(`UPDATE memories AS m SET deleted_at = ${u.bind(now)}
      WHERE m.tenant_id = (SELECT tenant_id FROM caller) AND m.user_id = ${u.bind(userId)}
        AND EXISTS (SELECT 1 FROM caller c WHERE ${theirs(u)})`),
  );
  return [audit, update];
}
