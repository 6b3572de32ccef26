// Search text is tenant-prefixed (lib/search-text.ts), so writes and searches need the caller's
// tenant id BEFORE their one D1 batch, while the tenant is only known from the caller lookup
// INSIDE it. We remember subject → tenant in the isolate from an earlier request and let the
// batch verify it: every statement that depends on it is guarded by `caller.tenant_id = ?`.
// Steady state: one round trip. Cache miss: one extra round trip (the caller lookup alone).
// Stale entry (the subject's user was deleted and re-created in another tenant): the guarded
// statements do nothing, the batch returns the real tenant, we run once more with it.
import type { Context } from 'hono';
import { runAsCaller } from '../../auth/caller';
import type { CallerRow } from '../../db/caller';
import type { AppEnv } from '../../env';
import { ApiError } from '../../lib/problem';

const MAX_ENTRIES = 10_000;
const tenantBySubject = new Map<string, string>();

/** A tenant's embedding configuration as last seen in a caller row (writes that embed on the server are guarded by it). */
export interface EmbeddingConfig {
  model: string | null;
  dimensions: number | null;
}
const embeddingByTenant = new Map<string, EmbeddingConfig>();

function bounded<K, V>(map: Map<K, V>, key: K, value: V) {
  map.delete(key);
  if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value!);
  map.set(key, value);
}

function remember(sub: string, tenantId: string) {
  bounded(tenantBySubject, sub, tenantId);
}

function rememberEmbedding(caller: CallerRow) {
  bounded(embeddingByTenant, caller.tenant_id, {
    model: caller.tenant_embedding_model,
    dimensions: caller.tenant_embedding_dimensions,
  });
}

/** The tenant's embedding configuration as this isolate last saw it (none seen: no model). */
export const assumedEmbedding = (tenantId: string): EmbeddingConfig =>
  embeddingByTenant.get(tenantId) ?? { model: null, dimensions: null };

/**
 * Runs `attempt(tenantId)` — which must make exactly one batch through runAsCaller and guard
 * tenant-dependent statements — with the cached tenant, retrying once if the batch's caller
 * belongs to another tenant.
 */
export async function withCallerTenant<T extends { caller: CallerRow }>(
  c: Context<AppEnv>,
  attempt: (tenantId: string) => Promise<T>,
): Promise<T> {
  const sub = c.get('auth').sub;
  let tenantId = tenantBySubject.get(sub);
  if (tenantId === undefined) {
    const { caller } = await runAsCaller(c, []);
    tenantId = caller.tenant_id;
    remember(sub, tenantId);
    rememberEmbedding(caller);
  }
  for (let i = 0; i < 2; i++) {
    const out = await attempt(tenantId);
    rememberEmbedding(out.caller);
    if (out.caller.tenant_id === tenantId) return out;
    tenantId = out.caller.tenant_id;
    remember(sub, tenantId);
  }
  throw new ApiError('conflict', "The caller's tenant changed during the request; retry it.");
}

/** Any batch's caller row keeps the cache warm (a read today makes tomorrow's write one trip). */
export function rememberCaller(c: Context<AppEnv>, caller: CallerRow) {
  rememberEmbedding(caller);
  if (tenantBySubject.get(c.get('auth').sub) !== caller.tenant_id) remember(c.get('auth').sub, caller.tenant_id);
}
