import { createRoute, type RouteConfig, z } from '@hono/zod-openapi';
import { requireAuth } from '../auth/middleware';
import type { Scope } from '../auth/scopes';
import { rateLimit } from '../middleware/rate-limit';
import { problemResponses } from './problem';

interface HeaderSpec {
  description: string;
  example: string;
  maxLength: number;
  required?: boolean;
}

/** Headers on every response: the request id and, for allowlisted browser origins, CORS. */
const PUBLIC_HEADERS: Record<string, HeaderSpec> = {
  'X-Request-Id': {
    description: 'The request id (echoed when the request sent a valid one); quote it when reporting a problem.',
    example: 'req_01J9Z3Q4W5E6R7T8Y9V0A1B2C3',
    maxLength: 128,
    required: true,
  },
  'Access-Control-Allow-Origin': {
    description: 'Only for browser requests from an allowlisted origin (CORS is off by default).',
    example: 'https://app.example.com',
    maxLength: 2048,
  },
};

/** Headers on every authenticated response: the above plus the tenant's rate limit (IETF draft). */
const COMMON_HEADERS: Record<string, HeaderSpec> = {
  ...PUBLIC_HEADERS,
  RateLimit: {
    description: 'Remaining quota and seconds until it resets (IETF draft RateLimit header).',
    example: '"default";r=59;t=42',
    maxLength: 200,
  },
  'RateLimit-Policy': {
    description: "The tenant plan's request quota per window (IETF draft RateLimit-Policy header).",
    example: '"default";q=60;w=60',
    maxLength: 200,
  },
};

export { COMMON_HEADERS as CommonResponseHeaders, PUBLIC_HEADERS as PublicResponseHeaders };

const PRINTABLE = '^[\\x20-\\x7e]+$';

/** The same headers as plain OpenAPI header objects or as zod fields (routes declare either). */
const plainHeaders = (specs: Record<string, HeaderSpec>) =>
  Object.fromEntries(
    Object.entries(specs).map(([name, h]) => [
      name,
      {
        description: h.description,
        required: h.required ?? false,
        schema: { type: 'string' as const, maxLength: h.maxLength, pattern: PRINTABLE },
        example: h.example,
      },
    ]),
  );
const zodHeaders = (specs: Record<string, HeaderSpec>) =>
  Object.fromEntries(
    Object.entries(specs).map(([name, h]) => {
      const field = z
        .string()
        .max(h.maxLength)
        .regex(new RegExp(PRINTABLE))
        .openapi({ description: h.description, example: h.example });
      return [name, h.required ? field : field.optional()];
    }),
  );

type Responses = RouteConfig['responses'];

/** Adds `common` headers to every response (a route's own headers stay and win). */
export function withCommonHeaders<T extends Responses>(
  responses: T,
  common: Record<string, HeaderSpec> = COMMON_HEADERS,
): T {
  const out: Responses = {};
  for (const [status, response] of Object.entries(responses)) {
    if ('$ref' in response) {
      out[status] = response;
      continue;
    }
    const own = response.headers;
    const headers =
      own instanceof z.ZodObject
        ? z.object(zodHeaders(common)).extend(own.shape)
        : { ...plainHeaders(common), ...(own as Record<string, unknown> | undefined) };
    out[status] = { ...response, headers } as (typeof out)[string];
  }
  return out as T;
}

/**
 * Declares an authenticated route. The `scopes` list becomes both the OpenAPI `security`
 * requirement and the enforcing middleware: one declaration, visible in the spec.
 * Responses every authenticated route can give are added here, in one place: 401, 403, 429,
 * 500 and 503; 400 when it takes parameters (invalid_parameter); 400/413/415/422 when it takes
 * a body (malformed JSON, size, media type, validation_failed — enforced app-wide in app.ts).
 */
export function securedRoute<const R extends Omit<RouteConfig, 'security' | 'middleware'>>(
  scopes: readonly Scope[],
  route: R,
) {
  const request = route.request;
  const hasParams = Boolean(request?.params || request?.query || request?.headers);
  const hasBody = Boolean(request?.body);
  // The body rules in app.ts apply to every request, not only to routes that take a body: a body
  // over the limit is a 413 on any method, a non-JSON one a 415 on any POST/PUT/PATCH.
  const canSendBody = route.method !== 'get';
  const mediaTypeChecked = ['post', 'put', 'patch'].includes(route.method);
  const idempotent = request?.headers instanceof z.ZodObject && 'Idempotency-Key' in request.headers.shape;
  const responses = withCommonHeaders({
    ...problemResponses(401, 403, 429, 500, 503),
    ...(hasParams ? problemResponses(400) : {}),
    ...(canSendBody ? problemResponses(413) : {}),
    ...(mediaTypeChecked ? problemResponses(415) : {}),
    ...(hasBody ? problemResponses(400, 422) : {}),
    ...route.responses,
  });
  return createRoute({
    ...route,
    security: [{ bearerAuth: [...scopes] }],
    middleware: [requireAuth(scopes), rateLimit] as const, // rateLimit: per tenant, middleware/rate-limit.ts
    responses: idempotent ? withReplayHeader(responses) : responses,
  });
}

/** `Idempotent-Replayed: true` on the success of a route that takes Idempotency-Key, when it is a replay. */
const REPLAYED: Record<string, HeaderSpec> = {
  'Idempotent-Replayed': {
    description:
      '`true` when this is the stored response of an earlier request with the same Idempotency-Key (absent otherwise).',
    example: 'true',
    maxLength: 4,
  },
};
function withReplayHeader<T extends Responses>(responses: T): T {
  const success = Object.fromEntries(Object.entries(responses).filter(([status]) => /^2/.test(status)));
  return { ...responses, ...withCommonHeaders(success as Responses, REPLAYED) } as T;
}

/** A JSON response entry for a route's `responses`. */
export function jsonResponse<S, H>(schema: S, description: string, headers?: H) {
  return { description, ...(headers ? { headers } : {}), content: { 'application/json': { schema } } };
}
