import { OpenAPIHono, z } from '@hono/zod-openapi';
import { requestMeta } from '../../auth/caller';
import type { CallerRow } from '../../db/caller';
import { provisionTenant } from '../../db/provision';
import type { AppEnv } from '../../env';
import { ApiError, invalidRequest } from '../../lib/problem';
import { problemResponses, securedRoute } from '../../lib/route';
import { MeSchema, toMe } from '../me/schema';

export const provisioning = new OpenAPIHono<AppEnv>();

const EmailSchema = z.email().max(320);

const ProvisionTenantSchema = z
  .object({
    name: z.string().trim().min(1).max(200).openapi({ description: "The new tenant's display name.", example: 'Acme' }),
    email: EmailSchema.optional().openapi({
      description:
        "The owner's email. Used only when the access token carries no `email` claim (machine clients, or Auth0 without an email Action); required then.",
      example: 'ada@example.com',
    }),
  })
  .strict()
  .openapi('ProvisionTenant', { example: { name: 'Acme', email: 'ada@example.com' } });

provisioning.openapi(
  securedRoute([], {
    method: 'post',
    path: '/v1/tenants',
    operationId: 'createTenant',
    tags: ['Tenants'],
    summary: 'Provision a tenant for the caller',
    description:
      "Creates a tenant on the `free` plan and makes the caller (the token's `sub`) its `owner`. Needs a valid access token " +
      'for this API and no particular scope: a new sign-up has no permissions assigned yet. A token whose subject ' +
      'already has a user gets 409 `already_provisioned` (also what a retry after a lost response sees: `GET /v1/me` then shows the tenant). Machine-to-machine clients (`<client_id>@clients`) become `service` users. ' +
      'Returns the caller as `GET /v1/me` would.',
    request: { body: { required: true, content: { 'application/json': { schema: ProvisionTenantSchema } } } },
    responses: {
      201: {
        description: 'The tenant was created; the caller is its owner',
        headers: {
          Location: {
            description: "The tenant's URL.",
            schema: { type: 'string', maxLength: 100 },
            example: '/v1/tenant',
          },
        },
        content: { 'application/json': { schema: MeSchema } },
      },
      ...problemResponses('already_provisioned'),
    },
  }),
  async (c) => {
    const body = c.req.valid('json');
    const { sub, claims, scopes } = c.get('auth');
    const claimed = EmailSchema.safeParse(claims.email);
    const email = claimed.success ? claimed.data : body.email;
    if (!email) {
      throw invalidRequest([{ path: 'json.email', message: 'Required when the access token has no email claim' }]);
    }
    const kind = sub.endsWith('@clients') ? 'service' : 'person';
    const outcome = await provisionTenant(
      c.get('databases'),
      { name: body.name, owner: { auth0Id: sub, email, kind } },
      requestMeta(c),
    );
    if (outcome.kind === 'held') {
      // One live user per identity, across every shard (the directory holds it).
      throw new ApiError(
        'already_provisioned',
        'This identity already has a user in a tenant, so it cannot provision another: GET /v1/me shows it, or, if that tenant was deleted, its owner can restore it (POST /v1/tenant/restore) until it is purged.',
      );
    }
    const created = outcome;
    const { tenant, user } = created;
    const caller: CallerRow = {
      ...user,
      user_id: user.id,
      tenant_name: tenant.name,
      tenant_plan: tenant.plan,
      tenant_memory_count: tenant.memory_count,
      tenant_created_at: tenant.created_at,
      tenant_updated_at: tenant.updated_at,
      tenant_embedding_dimensions: null,
      tenant_embedding_model: null,
      tenant_vector_count: 0,
      tenant_webhooks: 0,
    };
    return c.json(toMe(caller, scopes), 201, { Location: '/v1/tenant' });
  },
);
