import { z } from '@hono/zod-openapi';
import { PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX } from './limits';

/** `limit` and `cursor`, shared by every list endpoint. */
export const PageQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(PAGE_LIMIT_MAX)
    .default(PAGE_LIMIT_DEFAULT)
    .openapi({ description: `Page size, 1–${PAGE_LIMIT_MAX}.`, example: PAGE_LIMIT_DEFAULT }),
  cursor: z
    .string()
    .min(1)
    .max(2048)
    .optional()
    .openapi({ description: "Opaque cursor from a previous page's `next_cursor`." }),
});

/** `{ data: [...], next_cursor }` for a list of `item`, registered as component `name`. */
export function pageSchema<T extends z.ZodTypeAny>(item: T, name: string) {
  return z
    .object({
      data: z.array(item).max(PAGE_LIMIT_MAX),
      next_cursor: z.string().max(2048).nullable().openapi({
        description: 'Pass as `cursor` for the next page; null on the last page.',
        example: 'eyJrIjpbMTc2NzI2OTYwMDAwMCwibWVtXzAxIl19.c2ln',
      }),
    })
    .openapi(name);
}
