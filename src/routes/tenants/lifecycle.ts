import { OpenAPIHono, z } from '@hono/zod-openapi';
import { requestMeta, requireRole, runAsCaller } from '../../auth/caller';
import { notProvisioned } from '../../auth/middleware';
import {
  deleteTenantStatements,
  type RestoreProbe,
  restoreTenantStatements,
  type TenantRow,
  toTenant,
  updateTenantStatements,
} from '../../db/tenants';
import type { AppEnv } from '../../env';
import { EMBEDDING_DIMENSIONS_MIN, MEMORY_EMBEDDING_MAX_DIMENSIONS, TENANT_RETENTION_MS } from '../../lib/limits';
import { ApiError, type FieldError, invalidRequest } from '../../lib/problem';
import { jsonResponse, problemResponses, securedRoute } from '../../lib/route';
import { countSchema, prefixedIdSchema, timestampSchema } from '../../lib/schemas';
import { toIso } from '../../lib/time';
import { VECTORIZE_LIMITS } from '../../vectors/vectorize';
import { isWorkersAiModel } from '../memories/embed';

// The caller's own tenant: read, rename, delete (soft, restorable for TENANT_RETENTION_MS), restore.

export const lifecycle = new OpenAPIHono<AppEnv>();

const RETENTION_DAYS = TENANT_RETENTION_MS / (24 * 3600 * 1000);

const EmbeddingConfigSchema = z
  .object({
    dimensions: z
      .number()
      .int()
      .min(EMBEDDING_DIMENSIONS_MIN)
      .max(MEMORY_EMBEDDING_MAX_DIMENSIONS)
      .nullable()
      .openapi({
        description: `Length of every memory \`embedding\` (${EMBEDDING_DIMENSIONS_MIN}–${MEMORY_EMBEDDING_MAX_DIMENSIONS}); null: the tenant stores no vectors.`,
        example: 384,
      }),
    model: z.string().trim().min(1).max(200).nullable().openapi({
      description:
        'The model that made the vectors (informational), or a Workers AI embedding model (`@cf/…`) the server embeds with when it has the AI binding.',
      example: 'text-embedding-3-small',
    }),
  })
  .openapi('EmbeddingConfig', {
    description:
      'Vectors for semantic search. `dimensions` can only change while no memory stores a vector (409 `embedding_dimensions_locked` otherwise).',
  });

export const TenantSchema = z
  .object({
    id: prefixedIdSchema('ten_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3'),
    name: z.string().max(200).openapi({ example: 'Acme' }),
    plan: z.enum(['free', 'pro', 'team']),
    memory_count: countSchema.openapi({ description: 'Live (not deleted) memories.', example: 42 }),
    embedding: EmbeddingConfigSchema,
    created_at: timestampSchema(),
    updated_at: timestampSchema(),
  })
  .openapi('Tenant');

const DeletedTenantSchema = z
  .object({
    id: prefixedIdSchema('ten_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3'),
    deleted_at: timestampSchema(),
    restorable_until: timestampSchema('2026-02-04T10:00:00.000Z').openapi({
      description:
        'Until then an owner can restore the tenant (POST /v1/tenant/restore); after it the tenant and all its data are purged.',
    }),
  })
  .openapi('DeletedTenant');

const UpdateTenantSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional().openapi({ example: 'Acme Inc.' }),
    embedding: EmbeddingConfigSchema.optional(),
  })
  .strict()
  .refine((p) => p.name !== undefined || p.embedding !== undefined, 'must change name or embedding')
  .openapi('UpdateTenant', { example: { name: 'Acme Inc.' } });

const getTenant = securedRoute([], {
  method: 'get',
  path: '/v1/tenant',
  operationId: 'getTenant',
  tags: ['Tenants'],
  summary: "The caller's tenant",
  description:
    'Any user of the tenant may read it, with any valid token (no scope needed, like GET /v1/me, which shows the same tenant).',
  responses: { 200: jsonResponse(TenantSchema, 'The tenant') },
});

lifecycle.openapi(getTenant, async (c) => {
  const { caller } = await runAsCaller(c, []);
  return c.json(
    toTenant({
      id: caller.tenant_id,
      name: caller.tenant_name,
      plan: caller.tenant_plan,
      memory_count: caller.tenant_memory_count,
      embedding_dimensions: caller.tenant_embedding_dimensions,
      embedding_model: caller.tenant_embedding_model,
      created_at: caller.tenant_created_at,
      updated_at: caller.tenant_updated_at,
      deleted_at: null,
    }),
    200,
  );
});

const updateTenant = securedRoute(['manage:tenant'], {
  method: 'patch',
  path: '/v1/tenant',
  operationId: 'updateTenant',
  tags: ['Tenants'],
  summary: 'Rename the tenant or set its embedding configuration',
  description:
    'Owner or admin. `embedding.dimensions` can only change while no memory of the tenant stores a vector: 409 `embedding_dimensions_locked` otherwise.',
  request: { body: { required: true, content: { 'application/json': { schema: UpdateTenantSchema } } } },
  responses: {
    200: jsonResponse(TenantSchema, 'The updated tenant'),
    ...problemResponses('insufficient_role', 'embedding_dimensions_locked'),
  },
});

/** An embedding configuration this deployment cannot serve: a 422 naming the field, before anything is written. */
function embeddingConfigErrors(env: AppEnv['Bindings'], e: { dimensions: number | null; model: string | null }) {
  const errors: FieldError[] = [];
  if (isWorkersAiModel(e.model) && !env.AI)
    errors.push({
      path: 'json.embedding.model',
      message: 'is a Workers AI model, but this server has no Workers AI binding (AI) to embed with',
    });
  const indexDims = env.VECTORIZE_DIMENSIONS ? Number(env.VECTORIZE_DIMENSIONS) : VECTORIZE_LIMITS.dimensions;
  if (
    env.VECTORIZE &&
    e.dimensions !== null &&
    (e.dimensions > VECTORIZE_LIMITS.dimensions || (env.VECTORIZE_DIMENSIONS && e.dimensions !== indexDims))
  )
    errors.push({
      path: 'json.embedding.dimensions',
      message: env.VECTORIZE_DIMENSIONS
        ? `must be ${indexDims}, the dimensions of this deployment's Vectorize index`
        : `must be at most ${VECTORIZE_LIMITS.dimensions} with the Vectorize engine`,
    });
  return errors;
}

lifecycle.openapi(updateTenant, async (c) => {
  const patch = c.req.valid('json');
  const refused = patch.embedding ? embeddingConfigErrors(c.env, patch.embedding) : [];
  if (refused.length) throw invalidRequest(refused);
  const { caller, results } = await runAsCaller(
    c,
    updateTenantStatements(c.env.DB, c.get('auth').sub, patch, requestMeta(c), Date.now()),
  );
  requireRole(caller, 'owner', 'admin');
  const row = results[1]!.results[0] as TenantRow | undefined;
  if (!row)
    throw new ApiError(
      'embedding_dimensions_locked',
      `The tenant stores ${caller.tenant_vector_count} vectors of ${caller.tenant_embedding_dimensions} dimensions, so the dimensions cannot change. ` +
        'Remove them first (PATCH each memory with "embedding": null, or delete them for good), or keep the dimensions and change only the model.',
    );
  return c.json(toTenant(row), 200);
});

const deleteTenant = securedRoute(['manage:tenant'], {
  method: 'delete',
  path: '/v1/tenant',
  operationId: 'deleteTenant',
  tags: ['Tenants'],
  summary: 'Delete the tenant',
  description:
    `Owner only. Soft-deletes the tenant: from this response on, every token of every user of the tenant is refused (401). ` +
    `An owner can restore it within ${RETENTION_DAYS} days with POST /v1/tenant/restore; after that the tenant and all its data are purged.`,
  responses: {
    200: jsonResponse(DeletedTenantSchema, 'Deleted; restorable until `restorable_until`'),
    ...problemResponses('insufficient_role'),
  },
});

lifecycle.openapi(deleteTenant, async (c) => {
  const { caller, results } = await runAsCaller(
    c,
    deleteTenantStatements(c.env.DB, c.get('auth').sub, requestMeta(c), Date.now()),
  );
  requireRole(caller, 'owner');
  const row = results[1]!.results[0] as TenantRow;
  return c.json(
    { id: row.id, deleted_at: toIso(row.deleted_at!), restorable_until: toIso(row.deleted_at! + TENANT_RETENTION_MS) },
    200,
  );
});

const restoreTenant = securedRoute(['manage:tenant'], {
  method: 'post',
  path: '/v1/tenant/restore',
  operationId: 'restoreTenant',
  tags: ['Tenants'],
  summary: 'Restore the deleted tenant',
  description:
    `An owner of a deleted tenant restores it (and so every user's access) within ${RETENTION_DAYS} days of its deletion. ` +
    '409 `tenant_not_deleted` if it is not deleted; 410 `retention_expired` once the restore period is over.',
  responses: {
    200: jsonResponse(TenantSchema, 'The restored tenant'),
    ...problemResponses('insufficient_role', 'tenant_not_deleted', 'retention_expired'),
  },
});

lifecycle.openapi(restoreTenant, async (c) => {
  const now = Date.now();
  const sub = c.get('auth').sub;
  // Not runAsCaller: its caller lookup refuses deleted tenants, which is the point here.
  const [probeResult, restored] = await c.env.DB.batch(
    restoreTenantStatements(c.env.DB, sub, now - TENANT_RETENTION_MS, requestMeta(c), now),
  );
  const probe = probeResult!.results[0] as RestoreProbe | undefined;
  if (!probe) throw notProvisioned(c.get('requestId'));
  const row = restored!.results[0] as TenantRow | undefined;
  if (row) return c.json(toTenant(row), 200);
  requireRole(probe, 'owner');
  if (probe.deleted_at === null)
    throw new ApiError('tenant_not_deleted', 'The tenant is not deleted; there is nothing to restore.');
  throw new ApiError(
    'retention_expired',
    `The tenant was deleted more than ${RETENTION_DAYS} days ago and can no longer be restored.`,
  );
});

export const tenantRoutes = { getTenant, updateTenant, deleteTenant, restoreTenant };
