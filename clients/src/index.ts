// @memoria/client: a thin layer over openapi-fetch and the types generated from api/openapi.json.
// It adds what integrators otherwise write by hand: the bearer token (refreshed once after a 401),
// an Idempotency-Key where the spec declares one, retries that are safe (transport.ts), the
// read-your-writes bookmark, typed problem errors, pagination, and one helper per operation.
import createClient, { type Client } from 'openapi-fetch';
import {
  type ExportLine,
  type ImportOptions,
  type ImportResult,
  type ImportSource,
  importChunks,
  ndjsonLines,
} from './data.js';
import { MemoriaError } from './errors.js';
import { IDEMPOTENT_POSTS } from './generated.js';
import { type Page, type Paginated, paginate } from './pagination.js';
import type { components, operations, paths } from './schema.js';
import { bookmarked, type ClientState, type RetryOptions, refreshOn401, resilientFetch } from './transport.js';

export {
  type ExportLine,
  IMPORT_CHUNK_MAX_BYTES,
  IMPORT_CHUNK_MAX_LINES,
  ImportError,
  type ImportOptions,
  type ImportReport,
  type ImportResult,
  type ImportSource,
} from './data.js';
export { type FieldError, MemoriaError, type MemoriaErrorCode, type Problem, retryAfterMs } from './errors.js';
export { API_VERSION, IDEMPOTENT_POSTS, type ProblemCode } from './generated.js';
export { type Page, type Paginated, paginate } from './pagination.js';
export {
  BOOKMARK_HEADER,
  backoffMs,
  declaresIdempotencyKey,
  isRepeatable,
  type RetryOptions,
  resilientFetch,
} from './transport.js';
export type { components, operations, paths };
export type Schemas = components['schemas'];
export type Memory = Schemas['Memory'];
export type MemorySearchHit = Schemas['MemorySearchHit'];
export type CreateMemory = Schemas['CreateMemory'];
export type PatchMemory = Schemas['PatchMemory'];
export type Session = Schemas['Session'];
export type User = Schemas['User'];
export type Tenant = Schemas['Tenant'];
export type AuditLog = Schemas['AuditLog'];
export type Webhook = Schemas['Webhook'];
export type WebhookDelivery = Schemas['WebhookDelivery'];

export interface MemoriaClientOptions extends RetryOptions {
  /** e.g. `https://api.memoria.example` or `http://127.0.0.1:8787` for `npm start`. */
  baseUrl: string;
  /** A fixed access token… */
  token?: string | undefined;
  /**
   * …or a function called before every call (cache and refresh your Auth0 token there). After a
   * 401 it is called once more with `forceRefresh: true` and the call is repeated with that token.
   */
  getToken?: ((context: { forceRefresh: boolean }) => string | Promise<string>) | undefined;
  /** A custom fetch (tests, proxies, instrumentation). Defaults to the global fetch. */
  fetch?: ((request: Request) => Promise<Response>) | undefined;
  /** Extra headers on every request. */
  headers?: Record<string, string> | undefined;
  /** A read-your-writes bookmark to start from (e.g. `otherClient.bookmark`). */
  bookmark?: string | null | undefined;
}

/** Per-call options of the helpers. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** Overrides the automatic Idempotency-Key (where the spec declares one): reuse a key across restarts. */
  idempotencyKey?: string | undefined;
}

/** Options of calls that change a resource only at the version you read. */
export interface IfMatchOptions extends CallOptions {
  /** An ETag from `get`/`create`/`update`: the change applies only to that version, else 412. */
  ifMatch?: string | undefined;
}

/** Equality filters on top-level metadata keys (`metadata.<key>=<value>` in the query). */
export type MetadataFilter = Record<string, string | number | boolean>;

/** Options of the single-memory calls. */
export interface MemoryCallOptions extends CallOptions {
  /** Names the caller's live session (makes its session-scoped memories visible). */
  session_id?: string | undefined;
  /** `embedding`: also return the memory's embedding. */
  include?: 'embedding' | undefined;
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

/** The API's ETag of a resource version (`"<id>-v<version>"`), for results that carry no header. */
const etagOf = (row: { id: string; version: number }) => `"${row.id}-v${row.version}"`;

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
/** The JSON body of an operation. */
export type BodyOf<K extends keyof operations> = operations[K] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;
/** The query of an operation. */
export type QueryOf<K extends keyof operations> = operations[K] extends { parameters: { query?: infer Q } }
  ? NonNullable<Q>
  : never;

const newIdempotencyKey = () => crypto.randomUUID();

export function createMemoriaClient(options: MemoriaClientOptions) {
  const { token, getToken } = options;
  if (!token && !getToken) throw new TypeError('createMemoriaClient: pass token or getToken');
  const state: ClientState = { bookmark: options.bookmark ?? null };
  const inner = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const api: Client<paths> = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    fetch: refreshOn401(resilientFetch(bookmarked(inner, state), options), getToken),
    ...(options.headers ? { headers: options.headers } : {}),
  });
  api.use({
    async onRequest({ request, schemaPath }) {
      request.headers.set('authorization', `Bearer ${token ?? (await getToken!({ forceRefresh: false }))}`);
      // Once per logical call, where the operation declares it: every retry carries the same key.
      if (request.method === 'POST' && IDEMPOTENT_POSTS.includes(schemaPath) && !request.headers.has('idempotency-key'))
        request.headers.set('idempotency-key', newIdempotencyKey());
      return request;
    },
  });

  /**
   * Every item of a list endpoint, across all pages: `for await (const x of client.paginate(path, { query }))`.
   * `path` is any GET path that returns `{ data, next_cursor }`; path parameters go in `params`.
   */
  function paginateList<P extends ListPath>(
    path: P,
    init: { query?: ListQuery<P>; params?: Record<string, string>; signal?: AbortSignal | undefined } = {},
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
  const ifMatch = (o: IfMatchOptions) => (o.ifMatch ? { 'If-Match': o.ifMatch } : {});
  const signal = (o: CallOptions) => (o.signal ? { signal: o.signal } : {});

  const memories = {
    /** Creates a memory (201). An Idempotency-Key is sent automatically, so a retry never creates two. */
    create: (body: CreateMemory, o: CallOptions = {}) =>
      tagged(api.POST('/v1/memories', { params: { header: idem(o) }, body, ...signal(o) })),
    /** Creates 1–100 memories all-or-nothing; returns them in request order, each as `create` does. */
    createBatch: async (items: CreateMemory[], o: CallOptions = {}): Promise<Tagged<Memory>[]> => {
      const { data } = await unwrap(
        api.POST('/v1/memories/batch', { params: { header: idem(o) }, body: { memories: items }, ...signal(o) }),
      );
      return data.map((memory) => ({ data: memory, etag: etagOf(memory) }));
    },
    /** A memory with its ETag (for `update`/`delete` with `ifMatch`). */
    get: (id: string, o: MemoryCallOptions = {}) =>
      tagged(api.GET('/v1/memories/{id}', { params: { path: { id }, query: readQuery(o) }, ...signal(o) })),
    /** Every memory matching the filters, across all pages: `for await (const m of client.memories.list({ tag: ['x'] }))`. */
    list: (query: ListQuery<'/v1/memories'> & { metadata?: MetadataFilter } = {}, o: CallOptions = {}) =>
      paginateList('/v1/memories', { query: withMetadata(query), signal: o.signal }),
    /** The top `limit` hits (default 20), best first; each has `score` and a `<mark>`ed `snippet`. */
    search: async (query: ListQuery<'/v1/memories/search'> & { metadata?: MetadataFilter }, o: CallOptions = {}) => {
      for await (const page of paginateList('/v1/memories/search', {
        query: withMetadata(query),
        signal: o.signal,
      }).pages())
        return page.data;
      return [];
    },
    /** Every hit, best first, across all pages (`for await`, or `.toArray()`). */
    searchAll: (query: ListQuery<'/v1/memories/search'> & { metadata?: MetadataFilter }, o: CallOptions = {}) =>
      paginateList('/v1/memories/search', { query: withMetadata(query), signal: o.signal }),
    /** Partial update; with `ifMatch` (an ETag) it only applies to that version, else 412 precondition_failed. */
    update: (id: string, patch: PatchMemory, o: MemoryCallOptions & IfMatchOptions = {}) =>
      tagged(
        api.PATCH('/v1/memories/{id}', {
          params: { path: { id }, query: readQuery(o), header: ifMatch(o) },
          body: patch,
          ...signal(o),
        }),
      ),
    /** Soft delete (restorable); `permanent: true` deletes for good (owner/admin). */
    delete: async (id: string, o: MemoryCallOptions & IfMatchOptions & { permanent?: boolean | undefined } = {}) => {
      await unwrap(
        api.DELETE('/v1/memories/{id}', {
          params: {
            path: { id },
            query: {
              ...(o.session_id ? { session_id: o.session_id } : {}),
              ...(o.permanent ? { permanent: true } : {}),
            },
            header: ifMatch(o),
          },
          ...signal(o),
        }),
      );
    },
    /** Deletes every memory matching a filter in one all-or-nothing request (sent once: not retried). */
    bulkDelete: (body: BodyOf<'bulkDeleteMemories'>, o: CallOptions = {}) =>
      unwrap(api.POST('/v1/memories/bulk-delete', { body, ...signal(o) })),
    /** Earlier versions of a memory, across all pages. */
    versions: (id: string, query: ListQuery<'/v1/memories/{id}/versions'> = {}, o: CallOptions = {}) =>
      paginateList('/v1/memories/{id}/versions', { query, params: { id }, signal: o.signal }),
    /** Makes an earlier version current again (a new version); with `ifMatch` only from the version you read. */
    restoreVersion: (id: string, version: number, o: MemoryCallOptions & IfMatchOptions = {}) =>
      tagged(
        api.POST('/v1/memories/{id}/versions/{version}/restore', {
          params: { path: { id, version }, query: readQuery(o), header: ifMatch(o) },
          ...signal(o),
        }),
      ),
    /** Brings back a soft-deleted memory. */
    restore: (id: string, o: MemoryCallOptions = {}) =>
      tagged(
        api.POST('/v1/memories/{id}/restore', {
          params: { path: { id }, query: readQuery(o), header: idem(o) },
          ...signal(o),
        }),
      ),
    /** Adds tags (idempotent: existing ones are kept once, order kept). */
    addTags: (id: string, tags: string[], o: MemoryCallOptions = {}) =>
      tagged(
        api.POST('/v1/memories/{id}/tags', {
          params: { path: { id }, query: readQuery(o), header: idem(o) },
          body: { tags },
          ...signal(o),
        }),
      ),
    /** Removes one tag. */
    removeTag: (id: string, tag: string, o: MemoryCallOptions & IfMatchOptions = {}) =>
      tagged(
        api.DELETE('/v1/memories/{id}/tags/{tag}', {
          params: { path: { id, tag }, query: readQuery(o), header: ifMatch(o) },
          ...signal(o),
        }),
      ),
  };

  const sessions = {
    /** Opens a session for the caller (an agent or MCP host connection). */
    create: (body: BodyOf<'createSession'>, o: CallOptions = {}) =>
      unwrap(api.POST('/v1/sessions', { params: { header: idem(o) }, body, ...signal(o) })),
    /** The caller's sessions (owners and admins: every session of the tenant), across all pages. */
    list: (query: ListQuery<'/v1/sessions'> = {}, o: CallOptions = {}) =>
      paginateList('/v1/sessions', { query, signal: o.signal }),
    get: (id: string, o: CallOptions = {}) =>
      unwrap(api.GET('/v1/sessions/{id}', { params: { path: { id } }, ...signal(o) })),
    /** Ends a session: its session-scoped memories become invisible. */
    end: async (id: string, o: CallOptions = {}) => {
      await unwrap(api.DELETE('/v1/sessions/{id}', { params: { path: { id } }, ...signal(o) }));
    },
    /** Keeps the caller's own session alive (409 session_expired once it has idled out). */
    heartbeat: (id: string, o: CallOptions = {}) =>
      unwrap(api.POST('/v1/sessions/{id}/heartbeat', { params: { path: { id } }, ...signal(o) })),
  };

  const users = {
    list: (query: ListQuery<'/v1/users'> = {}, o: CallOptions = {}) =>
      paginateList('/v1/users', { query, signal: o.signal }),
    /** Adds a person or a machine-to-machine client (`kind: 'service'`) to the tenant. */
    create: (body: BodyOf<'createUser'>, o: CallOptions = {}) =>
      tagged(api.POST('/v1/users', { params: { header: idem(o) }, body, ...signal(o) })),
    get: (id: string, o: CallOptions = {}) =>
      tagged(api.GET('/v1/users/{id}', { params: { path: { id } }, ...signal(o) })),
    update: (id: string, patch: BodyOf<'updateUser'>, o: IfMatchOptions = {}) =>
      tagged(api.PATCH('/v1/users/{id}', { params: { path: { id }, header: ifMatch(o) }, body: patch, ...signal(o) })),
    delete: async (id: string, o: IfMatchOptions = {}) => {
      await unwrap(api.DELETE('/v1/users/{id}', { params: { path: { id }, header: ifMatch(o) }, ...signal(o) }));
    },
  };

  const tenant = {
    /** Creates a tenant owned by the caller: the first call of a new identity. */
    create: (body: BodyOf<'createTenant'>, o: CallOptions = {}) =>
      unwrap(api.POST('/v1/tenants', { body, ...signal(o) })),
    get: (o: CallOptions = {}) => unwrap(api.GET('/v1/tenant', { ...signal(o) })),
    update: (patch: BodyOf<'updateTenant'>, o: CallOptions = {}) =>
      unwrap(api.PATCH('/v1/tenant', { body: patch, ...signal(o) })),
    /** Soft-deletes the tenant (owner): restorable until `restorable_until`. */
    delete: (o: CallOptions = {}) => unwrap(api.DELETE('/v1/tenant', { ...signal(o) })),
    restore: (o: CallOptions = {}) => unwrap(api.POST('/v1/tenant/restore', { ...signal(o) })),
    /** The whole tenant as typed lines (header first), read from the network as you iterate. */
    export: async function* (o: CallOptions = {}): AsyncGenerator<ExportLine> {
      const { data, error, response } = await api.GET('/v1/export', { parseAs: 'stream', ...signal(o) });
      if (!response.ok || !data) throw MemoriaError.from(response, error);
      yield* ndjsonLines<ExportLine>(data as ReadableStream<Uint8Array>);
    },
    /**
     * Imports an export (text or lines, e.g. `client.tenant.export()` of another tenant) in chunks
     * the API accepts. A chunk that fails without an answer or with 429/5xx is sent again; if it
     * still fails, the ImportError says how many lines are in (`skipLines` resumes after them).
     */
    import: (source: ImportSource, o: ImportOptions = {}): Promise<ImportResult> =>
      importChunks(
        source,
        (ndjson, chunkSignal) =>
          unwrap(
            api.POST('/v1/import', {
              params: { query: o.dryRun ? { dry_run: true } : {} },
              body: ndjson,
              bodySerializer: (text: string) => text,
              headers: { 'Content-Type': 'application/x-ndjson' },
              ...(chunkSignal ? { signal: chunkSignal } : {}),
            }),
          ),
        o,
      ),
  };

  const webhooks = {
    /** Registers an endpoint (owner/admin); the answer's `secret` is shown only this once. */
    create: (body: BodyOf<'createWebhook'>, o: CallOptions = {}) =>
      unwrap(api.POST('/v1/webhooks', { body, ...signal(o) })),
    list: (query: ListQuery<'/v1/webhooks'> = {}, o: CallOptions = {}) =>
      paginateList('/v1/webhooks', { query, signal: o.signal }),
    get: (id: string, o: CallOptions = {}) =>
      unwrap(api.GET('/v1/webhooks/{id}', { params: { path: { id } }, ...signal(o) })),
    /** `enabled: true` resumes a disabled endpoint where it stopped. */
    update: (id: string, patch: BodyOf<'updateWebhook'>, o: CallOptions = {}) =>
      unwrap(api.PATCH('/v1/webhooks/{id}', { params: { path: { id } }, body: patch, ...signal(o) })),
    delete: async (id: string, o: CallOptions = {}) => {
      await unwrap(api.DELETE('/v1/webhooks/{id}', { params: { path: { id } }, ...signal(o) }));
    },
    /** A new secret (shown once); the previous one keeps signing during the grace period. */
    rotateSecret: (id: string, o: CallOptions = {}) =>
      unwrap(api.POST('/v1/webhooks/{id}/rotate-secret', { params: { path: { id } }, ...signal(o) })),
    /** Sends a `webhook.test` message now and returns the attempt. */
    test: (id: string, o: CallOptions = {}) =>
      unwrap(api.POST('/v1/webhooks/{id}/test', { params: { path: { id } }, ...signal(o) })),
    /** Delivery attempts, newest first, across all pages. */
    deliveries: (id: string, query: ListQuery<'/v1/webhooks/{id}/deliveries'> = {}, o: CallOptions = {}) =>
      paginateList('/v1/webhooks/{id}/deliveries', { query, params: { id }, signal: o.signal }),
  };

  return {
    /** The typed openapi-fetch client for every operation (returns `{ data, error, response }`). */
    api,
    paginate: paginateList,
    memories,
    sessions,
    users,
    tenant,
    webhooks,
    subscription: {
      get: (o: CallOptions = {}) => unwrap(api.GET('/v1/subscription', { ...signal(o) })),
      /** Changes the plan (owner); a downgrade below current usage is 409 plan_limits_exceeded. */
      change: (plan: BodyOf<'changePlan'>['plan'], o: CallOptions = {}) =>
        unwrap(api.PUT('/v1/subscription', { body: { plan }, ...signal(o) })),
    },
    /** Daily usage of the tenant (owner/admin). */
    usage: (query: QueryOf<'getUsage'> = {}, o: CallOptions = {}) =>
      unwrap(api.GET('/v1/usage', { params: { query }, ...signal(o) })),
    auditLogs: {
      list: (query: ListQuery<'/v1/audit-logs'> = {}, o: CallOptions = {}) =>
        paginateList('/v1/audit-logs', { query, signal: o.signal }),
      get: (id: string, o: CallOptions = {}) =>
        unwrap(api.GET('/v1/audit-logs/{id}', { params: { path: { id } }, ...signal(o) })),
    },
    /** The caller: user, tenant, role and granted scopes. */
    me: (o: CallOptions = {}) => unwrap(api.GET('/v1/me', { ...signal(o) })),
    /** Service health (no token needed, but sent anyway). */
    health: (o: CallOptions = {}) => unwrap(api.GET('/health', { ...signal(o) })),
    /** The newest read-your-writes bookmark this client received (sent back on every request). */
    get bookmark(): string | null {
      return state.bookmark;
    },
  };
}

export type MemoriaClient = ReturnType<typeof createMemoriaClient>;
