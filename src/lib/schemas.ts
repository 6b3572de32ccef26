import { z } from '@hono/zod-openapi';
import { METADATA_MAX_DEPTH } from './limits';

// Small bounded building blocks for schemas (the OWASP lint wants every string and integer
// bounded), and the one rule for free-form metadata.

/** An RFC 3339 timestamp as the API shows it. */
export const timestampSchema = (example = '2026-01-05T10:00:00.000Z') =>
  z.string().max(40).openapi({ format: 'date-time', example });

/** A non-negative counter. */
export const countSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** A prefixed id (`ten_…`, `usr_…`). */
export const prefixedIdSchema = (example: string) => z.string().max(30).openapi({ example });

/**
 * Whether a parsed JSON value nests more than `max` levels of arrays/objects (`{}` is 1 level).
 * Stops descending past `max`, so however deep the value is, this never overflows the stack.
 */
export function nestsDeeperThan(value: unknown, max: number, depth = 0): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (depth + 1 > max) return true;
  for (const v of Object.values(value)) if (nestsDeeperThan(v, max, depth + 1)) return true;
  return false;
}

/**
 * Free-form metadata (memories, sessions, and their import lines): a JSON object at most
 * METADATA_MAX_DEPTH levels deep (checked first, so nothing else walks a deeper value) and at most
 * `maxBytes` bytes as JSON.
 */
export const metadataSchema = (maxBytes: number) =>
  z
    .record(z.string(), z.unknown())
    .refine((m) => !nestsDeeperThan(m, METADATA_MAX_DEPTH), {
      message: `must not nest deeper than ${METADATA_MAX_DEPTH} levels`,
      abort: true,
    })
    .refine(
      (m) => new TextEncoder().encode(JSON.stringify(m)).length <= maxBytes,
      `must be at most ${maxBytes} bytes as JSON`,
    );

/**
 * A boolean query flag, published as `type: boolean`: sent as the literal `true` or `false`
 * (form style, `?flag=true`); any other value is a 400 `invalid_parameter`.
 */
export const queryFlag = (description: string, example: boolean) =>
  z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true')
    .openapi({
      type: 'boolean',
      default: false,
      example,
      description: `${description} Sent as the literal \`true\` or \`false\` (\`?flag=true\`); default \`false\`.`,
    });
