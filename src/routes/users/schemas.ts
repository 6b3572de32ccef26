import { z } from '@hono/zod-openapi';
import { idempotencyKeyHeader } from '../../lib/idempotency';
import { demoId, idPattern } from '../../lib/ids';
import { PageQuerySchema, pageSchema } from '../../lib/pagination';
import { prefixedIdSchema, queryFlag, timestampSchema } from '../../lib/schemas';

const Role = z.enum(['owner', 'admin', 'member']).openapi({ description: 'Role in the tenant.', example: 'member' });
const Kind = z.enum(['person', 'service']).openapi({
  description:
    '`person`: an Auth0 user; `service`: an Auth0 machine-to-machine client (`sub` = `<client_id>@clients`).',
});
const Email = z.email().max(320).openapi({ example: 'ada@example.com' });
const Name = z.string().trim().min(1).max(200).nullable().openapi({ example: 'Ada Lovelace' });

export const UserSchema = z
  .object({
    id: prefixedIdSchema('usr_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3'),
    tenant_id: prefixedIdSchema('ten_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3'),
    auth0_id: z.string().max(255).openapi({
      description:
        'The Auth0 subject (`sub`) this user signs in as; `pending:<invitation id>` for a person imported before they joined, bound once they accept that invitation.',
      example: 'auth0|64f1c2d3e4f5a6b7c8d9e0f1',
    }),
    email: z.string().max(320).openapi({ example: 'ada@example.com' }),
    name: z.string().max(200).nullable().openapi({ example: 'Ada Lovelace' }),
    role: Role,
    kind: Kind,
    created_at: timestampSchema(),
    updated_at: timestampSchema(),
    deleted_at: timestampSchema()
      .nullable()
      .openapi({ description: 'Set once the user is removed; their tokens no longer work.', example: null }),
  })
  .openapi('User');

export const UserPageSchema = pageSchema(UserSchema, 'UserPage');

export const UserListQuerySchema = PageQuerySchema.extend({
  role: Role.optional(),
  kind: Kind.optional(),
  include_deleted: queryFlag('`true`: also list removed users.', true),
});

/** A machine-to-machine client's Auth0 `sub`. */
export const SERVICE_SUB = /^[A-Za-z0-9_-]{1,200}@clients$/;

export const CreateUserSchema = z
  .object({
    auth0_id: z.string().trim().min(1).max(255).openapi({
      description: 'The machine client: `<client_id>@clients`.',
      example: 'k3Jd8sLq0xYz@clients',
    }),
    email: Email,
    role: Role,
    kind: Kind.default('service').openapi({
      description:
        "Only `service` (an Auth0 machine-to-machine client of the tenant's own Auth0 configuration) is added directly; a person joins by invitation (`POST /v1/invitations`).",
    }),
    name: Name.optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.kind === 'person') {
      ctx.addIssue({
        code: 'custom',
        path: ['kind'],
        message: 'a person joins by invitation (POST /v1/invitations), accepted with their own token',
      });
    } else if (!SERVICE_SUB.test(v.auth0_id)) {
      ctx.addIssue({
        code: 'custom',
        path: ['auth0_id'],
        message:
          v.kind === 'service'
            ? 'a service user\'s auth0_id is "<client_id>@clients"'
            : 'an auth0_id ending in @clients is a machine client: use kind "service"',
      });
    }
  })
  .openapi('CreateUser', {
    example: {
      auth0_id: 'k3Jd8sLq0xYz@clients',
      email: 'ingest-bot@example.com',
      role: 'member',
      kind: 'service',
      name: 'Ingest bot',
    },
  });

export const UpdateUserSchema = z
  .object({ role: Role.optional(), email: Email.optional(), name: Name.optional() })
  .strict()
  .refine((v) => v.role !== undefined || v.email !== undefined || v.name !== undefined, {
    message: 'give at least one of role, email, name',
  })
  .openapi('UpdateUser', { example: { role: 'admin' } });

export const UserIdParams = z.object({
  id: z
    .string()
    .max(30)
    .regex(idPattern('usr'), 'not a user id')
    .openapi({
      param: { name: 'id', in: 'path' },
      description: 'The user id (`usr_…`).',
      example: demoId('usr'),
    }),
});

export const IfMatchHeaders = z.object({
  'If-Match': z.string().max(1024).optional().openapi({
    description: "The user's ETag, or `*`: the change only happens at that version, else 412 `precondition_failed`.",
    example: '"usr_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3-v1767607200000"',
  }),
});

export const CreateUserHeaders = z.object({ 'Idempotency-Key': idempotencyKeyHeader });
