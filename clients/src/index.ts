// @memoria/client: a thin layer over openapi-fetch and the types generated from api/openapi.json.
// It adds what integrators otherwise write by hand: the bearer token, an Idempotency-Key on every
// POST, retries that are safe (transport.ts), typed problem errors and pagination.
import createClient, { type Client } from 'openapi-fetch';
import { MemoriaError } from './errors.js';
import { type Page, type Paginated, paginate } from './pagination.js';
import type { components, operations, paths } from './schema.js';
import { type RetryOptions, resilientFetch } from './transport.js';

export { type FieldError, MemoriaError, type Problem } from './errors.js';
export { type Page, type Paginated, paginate } from './pagination.js';
export { backoffMs, isRepeatable, type RetryOptions, retryAfterMs } from './transport.js';
export type { components, operations, paths };
export type Schemas = components['schemas'];
export type Memory = Schemas['Memory'];
export type MemorySearchHit = Schemas['MemorySearchHit'];
export type CreateMemory = Schemas['CreateMemory'];
export type PatchMemory = Schemas['PatchMemory'];

export interface MemoriaClientOptions extends RetryOptions {
  /** e.g. `https://api.memoria.example` or `http://127.0.0.1:8787` for `npm start`. */
  baseUrl: string;
  /** A fixed access token… */
  token?: string;
  /** …or a function called before every request (cache and refresh your Auth0 token there). */
  getToken?: () => string | Promise<string>;
  /** A custom fetch (tests, proxies, instrumentation). Defaults to the global fetch. */
  fetch?: (request: Request) => Promise<Response>;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
}

/** Per-call options of the helpers. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides the automatic Idempotency-Key (POST): reuse one to retry a call across restarts. */
  idempotencyKey?: string;
}

/** Equality filters on top-level metadata keys (`metadata.<key>=<value>` in the query). */
export type MetadataFilter = Record<string, string | number | boolean>;

/** Options of the single-memory calls. */
export interface MemoryCallOptions extends CallOptions {
  /** Names the caller's live session (makes its session-scoped memories visible). */
  session_id?: string;
  /** `embedding`: also return the memory's embedding. */
  include?: 'embedding';
}

/** A single resource and the ETag to send back as `If-Match`. */
export interface Tagged<T> {
  data: T;
  etag: string | null;
}

type Result<T> = { data?: T; error?: unknown; response: Response };

/** The data of a successful openapi-fetch result; throws `MemoriaError` for any error response. */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw MemoriaError.from(response, error);
  return data as T;
}

async function tagged<T>(call: Promise<Result<T>>): Promise<Tagged<T>> {
  const result = await call;
  return { data: await unwrap(Promise.resolve(result)), etag: result.response.headers.get('etag') };
}

/** Paths whose GET returns a `{ data, next_cursor }` page. */
export type ListPath = {
  [P in keyof paths]: paths[P] extends {
    get: { responses: { 200: { content: { 'application/json': { data: unknown[]; next_cursor: string | null } } } } };
  }
    ? P
    : never;
}[keyof paths];
type ListOperation<P extends ListPath> = paths[P]['get'];
/** The items a list path returns. */
export type ItemOf<P extends ListPath> =
  ListOperation<P>['responses'][200]['content']['application/json']['data'][number];
type ParametersOf<P extends ListPath> = ListOperation<P> extends { parameters: infer Params } ? Params : never;
/** A list's query parameters, without the cursor (the iterator handles it). */
export type ListQuery<P extends ListPath> =
  ParametersOf<P> extends { query?: infer Q } ? Omit<NonNullable<Q>, 'cursor'> : never;

const idempotencyKey = () => crypto.randomUUID();

export function createMemoriaClient(options: MemoriaClientOptions) {
  if (!options.token && !options.getToken) throw new TypeError('createMemoriaClient: pass token or getToken');
  const inner = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const api: Client<paths> = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    fetch: resilientFetch(inner, options),
    headers: options.headers,
  });
  api.use({
    async onRequest({ request }) {
      const token = options.token ?? (await options.getToken!());
      request.headers.set('authorization', `Bearer ${token}`);
      // Once per logical call: every retry of this request carries the same key.
      if (request.method === 'POST' && !request.headers.has('idempotency-key'))
        request.headers.set('idempotency-key', idempotencyKey());
      return request;
    },
  });

  /**
   * Every item of a list endpoint, across all pages: `for await (const x of client.paginate(path, { query }))`.
   * `path` is any GET path that returns `{ data, next_cursor }`; path parameters go in `params`.
   */
  function paginateList<P extends ListPath>(
    path: P,
    init: { query?: ListQuery<P>; params?: Record<string, string>; signal?: AbortSignal } = {},
  ): Paginated<ItemOf<P>> {
    return paginate((cursor) => {
      const query = { ...(init.query as object), ...(cursor ? { cursor } : {}) };
      // openapi-fetch cannot type a path chosen by a generic; the path and query types are checked above.
      const call = api.GET(
        path as never,
        { params: { query, path: init.params }, signal: init.signal } as never,
      ) as Promise<Result<Page<ItemOf<P>>>>;
      return unwrap(call);
    });
  }

  const withMetadata = <Q extends object>(query: Q & { metadata?: MetadataFilter }) => {
    const { metadata, ...rest } = query;
    const out: Record<string, unknown> = { ...rest };
    for (const [key, value] of Object.entries(metadata ?? {})) out[`metadata.${key}`] = String(value);
    return out as unknown as Q;
  };
  const readQuery = (o: MemoryCallOptions) => ({
    ...(o.session_id ? { session_id: o.session_id } : {}),
    ...(o.include ? { include: o.include } : {}),
  });
  const idem = (o: CallOptions) => (o.idempotencyKey ? { 'Idempotency-Key': o.idempotencyKey } : {});

  const memories = {
    /** Creates a memory (201). An Idempotency-Key is sent automatically, so a retry never creates two. */
    create: (body: CreateMemory, o: CallOptions = {}) =>
      tagged(api.POST('/v1/memories', { params: { header: idem(o) }, body, signal: o.signal })),
    /** Creates 1–100 memories all-or-nothing; returns them in request order. */
    createBatch: async (items: CreateMemory[], o: CallOptions = {}) =>
      (
        await unwrap(
          api.POST('/v1/memories/batch', { params: { header: idem(o) }, body: { memories: items }, signal: o.signal }),
        )
      ).data,
    /** A memory with its ETag (for `update`/`delete` with `ifMatch`). */
    get: (id: string, o: MemoryCallOptions = {}) =>
      tagged(api.GET('/v1/memories/{id}', { params: { path: { id }, query: readQuery(o) }, signal: o.signal })),
    /** Every memory matching the filters, across all pages: `for await (const m of client.memories.list({ tag: ['x'] }))`. */
    list: (query: ListQuery<'/v1/memories'> & { metadata?: MetadataFilter } = {}, o: CallOptions = {}) =>
      paginateList('/v1/memories', { query: withMetadata(query), signal: o.signal }),
    /** Full-text search, best match first, across all pages (each hit has `score` and `snippet`). */
    search: (query: ListQuery<'/v1/memories/search'> & { metadata?: MetadataFilter }, o: CallOptions = {}) =>
      paginateList('/v1/memories/search', { query: withMetadata(query), signal: o.signal }),
    /** Partial update; with `ifMatch` (an ETag) it only applies to that version, else 412 precondition_failed. */
    update: (id: string, patch: PatchMemory, o: MemoryCallOptions & { ifMatch?: string } = {}) =>
      tagged(
        api.PATCH('/v1/memories/{id}', {
          params: { path: { id }, query: readQuery(o), header: o.ifMatch ? { 'If-Match': o.ifMatch } : {} },
          body: patch,
          signal: o.signal,
        }),
      ),
    /** Soft delete (restorable); `permanent: true` deletes for good (owner/admin). */
    delete: async (id: string, o: MemoryCallOptions & { ifMatch?: string; permanent?: boolean } = {}) => {
      await unwrap(
        api.DELETE('/v1/memories/{id}', {
          params: {
            path: { id },
            query: {
              ...(o.session_id ? { session_id: o.session_id } : {}),
              ...(o.permanent ? { permanent: true } : {}),
            },
            header: o.ifMatch ? { 'If-Match': o.ifMatch } : {},
          },
          signal: o.signal,
        }),
      );
    },
    /** Brings back a soft-deleted memory. */
    restore: (id: string, o: MemoryCallOptions = {}) =>
      tagged(
        api.POST('/v1/memories/{id}/restore', {
          params: { path: { id }, query: readQuery(o), header: idem(o) },
          signal: o.signal,
        }),
      ),
    /** Adds tags (idempotent: existing ones are kept once, order kept). */
    addTags: (id: string, tags: string[], o: MemoryCallOptions = {}) =>
      tagged(
        api.POST('/v1/memories/{id}/tags', {
          params: { path: { id }, query: readQuery(o), header: idem(o) },
          body: { tags },
          signal: o.signal,
        }),
      ),
    /** Removes one tag. */
    removeTag: (id: string, tag: string, o: MemoryCallOptions & { ifMatch?: string } = {}) =>
      tagged(
        api.DELETE('/v1/memories/{id}/tags/{tag}', {
          params: { path: { id, tag }, query: readQuery(o), header: o.ifMatch ? { 'If-Match': o.ifMatch } : {} },
          signal: o.signal,
        }),
      ),
  };

  return {
    /** The typed openapi-fetch client for every operation (returns `{ data, error, response }`). */
    api,
    paginate: paginateList,
    memories,
    /** The caller: user, tenant, role and granted scopes. */
    me: (call: CallOptions = {}) => unwrap(api.GET('/v1/me', { signal: call.signal })),
    /** Service health (no token needed, but sent anyway). */
    health: (call: CallOptions = {}) => unwrap(api.GET('/health', { signal: call.signal })),
  };
}

export type MemoriaClient = ReturnType<typeof createMemoriaClient>;
