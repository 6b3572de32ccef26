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

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why the database could not store `text` exactly as sent (NUL ends SQLite text; a lone surrogate is not UTF-8), or null. */
export function unstorableText(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain NUL characters';
  if (LONE_SURROGATE.test(text)) return 'must be valid Unicode (no lone surrogates)';
  return null;
}

/**
 * Every place in a parsed JSON value that would not be stored exactly as sent: a NUL or a lone
 * surrogate in a string or key, and a `__proto__` key (a JavaScript object cannot hold it as data,
 * so schemas would silently drop it). The one rule for every body, and for import lines.
 */
export function unstorableJson(value: unknown, path: string, max = 20): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  // An explicit stack, and paths spelt out only when reported: a body may nest far deeper than
  // the call stack allows, and a path string per level would grow with the square of the depth.
  type Place = { key: string; parent: Place | null };
  const pathOf = (p: Place | null): string => {
    const keys: string[] = [];
    for (let at = p; at; at = at.parent) keys.push(at.key);
    return [path, ...keys.reverse()].join('.');
  };
  const stack: [unknown, Place | null][] = [[value, null]];
  while (stack.length > 0 && out.length < max) {
    const [v, place] = stack.pop()!;
    if (typeof v === 'string') {
      const bad = unstorableText(v);
      if (bad) out.push({ path: pathOf(place), message: bad });
    } else if (v && typeof v === 'object') {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        const here = { key, parent: place };
        if (key === '__proto__') out.push({ path: pathOf(here), message: 'the key __proto__ is not accepted' });
        else {
          const bad = unstorableText(key);
          if (bad) out.push({ path: pathOf(here), message: `key ${bad}` });
        }
        stack.push([child, here]);
      }
    }
  }
  return out.slice(0, max);
}
