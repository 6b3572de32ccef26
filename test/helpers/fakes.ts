// Fakes for the two Cloudflare engines that cannot run locally (wrangler dev only proxies them to
// the remote service). Each enforces the engine's documented limits and throws as the binding
// would, so an adapter that oversteps fails its tests:
// - Vectorize: developers.cloudflare.com/vectorize/platform/limits and reference/metadata-filtering
// - Workers AI bge embedding models: developers.cloudflare.com/workers-ai/models/bge-*-en-v1.5
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import worker from '../../src/index';
import { cosine } from '../../src/lib/vectors';
import type { VectorizeIndexLike, VectorizeVector } from '../../src/vectors/vectorize';

const bytes = (s: string) => new TextEncoder().encode(s).length;
/** A string metadata index holds its first 64 bytes: filters compare against those. */
const indexed = (v: unknown) =>
  typeof v === 'string' ? new TextDecoder().decode(new TextEncoder().encode(v).slice(0, 64)) : v;

export interface FakeVectorize extends VectorizeIndexLike {
  dimensions: number;
  vectors: Map<string, VectorizeVector>;
  /** The ids stored in `namespace`. */
  idsIn(namespace: string): string[];
}

/** A Vectorize index (cosine metric) with `dimensions` and metadata indexes on `metadataIndexes`. */
export function fakeVectorize(
  dimensions: number,
  metadataIndexes: string[] = ['subject_id', 'agent_id'],
): FakeVectorize {
  if (metadataIndexes.length > 10) throw new Error('VECTOR_INDEX: at most 10 metadata indexes per index');
  const vectors = new Map<string, VectorizeVector>();
  const fail = (message: string): never => {
    throw new Error(`VECTOR_UPSERT_ERROR: ${message}`);
  };
  const checkValues = (values: number[], what: string) => {
    if (dimensions > 1536) fail('at most 1536 dimensions');
    if (values.length !== dimensions) fail(`${what} has ${values.length} dimensions, the index ${dimensions}`);
    if (!values.every((x) => Number.isFinite(x))) fail(`${what} holds a value that is not a finite number`);
  };
  return {
    dimensions,
    vectors,
    idsIn: (namespace) => [...vectors.values()].filter((v) => v.namespace === namespace).map((v) => v.id),
    async upsert(batch) {
      if (batch.length === 0 || batch.length > 1000) fail('1–1000 vectors per upsert through a Worker binding');
      for (const v of batch) {
        if (typeof v.id !== 'string' || v.id.length === 0 || bytes(v.id) > 64)
          fail(`vector id ${v.id} is not 1–64 bytes`);
        checkValues(v.values, `vector ${v.id}`);
        if (v.namespace !== undefined && (v.namespace.length === 0 || bytes(v.namespace) > 64))
          fail(`namespace of ${v.id} is not 1–64 bytes`);
        for (const key of Object.keys(v.metadata ?? {}))
          if (key === '' || key.includes('.') || key.includes('"') || key.startsWith('$'))
            fail(`metadata key ${JSON.stringify(key)} is empty, holds . or " or starts with $`);
        if (bytes(JSON.stringify(v.metadata ?? {})) > 10 * 1024) fail(`metadata of ${v.id} is over 10 KiB`);
      }
      const namespaces = new Set([...vectors.values(), ...batch].map((v) => v.namespace ?? ''));
      if (namespaces.size > 50_000) fail('at most 50,000 namespaces per index');
      for (const v of batch) vectors.set(v.id, { ...v, values: [...v.values] });
      return { ids: batch.map((v) => v.id), count: batch.length };
    },
    async deleteByIds(ids) {
      if (ids.length === 0 || ids.length > 1000) fail('1–1000 ids per delete');
      for (const id of ids) vectors.delete(id);
      return { ids, count: ids.length };
    },
    async query(vector, options) {
      checkValues(vector, 'the query vector');
      const withData = options.returnValues === true || (options.returnMetadata ?? 'none') !== 'none';
      const max = withData ? 20 : 100;
      if (!Number.isInteger(options.topK) || options.topK < 1 || options.topK > max)
        fail(`topK must be 1–${max} ${withData ? 'with' : 'without'} values or metadata`);
      const filter = (options.filter ?? {}) as Record<string, Record<string, unknown>>;
      for (const key of Object.keys(filter))
        if (!metadataIndexes.includes(key)) fail(`no metadata index on ${key}: it cannot be filtered`);
      const passes = (v: VectorizeVector) =>
        Object.entries(filter).every(([key, cond]) => {
          const value = indexed(v.metadata?.[key]);
          return Object.entries(cond).every(([op, arg]) => {
            if (op === '$eq') return value === indexed(arg);
            if (op === '$ne') return value !== indexed(arg);
            if (op === '$in') return (arg as unknown[]).map(indexed).includes(value);
            if (op === '$nin') return !(arg as unknown[]).map(indexed).includes(value);
            return fail(`unsupported filter operator ${op}`);
          });
        });
      const matches = [...vectors.values()]
        .filter((v) => v.namespace === options.namespace && passes(v))
        .map((v) => ({ id: v.id, score: cosine(vector, v.values) }))
        .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))
        .slice(0, options.topK);
      return { matches, count: matches.length };
    },
  };
}

/** Output dimensions of the Workers AI text embedding models (bge v1.5). */
export const WORKERS_AI_MODELS: Record<string, number> = {
  '@cf/baai/bge-small-en-v1.5': 384,
  '@cf/baai/bge-base-en-v1.5': 768,
  '@cf/baai/bge-large-en-v1.5': 1024,
};

/**
 * Workers AI with the bge embedding models: `text` is 1–100 strings of at most 512 tokens (counted
 * here as words and punctuation marks, fewer than the model's own tokens), the answer
 * `{ shape: [n, dims], data }`. A text's vector: its words hashed into the dimensions, unit length.
 */
export function fakeWorkersAi() {
  const calls: { model: string; text: string[] }[] = [];
  return {
    calls,
    async run(model: string, input: { text: string[] }) {
      const dims = WORKERS_AI_MODELS[model];
      if (!dims) throw new Error(`AiError: no such model ${model}`);
      if (!Array.isArray(input.text) || input.text.length < 1 || input.text.length > 100)
        throw new Error('AiError: text must be 1–100 strings');
      for (const t of input.text) {
        if (typeof t !== 'string' || t.length === 0) throw new Error('AiError: empty text');
        if ((t.match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? []).length > 512)
          throw new Error('AiError: input is longer than 512 tokens');
      }
      calls.push({ model, text: input.text });
      const data = input.text.map((t) => {
        const v = new Array<number>(dims).fill(0);
        for (const w of t.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
          let h = 2166136261;
          for (const ch of w) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
          v[(h >>> 0) % dims]! += 1;
        }
        const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
        return v.map((x) => Math.fround(x / norm));
      });
      return { shape: [data.length, dims], data };
    },
  };
}

/** Calls the Worker with extra bindings (the fakes above) next to the test environment's. */
export function callWith(bindings: Record<string, unknown>) {
  return async (path: string, init: RequestInit & { token?: string; json?: unknown } = {}) => {
    const headers = new Headers(init.headers);
    if (init.token) headers.set('authorization', `Bearer ${init.token}`);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(init.json);
    }
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(`https://memoria.test${path}`, { ...init, headers, body }),
      { ...env, ...bindings } as never,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return res;
  };
}
