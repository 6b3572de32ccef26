// The production vector engine: Cloudflare Vectorize (the VECTORIZE binding). One namespace per
// tenant (its id), the memory id as the vector id, and as metadata the labels search filters by.
// D1 stays the source of truth: the index is written after the D1 batch that changed a memory,
// and every hit is re-read from D1 with the caller's visibility and the request's filters, so a
// stale or lagging index can lose a hit but never leak one. Without the binding the embedded d1
// engine (exact k-NN over the vectors stored in D1) serves semantic search instead.
import type { Env } from '../env';
import { D1_VECTOR_MAX } from '../lib/limits';

/** Metadata values Vectorize stores; the index filters on the ones it has metadata indexes for. */
export type VectorMetadata = Record<string, string | number | boolean>;

export interface VectorizeVector {
  id: string;
  values: number[];
  namespace?: string;
  metadata?: VectorMetadata;
}

export interface VectorizeMatch {
  id: string;
  score: number;
}

/** The part of the Vectorize binding (VectorizeIndex) this engine uses. */
export interface VectorizeIndexLike {
  upsert(vectors: VectorizeVector[]): Promise<unknown>;
  deleteByIds(ids: string[]): Promise<unknown>;
  query(
    vector: number[],
    options: { topK: number; namespace?: string; returnValues?: boolean; returnMetadata?: 'none'; filter?: object },
  ): Promise<{ matches: VectorizeMatch[]; count?: number }>;
}

/** Vectorize's documented limits (developers.cloudflare.com/vectorize/platform/limits). */
export const VECTORIZE_LIMITS = {
  dimensions: 1536,
  /** topK when neither values nor metadata are returned (this engine returns neither). */
  topK: 100,
  upsertBatch: 1000,
  idBytes: 64,
  namespaceBytes: 64,
  metadataBytes: 10 * 1024,
  vectorsPerIndex: 10_000_000,
  /** A metadata index holds the first 64 bytes of a string: longer values cannot be filtered exactly. */
  indexedBytes: 64,
};

/** Metadata properties the index must have metadata indexes for (`wrangler vectorize create-metadata-index`). */
export const VECTORIZE_METADATA_INDEXES = ['subject_id', 'agent_id'] as const;

/** A memory as the index holds it. */
export interface IndexedMemory {
  id: string;
  tenant_id: string;
  subject_id: string | null;
  agent_id: string | null;
  values: number[];
}

/** The vector bound of the engine in use: d1's exact scan is bounded, Vectorize's index is not per tenant. */
export const vectorLimit = (env: Env) => (env.VECTORIZE ? VECTORIZE_LIMITS.vectorsPerIndex : D1_VECTOR_MAX);

const utf8 = new TextEncoder();

function toVector(m: IndexedMemory): VectorizeVector {
  const metadata: VectorMetadata = {};
  if (m.subject_id !== null) metadata.subject_id = m.subject_id;
  if (m.agent_id !== null) metadata.agent_id = m.agent_id;
  return { id: m.id, values: m.values, namespace: m.tenant_id, metadata };
}

/**
 * Writes to the index what one committed D1 change did: vectors to (re)write, memory ids to
 * remove. A failure is logged, not thrown: the change is already committed in D1, search re-checks
 * every hit there, and the backfill (POST /v1/tenant/vector-index/backfill) rewrites the index.
 */
export async function syncIndex(env: Env, change: { upsert?: IndexedMemory[]; remove?: string[] }): Promise<boolean> {
  const index = env.VECTORIZE;
  const upsert = change.upsert ?? [];
  const remove = change.remove ?? [];
  if (!index || (upsert.length === 0 && remove.length === 0)) return true;
  try {
    for (let i = 0; i < upsert.length; i += VECTORIZE_LIMITS.upsertBatch)
      await index.upsert(upsert.slice(i, i + VECTORIZE_LIMITS.upsertBatch).map(toVector));
    for (let i = 0; i < remove.length; i += VECTORIZE_LIMITS.upsertBatch)
      await index.deleteByIds(remove.slice(i, i + VECTORIZE_LIMITS.upsertBatch));
    return true;
  } catch (err) {
    console.log(
      JSON.stringify({
        event: 'vector_index_sync_failed',
        upsert: upsert.length,
        remove: remove.length,
        error: err instanceof Error ? err.message : String(err),
      }),
    );
    return false;
  }
}

/**
 * The tenant's nearest memory ids, best first (at most VECTORIZE_LIMITS.topK). A subject or agent
 * filter is passed to the index when every value fits its metadata index (64 bytes); otherwise
 * the namespace alone narrows the query and D1 applies the filter to the hits.
 */
export async function queryIndex(
  index: VectorizeIndexLike,
  tenantId: string,
  vector: number[],
  labels: { subject_id?: string[]; agent_id?: string[] },
): Promise<VectorizeMatch[]> {
  const filter: Record<string, { $in: string[] }> = {};
  for (const key of VECTORIZE_METADATA_INDEXES) {
    const values = labels[key];
    if (values?.length && values.every((v) => utf8.encode(v).length <= VECTORIZE_LIMITS.indexedBytes))
      filter[key] = { $in: values };
  }
  const out = await index.query(vector, {
    topK: VECTORIZE_LIMITS.topK,
    namespace: tenantId,
    returnValues: false,
    returnMetadata: 'none',
    ...(Object.keys(filter).length ? { filter } : {}),
  });
  return out.matches;
}
