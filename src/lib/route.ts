import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import { requireAuth } from '../auth/middleware';
import type { Scope } from '../auth/scopes';
import { rateLimit } from '../middleware/rate-limit';
import { RATE_LIMIT_WINDOW_SECONDS } from './limits';
import { problemResponses } from './problem';

const stringHeader = (description: string, example: string) => ({ description, schema: { type: 'string' as const, example } });

/** Headers every authenticated response carries (IETF draft-ietf-httpapi-ratelimit-headers). */
export const RATE_LIMIT_HEADERS = {
  'RateLimit-Policy': stringHeader(
    `The tenant's quota: q requests per w seconds (fixed window of ${RATE_LIMIT_WINDOW_SECONDS} s; q depends on the plan).`,
    `"tenant";q=120;w=${RATE_LIMIT_WINDOW_SECONDS}`,
  ),
  RateLimit: stringHeader('r requests left in the current window, which resets in t seconds.', '"tenant";r=117;t=42'),
};
const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' as const, minimum: 1, example: 30 } } };

type Responses = RouteConfig['responses'];

/** Adds the rate-limit headers to 2xx/4xx responses and Retry-After to 429/503. */
function withResponseHeaders(responses: Responses): Responses {
  const out: Responses = {};
  for (const [status, response] of Object.entries(responses)) {
    if (!('description' in response)) {
      out[status] = response;
      continue;
    }
    const headers = { ...(/^[24]/.test(status) ? RATE_LIMIT_HEADERS : {}), ...(status === '429' || status === '503' ? RETRY_AFTER : {}) };
    out[status] = { ...response, headers: { ...headers, ...((response as { headers?: object }).headers) } };
  }
  return out;
}

/**
 * Declares an authenticated route. The `scopes` list becomes both the OpenAPI `security`
 * requirement and the enforcing middleware: one declaration, visible in the spec.
 * Every authenticated route can also answer 401, 403, 429 and 503 with a problem, is rate
 * limited per tenant, and documents the rate-limit headers on its responses.
 */
export function securedRoute<const R extends Omit<RouteConfig, 'security' | 'middleware'>>(scopes: readonly Scope[], route: R) {
  return createRoute({
    ...route,
    security: [{ bearerAuth: [...scopes] }],
    middleware: [requireAuth(scopes), rateLimit] as const,
    responses: withResponseHeaders({ ...problemResponses(401, 403, 429, 503), ...route.responses }) as typeof route.responses &
      ReturnType<typeof problemResponses>,
  });
}
