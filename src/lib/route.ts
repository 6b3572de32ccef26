import { createRoute, type RouteConfig, z } from '@hono/zod-openapi';
import { requireAuth } from '../auth/middleware';
import type { Scope } from '../auth/scopes';
import { rateLimit, rateLimitAnonymous } from '../middleware/rate-limit';
import { MAX_BODY_BYTES } from './limits';
import { ERRORS, PROBLEM_CODES, type ProblemCode } from './problem';

const PRINTABLE = '^[\\x20-\\x7e]+$';

const header = (description: string, example: string, maxLength: number, required = false, pattern = PRINTABLE) => ({
  description,
  required,
  schema: { type: 'string' as const, maxLength, pattern },
  example,
});

/**
 * Every response header the API declares, once, under `components.headers` (by its own name, but
 * for the two forms of the Bearer challenge); responses reference them (a spec with each header
 * inlined in every response was most of its size).
 */
export const HEADERS = {
  'X-Request-Id': header(
    'The request id (echoed when the request sent a valid one); quote it when reporting a problem.',
    'req_01J9Z3Q4W5E6R7T8Y9V0A1B2C3',
    128,
    true,
  ),
  'Memoria-Bookmark': header(
    'The D1 bookmark of the state this response saw. Send it back as a `Memoria-Bookmark` request header to read your own writes (the client package does); absent when the request read nothing.',
    '0000007b-0000b26e-00001538-0c3e87bb37b3db5cc52eedb93cd3b96b',
    128,
  ),
  'Access-Control-Allow-Origin': header(
    'Only for browser requests from an allowlisted origin (CORS is off by default).',
    'https://app.example.com',
    2048,
  ),
  RateLimit: header(
    'Remaining quota and seconds until it resets (IETF draft RateLimit header).',
    '"default";r=59;t=42',
    200,
  ),
  'RateLimit-Policy': header(
    "The tenant plan's request quota per window (IETF draft RateLimit-Policy header).",
    '"default";q=60;w=60',
    200,
  ),
  'Retry-After': header('Seconds to wait before retrying.', '30', 10, true, '^\\d+$'),
  BearerChallenge: header(
    'The Bearer challenge (RFC 6750): `error` says why.',
    'Bearer realm="memoria", error="invalid_token"',
    300,
    true,
  ),
  ScopeChallenge: header(
    'The Bearer challenge (RFC 6750) when a scope is missing: `scope` lists the scopes the operation needs.',
    'Bearer realm="memoria", error="insufficient_scope", scope="write:memories"',
    300,
  ),
  'Idempotent-Replayed': header(
    '`true` when this is the stored response of an earlier request with the same Idempotency-Key (absent otherwise).',
    'true',
    4,
  ),
  ETag: header(
    'The strong ETag of this version of the resource (`"<id>-v<version>"`): send it in `If-Match` to change only this version (and, where an operation takes `If-None-Match`, there for a 304 while it is unchanged).',
    '"mem_01J9Z3Q4W5E6R7T8Y9V0A1B2C3-v1"',
    100,
    true,
  ),
} as const;

type HeaderName = keyof typeof HEADERS;
type HeaderRef = { $ref: string };
type Headers = Record<string, HeaderRef | Record<string, unknown>>;
export const headerRef = (name: HeaderName): HeaderRef => ({ $ref: `#/components/headers/${name}` });

/** Headers on every response: the request id and, for allowlisted browser origins, CORS. */
const PUBLIC_HEADERS: Headers = {
  'X-Request-Id': headerRef('X-Request-Id'),
  'Memoria-Bookmark': headerRef('Memoria-Bookmark'),
  'Access-Control-Allow-Origin': headerRef('Access-Control-Allow-Origin'),
};
/** Headers on every authenticated response: the above plus the tenant's rate limit (IETF draft). */
const COMMON_HEADERS: Headers = {
  ...PUBLIC_HEADERS,
  RateLimit: headerRef('RateLimit'),
  'RateLimit-Policy': headerRef('RateLimit-Policy'),
};

export { PUBLIC_HEADERS as PublicResponseHeaders };

/** `ETag` on a response, from the one ETag header declaration. */
export const ETAG_HEADERS: Headers = { ETag: headerRef('ETag') };

type Responses = RouteConfig['responses'];

/** Adds `common` headers to every inline response (a route's own headers stay and win). */
export function withCommonHeaders<T extends Responses>(responses: T, common: Headers = COMMON_HEADERS): T {
  const out: Responses = {};
  for (const [status, response] of Object.entries(responses)) {
    if ('$ref' in response) {
      out[status] = response;
      continue;
    }
    if (response.headers instanceof z.ZodType)
      throw new Error(`declare the ${status} response's headers as header objects (headerRef), not zod`);
    out[status] = { ...response, headers: { ...common, ...response.headers } } as (typeof out)[string];
  }
  return out as T;
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed request: invalid JSON, query or path parameter.',
  401: 'Missing or invalid access token.',
  403: 'The token lacks a required scope, or the caller lacks the role.',
  404: "No such resource in the caller's tenant.",
  409: 'Conflicts with the current state.',
  410: 'No longer available.',
  412: 'If-Match did not match the current ETag.',
  413: `Request body larger than ${MAX_BODY_BYTES} bytes.`,
  415: 'Request body must be application/json (application/x-ndjson for POST /v1/import).',
  422: 'The body failed validation.',
  429: 'Rate limit exceeded; retry after the Retry-After delay.',
  500: 'Unexpected server error; quote the request id when reporting it.',
  503: 'Temporarily unavailable; retry after the Retry-After delay.',
};

/** Headers a problem of that status carries: when to come back (429, 503), the Bearer challenge (401; 403 for a missing scope). */
const PROBLEM_HEADERS: Record<number, Headers> = {
  401: { 'WWW-Authenticate': headerRef('BearerChallenge') },
  403: { 'WWW-Authenticate': headerRef('ScopeChallenge') },
  429: { 'Retry-After': headerRef('Retry-After') },
  503: { 'Retry-After': headerRef('Retry-After') },
};

/** The codes a problem response documents, kept beside it so securedRoute can merge them. */
const CODES = Symbol('problem codes');
interface ProblemResponse {
  description: string;
  headers?: Headers;
  content: { 'application/problem+json': { schema: Record<string, unknown> } };
  [CODES]: ProblemCode[];
}

function problemResponse(status: number, codes: ProblemCode[]): ProblemResponse {
  return {
    description: `${DESCRIPTIONS[status] ?? ERRORS[codes[0]!].title} Codes: ${codes.map((c) => `\`${c}\``).join(', ')}.`,
    ...(PROBLEM_HEADERS[status] ? { headers: PROBLEM_HEADERS[status] } : {}),
    content: {
      'application/problem+json': {
        schema: {
          allOf: [
            { $ref: '#/components/schemas/Problem' },
            { type: 'object', properties: { code: { type: 'string', enum: codes } } },
          ],
        },
      },
    },
    [CODES]: codes,
  };
}

/**
 * OpenAPI `responses` entries for the error codes an operation can answer: one response per
 * status (from the ERRORS table), listing its codes; 429 and 503 declare `Retry-After`, 401
 * and 403 `WWW-Authenticate`.
 */
export function problemResponses(...codes: ProblemCode[]): Record<number, ProblemResponse> {
  const byStatus = new Map<number, ProblemCode[]>();
  for (const code of codes) {
    const status = ERRORS[code].status;
    const list = byStatus.get(status) ?? [];
    if (!list.includes(code)) list.push(code);
    byStatus.set(status, list);
  }
  // In table order, so the same codes always make the same response (and component name).
  const order = (code: ProblemCode) => PROBLEM_CODES.indexOf(code);
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      status,
      problemResponse(
        status,
        list.sort((a, b) => order(a) - order(b)),
      ),
    ]),
  );
}

/** Problem responses shared by authenticated operations, published once under `components.responses`. */
const SHARED_RESPONSES = new Map<string, Omit<ProblemResponse, typeof CODES>>();

/** `not_found` → `NotFound`; several codes join with `Or`. */
const componentName = (codes: ProblemCode[]) =>
  codes.map((code) => code.replace(/(^|_)([a-z0-9])/g, (_, __, ch: string) => ch.toUpperCase())).join('Or');

/** The shared response for these codes, as a `$ref` (registered on first use). */
function sharedProblem(response: ProblemResponse): { $ref: string } {
  const name = componentName(response[CODES]);
  const { [CODES]: _codes, ...plain } = response;
  const headers = { ...COMMON_HEADERS, ...plain.headers };
  SHARED_RESPONSES.set(name, { ...plain, headers });
  return { $ref: `#/components/responses/${name}` };
}

/** The `components` the routes reference: headers and the shared problem responses (sorted, so the spec is stable). */
export function sharedComponents() {
  return {
    headers: HEADERS,
    responses: Object.fromEntries([...SHARED_RESPONSES].sort(([a], [b]) => a.localeCompare(b))),
  };
}

const isProblem = (response: unknown): response is ProblemResponse =>
  typeof response === 'object' && response !== null && CODES in response;

/**
 * Declares an authenticated route. The `scopes` list becomes both the OpenAPI `security`
 * requirement and the enforcing middleware: one declaration, visible in the spec.
 * Errors every authenticated route can give are added here, in one place: 401, 403, 429, 500
 * and 503; 400 when it takes parameters (invalid_parameter); 400/413/415/422 when it takes a body
 * (malformed JSON, size, media type, validation_failed — enforced app-wide in app.ts); the cursor
 * codes when it takes a `cursor`; idempotency_key_reused when it takes an Idempotency-Key. A
 * route's own problem responses add their codes to these.
 */
export function securedRoute<const R extends Omit<RouteConfig, 'security' | 'middleware'>>(
  scopes: readonly Scope[],
  route: R,
) {
  const request = route.request;
  const hasParams = Boolean(request?.params || request?.query || request?.headers);
  const hasBody = Boolean(request?.body);
  const query = request?.query;
  const paginated = query instanceof z.ZodObject && 'cursor' in query.shape;
  // The body rules in app.ts apply to every request, not only to routes that take a body: a body
  // over the limit is a 413 on any method, a non-JSON one a 415 on any POST/PUT/PATCH.
  const canSendBody = route.method !== 'get';
  const mediaTypeChecked = ['post', 'put', 'patch'].includes(route.method);
  const idempotent = request?.headers instanceof z.ZodObject && 'Idempotency-Key' in request.headers.shape;
  const common: ProblemCode[] = [
    'invalid_token',
    'not_provisioned',
    'insufficient_scope',
    'rate_limited',
    'internal_error',
    'auth_unavailable',
    'auth_not_configured',
    'database_unavailable',
    ...(hasParams ? (['invalid_parameter'] as const) : []),
    ...(paginated ? (['invalid_cursor', 'cursor_not_configured'] as const) : []),
    ...(canSendBody ? (['payload_too_large'] as const) : []),
    ...(mediaTypeChecked ? (['unsupported_media_type'] as const) : []),
    ...(hasBody ? (['malformed_json', 'validation_failed'] as const) : []),
    ...(idempotent ? (['idempotency_key_reused'] as const) : []),
  ];
  const own = Object.values(route.responses).flatMap((r) => (isProblem(r) ? r[CODES] : []));
  const problems = Object.fromEntries(
    Object.entries(problemResponses(...common, ...own)).map(([status, r]) => [status, sharedProblem(r)]),
  );
  const successes = Object.fromEntries(Object.entries(route.responses).filter(([, r]) => !isProblem(r)));
  const responses = { ...withCommonHeaders(successes as Responses), ...problems } as R['responses'];
  return createRoute({
    ...route,
    security: [{ bearerAuth: [...scopes] }],
    // per client IP without a valid token, per tenant with one: middleware/rate-limit.ts
    middleware: [rateLimitAnonymous, requireAuth(scopes), rateLimit] as const,
    responses: idempotent ? withReplayHeader(responses) : responses,
  });
}

/** `Idempotent-Replayed: true` on the success of a route that takes Idempotency-Key, when it is a replay. */
function withReplayHeader<T extends Responses>(responses: T): T {
  const success = Object.fromEntries(Object.entries(responses).filter(([status]) => /^2/.test(status)));
  return {
    ...responses,
    ...withCommonHeaders(success as Responses, { 'Idempotent-Replayed': headerRef('Idempotent-Replayed') }),
  } as T;
}

/** A JSON response entry for a route's `responses`. */
export function jsonResponse<S>(schema: S, description: string, headers?: Headers) {
  return { description, ...(headers ? { headers } : {}), content: { 'application/json': { schema } } };
}
