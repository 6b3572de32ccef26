import { createRoute, z, type RouteConfig } from '@hono/zod-openapi';
import { requireAuth } from '../auth/middleware';
import type { Scope } from '../auth/scopes';
import { rateLimit } from '../middleware/rate-limit';
import { problemResponses } from './problem';

const headerValue = (max: number) => z.string().max(max).regex(/^[\x20-\x7e]+$/);

/** Headers on every response: the request id and, for allowlisted browser origins, CORS. */
export const PublicResponseHeaders = z.object({
  'X-Request-Id': headerValue(128).openapi({
    description: 'The request id (echoed when the request sent a valid one); quote it when reporting a problem.',
    example: 'req_01J9Z3Q4W5E6R7T8Y9V0A1B2C3',
  }),
  'Access-Control-Allow-Origin': headerValue(2048)
    .optional()
    .openapi({ description: 'Only for browser requests from an allowlisted origin (CORS is off by default).', example: 'https://app.example.com' }),
});

/** Headers on every authenticated response: the above plus the tenant's rate limit (IETF draft). */
export const CommonResponseHeaders = PublicResponseHeaders.extend({
  RateLimit: headerValue(200)
    .optional()
    .openapi({ description: 'Remaining quota and seconds until it resets (IETF draft RateLimit header).', example: '"default";r=59;t=42' }),
  'RateLimit-Policy': headerValue(200)
    .optional()
    .openapi({ description: 'The tenant plan\'s request quota per window (IETF draft RateLimit-Policy header).', example: '"default";q=60;w=60' }),
});

type Responses = RouteConfig['responses'];

/** Adds `common` headers to every response (route-specific headers stay). */
export function withCommonHeaders<T extends Responses>(responses: T, common: z.ZodObject = CommonResponseHeaders): T {
  const out: Responses = {};
  for (const [status, response] of Object.entries(responses)) {
    if ('$ref' in response) {
      out[status] = response;
      continue;
    }
    const own = response.headers;
    if (own !== undefined && !(own instanceof z.ZodObject)) {
      throw new Error(`response ${status}: declare response headers with z.object({...}) so the common headers can be merged`);
    }
    out[status] = { ...response, headers: own ? common.extend(own.shape) : common };
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
export function securedRoute<const R extends Omit<RouteConfig, 'security' | 'middleware'>>(scopes: readonly Scope[], route: R) {
  const request = route.request;
  const hasParams = Boolean(request?.params || request?.query || request?.headers);
  const hasBody = Boolean(request?.body);
  return createRoute({
    ...route,
    security: [{ bearerAuth: [...scopes] }],
    middleware: [requireAuth(scopes), rateLimit] as const, // rateLimit: per tenant, middleware/rate-limit.ts
    responses: withCommonHeaders({
      ...problemResponses(401, 403, 429, 500, 503),
      ...(hasParams ? problemResponses(400) : {}),
      ...(hasBody ? problemResponses(400, 413, 415, 422) : {}),
      ...route.responses,
    }),
  });
}
