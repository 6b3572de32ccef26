// @memoria/client: a thin layer over openapi-fetch and the types generated from api/openapi.json.
// It adds what integrators otherwise write by hand: the bearer token, an Idempotency-Key on every
// POST, retries that are safe (transport.ts), typed problem errors and pagination.
import createClient, { type Client } from 'openapi-fetch';
import { MemoriaError } from './errors.js';
import { paginate, type Page, type Paginated } from './pagination.js';
import type { components, operations, paths } from './schema.js';
import { resilientFetch, type RetryOptions } from './transport.js';

export { MemoriaError, type FieldError, type Problem } from './errors.js';
export { paginate, type Page, type Paginated } from './pagination.js';
export { backoffMs, isRepeatable, retryAfterMs, type RetryOptions } from './transport.js';
export type { components, operations, paths };
export type Schemas = components['schemas'];

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
  [P in keyof paths]: paths[P] extends { get: { responses: { 200: { content: { 'application/json': { data: unknown[]; next_cursor: string | null } } } } } } ? P : never;
}[keyof paths];
type ListOperation<P extends ListPath> = paths[P]['get'];
/** The items a list path returns. */
export type ItemOf<P extends ListPath> = ListOperation<P>['responses'][200]['content']['application/json']['data'][number];
type ParametersOf<P extends ListPath> = ListOperation<P> extends { parameters: infer Params } ? Params : never;
/** A list's query parameters, without the cursor (the iterator handles it). */
export type ListQuery<P extends ListPath> = ParametersOf<P> extends { query?: infer Q } ? Omit<NonNullable<Q>, 'cursor'> : never;

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
      if (request.method === 'POST' && !request.headers.has('idempotency-key')) request.headers.set('idempotency-key', idempotencyKey());
      return request;
    },
  });

  const headers = (call: CallOptions = {}) => (call.idempotencyKey ? { 'idempotency-key': call.idempotencyKey } : undefined);

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
      const call = api.GET(path as never, { params: { query, path: init.params }, signal: init.signal } as never) as Promise<Result<Page<ItemOf<P>>>>;
      return unwrap(call);
    });
  }

  return {
    /** The typed openapi-fetch client for every operation (returns `{ data, error, response }`). */
    api,
    paginate: paginateList,
    /** The caller: user, tenant, role and granted scopes. */
    me: (call: CallOptions = {}) => unwrap(api.GET('/v1/me', { signal: call.signal })),
    /** Service health (no token needed, but sent anyway). */
    health: (call: CallOptions = {}) => unwrap(api.GET('/health', { signal: call.signal })),
  };
}

export type MemoriaClient = ReturnType<typeof createMemoriaClient>;
