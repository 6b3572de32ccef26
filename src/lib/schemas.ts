import { z } from '@hono/zod-openapi';

// Small bounded building blocks for response schemas (the OWASP lint wants every string and
// integer bounded).

/** An RFC 3339 timestamp as the API shows it. */
export const timestampSchema = (example = '2026-01-05T10:00:00.000Z') => z.string().max(40).openapi({ format: 'date-time', example });

/** A non-negative counter. */
export const countSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** A prefixed id (`ten_…`, `usr_…`). */
export const prefixedIdSchema = (example: string) => z.string().max(30).openapi({ example });
