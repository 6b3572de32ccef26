import { z } from '@hono/zod-openapi';
import { ALL_SCOPES, type Scope } from '../../auth/scopes';
import type { CallerRow } from '../../db/caller';
import { idPattern } from '../../lib/ids';
import { toIso } from '../../lib/time';

/** The caller as GET /v1/me (and POST /v1/tenants, right after provisioning) shows it. */
export const MeSchema = z
  .object({
    user: z.object({
      id: z.string().max(30).regex(idPattern('usr')).openapi({ example: 'usr_01J9Z3Q4W5E6R7T8Y9V0A1B2C3' }),
      email: z.string().max(320).openapi({ format: 'email', example: 'ada@example.com' }),
      name: z.string().max(200).nullable().openapi({ example: 'Ada Lovelace' }),
      role: z.enum(['owner', 'admin', 'member']),
      kind: z
        .enum(['person', 'service'])
        .openapi({ description: '`service` for machine-to-machine clients (`sub` = `<client_id>@clients`).' }),
      created_at: z.string().max(40).openapi({ format: 'date-time', example: '2026-11-28T04:20:00.000Z' }),
    }),
    tenant: z.object({
      id: z.string().max(30).regex(idPattern('ten')).openapi({ example: 'ten_01J9Z3Q4W5E6R7T8Y9V0A1B2C3' }),
      name: z.string().max(200).openapi({ example: 'Acme' }),
      plan: z.enum(['free', 'pro', 'team']),
      memory_count: z
        .number()
        .int()
        .min(0)
        .max(2 ** 31 - 1)
        .openapi({ example: 0 }),
    }),
    scopes: z
      .array(z.enum(ALL_SCOPES as [Scope, ...Scope[]]))
      .max(ALL_SCOPES.length)
      .openapi({
        description: 'The API scopes the access token grants (from `permissions` or `scope`), in a stable order.',
        example: ['read:memories', 'write:memories'],
      }),
  })
  .openapi('Me');

export function toMe(caller: CallerRow, granted: Set<string>): z.infer<typeof MeSchema> {
  return {
    user: {
      id: caller.user_id,
      email: caller.email,
      name: caller.name,
      role: caller.role,
      kind: caller.kind,
      created_at: toIso(caller.created_at),
    },
    tenant: {
      id: caller.tenant_id,
      name: caller.tenant_name,
      plan: caller.tenant_plan,
      memory_count: caller.tenant_memory_count,
    },
    scopes: ALL_SCOPES.filter((s) => granted.has(s)),
  };
}
