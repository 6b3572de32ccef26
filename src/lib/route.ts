import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import { requireAuth } from '../auth/middleware';
import type { Scope } from '../auth/scopes';
import { rateLimit } from '../middleware/rate-limit';
import { problemResponses } from './problem';

/**
 * Declares an authenticated route. The `scopes` list becomes both the OpenAPI `security`
 * requirement and the enforcing middleware: one declaration, visible in the spec.
 * Every authenticated route can also answer 401, 403, 429 and 503 with a problem.
 */
export function securedRoute<const R extends Omit<RouteConfig, 'security' | 'middleware'>>(scopes: readonly Scope[], route: R) {
  return createRoute({
    ...route,
    security: [{ bearerAuth: [...scopes] }],
    middleware: [requireAuth(scopes), rateLimit] as const, // rateLimit: per tenant, middleware/rate-limit.ts
    responses: { ...problemResponses(401, 403, 429, 503), ...route.responses },
  });
}
