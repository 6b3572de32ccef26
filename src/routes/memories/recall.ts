// POST /v1/memories/search: keyword, semantic and hybrid search in one request.
// Keyword ranking is one statement (db/memories.ts keywordSearchSql); the d1 vector engine reads the
// caller's visible vectors in the same batch and ranks them exactly in the Worker; hybrid fuses both
// rankings (lib/vectors.ts reciprocalRankFusion). Memories only found by vector are then read in a
// second batch, which re-checks their visibility in D1.
import { OpenAPIHono } from '@hono/zod-openapi';
import { runAsCaller } from '../../auth/caller';
import {
  indexHitsStatement,
  type MemoryRow,
  memoriesBySeqStatement,
  searchMemoriesStatement,
  toMemory,
  vectorScanStatement,
} from '../../db/memories';
import type { AppEnv } from '../../env';
import { problemResponses, securedRoute } from '../../lib/route';
import { snippet } from '../../lib/search-query';
import { FUSION_WEIGHTS_DEFAULT, type Neighbour, nearest, reciprocalRankFusion } from '../../lib/vectors';
import { queryIndex } from '../../vectors/vectorize';
import { embedQuery, embedsOnServer } from './embed';
import { ANY_TENANT, bodyMetadataFilters, filtersOf, keywordQueryOf, runKeywordSearch, vectorRefusal } from './helpers';
import { SearchRequestSchema, SearchResultSchema } from './schemas';
import { assumedEmbedding, rememberCaller, withCallerTenant } from './tenant';

export const recallRoutes = new OpenAPIHono<AppEnv>();

/** The keyword ranking contributes this many candidates to a fusion (the vector ranking its top_k). */
const FUSION_CANDIDATES = 100;

recallRoutes.openapi(
  securedRoute(['read:memories'], {
    method: 'post',
    path: '/v1/memories/search',
    operationId: 'recallMemories',
    tags: ['Memories'],
    summary: 'Search memories (keyword, semantic or hybrid)',
    description:
      "Searches the caller's visible, live memories with the list filters. `keyword` ranks by BM25 (as GET /v1/memories/search, one round trip); " +
      "`semantic` by cosine similarity to `vector` (exact nearest neighbours over the tenant's vectors); `hybrid` fuses both rankings by Reciprocal " +
      'Rank Fusion (k = 60) of the keyword top 100 and the vector top `top_k`, weighted 1 and 0.5 unless `weights` says otherwise. Memories whose vector is `stale` are left out of the vector ranking. Whatever an index returns, ' +
      'visibility (scope, session, deletion, tenant) is decided by the database.',
    request: { body: { required: true, content: { 'application/json': { schema: SearchRequestSchema } } } },
    responses: {
      200: { description: 'The hits, best first.', content: { 'application/json': { schema: SearchResultSchema } } },
      ...problemResponses('invalid_query', 'conflict', 'vector_required', 'embedding_failed'),
    },
  }),
  async (c) => {
    const r = c.req.valid('json');
    const filters = filtersOf({ ...r.filter, deleted: 'exclude' }, bodyMetadataFilters(r.filter?.metadata));
    const sub = c.get('auth').sub;
    const db = c.env.DB;
    if (r.query !== undefined && r.mode !== 'semantic')
      keywordQueryOf(ANY_TENANT, r.query, r.syntax, r.match, 'json.query');
    // Without the AI binding a query cannot be embedded: refuse before reading anything.
    if (r.mode && r.mode !== 'keyword' && !r.vector && !c.env.AI) await embedQuery(undefined, null, null, '');

    // Default mode: hybrid when there is a vector to fuse (sent, or embedded on the server for a
    // tenant whose model is a Workers AI one), else semantic for a vector alone, else keyword.
    const modeFor = (embeds: boolean) =>
      r.mode ??
      (r.vector !== undefined
        ? r.query !== undefined
          ? 'hybrid'
          : 'semantic'
        : embeds && c.env.AI !== undefined
          ? 'hybrid'
          : 'keyword');
    const first = await withCallerTenant(c, async (tenantId) => {
      const assumed = assumedEmbedding(tenantId);
      const mode = modeFor(embedsOnServer(assumed.model, assumed.dimensions));
      const depth = mode === 'hybrid' ? Math.max(FUSION_CANDIDATES, r.top_k) : r.top_k;
      const terms = mode !== 'semantic' ? keywordQueryOf(tenantId, r.query!, r.syntax, r.match, 'json.query') : null;
      const statements: D1PreparedStatement[] = [];
      if (terms) statements.push(searchMemoriesStatement(db, sub, filters, { tenantId, query: terms, limit: depth }));
      // The d1 engine reads the caller's vectors in this batch; Vectorize is asked after it.
      const scan = mode !== 'keyword' && !c.env.VECTORIZE;
      if (scan) statements.push(vectorScanStatement(db, sub, filters));
      return { ...(await runKeywordSearch(c, statements, 'json.query')), terms, mode, depth, scan };
    });
    const { caller, terms, depth } = first;
    // A default hybrid assumed from a stale view of the tenant's model: keyword after all.
    const mode =
      !r.mode && !r.vector && first.mode === 'hybrid'
        ? modeFor(embedsOnServer(caller.tenant_embedding_model, caller.tenant_embedding_dimensions))
        : first.mode;
    const useVector = mode !== 'keyword';
    rememberCaller(c, caller);
    let at = 0;
    const keywordRows = (terms ? first.results[at++]!.results : []) as (MemoryRow & { score: number })[];
    const vectorRows = (first.scan ? first.results[at++]!.results : []) as {
      seq: number;
      v: string;
    }[];
    const rows = new Map(keywordRows.map((row) => [row.seq, row as MemoryRow]));

    let neighbours: Neighbour[] = [];
    if (useVector) {
      const vector =
        r.vector ??
        (await embedQuery(c.env.AI, caller.tenant_embedding_model, caller.tenant_embedding_dimensions, r.query!));
      const refusal = vectorRefusal(caller, [{ path: 'json.vector', dimensions: vector.length }], 0);
      if (refusal) throw refusal;
      if (c.env.VECTORIZE) {
        // Vectorize: the tenant's namespace, then every hit re-checked in D1 (visibility, filters, current vector).
        const matches = await queryIndex(c.env.VECTORIZE, caller.tenant_id, vector, filters);
        const { results } = matches.length
          ? await runAsCaller(c, [
              indexHitsStatement(
                db,
                sub,
                matches.map((m) => m.id),
                filters,
              ),
            ])
          : { results: [{ results: [] }] };
        const seen = new Map((results[0]!.results as MemoryRow[]).map((row) => [row.id, row]));
        neighbours = matches.flatMap((m) => {
          const row = seen.get(m.id);
          if (!row) return [];
          rows.set(row.seq, row);
          return [{ seq: row.seq, score: m.score }];
        });
        neighbours = neighbours.slice(0, depth);
      } else neighbours = nearest(vector, vectorRows, depth);
    }

    // Hybrid fuses the vector ranking's top_k only (lib/vectors.ts FUSION_WEIGHTS_DEFAULT); explain shows what was fused.
    if (mode === 'hybrid') neighbours = neighbours.slice(0, r.top_k);
    const keyword = new Map(keywordRows.slice(0, depth).map((row, i) => [row.seq, { rank: i + 1, row }]));
    const vector = new Map(neighbours.map((n, i) => [n.seq, { rank: i + 1, score: n.score }]));
    const ranked =
      mode === 'keyword'
        ? keywordRows.slice(0, depth).map((row) => ({ seq: row.seq, score: row.score }))
        : mode === 'semantic'
          ? neighbours
          : reciprocalRankFusion(
              [...keyword.keys()],
              neighbours.map((n) => n.seq),
              {
                keyword: r.weights?.keyword ?? FUSION_WEIGHTS_DEFAULT.keyword,
                vector: r.weights?.vector ?? FUSION_WEIGHTS_DEFAULT.vector,
              },
            );
    const top = ranked.filter((h) => r.min_score === undefined || h.score >= r.min_score).slice(0, r.top_k);

    // Rows the keyword statement did not return (found by vector only): read them, visibility re-checked.
    const missing = top.map((h) => h.seq).filter((seq) => !rows.has(seq));
    if (missing.length) {
      const { results } = await runAsCaller(c, [memoriesBySeqStatement(db, sub, missing, filters.session_id)]);
      for (const row of results[0]!.results as MemoryRow[]) rows.set(row.seq, row);
    }

    const data = top.flatMap((h) => {
      const row = rows.get(h.seq);
      if (!row) return [];
      const k = keyword.get(h.seq);
      const v = vector.get(h.seq);
      return [
        {
          memory: toMemory(row),
          score: h.score,
          ...(terms ? { snippet: snippet(row.content, terms.tokens, terms.prefixes) } : {}),
          ...(r.explain
            ? {
                explain: {
                  keyword_rank: k?.rank ?? null,
                  keyword_score: k?.row.score ?? null,
                  vector_rank: v?.rank ?? null,
                  vector_score: v?.score ?? null,
                },
              }
            : {}),
        },
      ];
    });
    return c.json({ data, mode }, 200);
  },
);
