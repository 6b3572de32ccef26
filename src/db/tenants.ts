import { newId } from '../lib/ids';
import { toIso } from '../lib/time';
import type { RequestMeta } from './audit';

export type Plan = 'free' | 'pro' | 'team';

export interface TenantRow {
  id: string;
  name: string;
  plan: Plan;
  memory_count: number;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export function toTenant(row: TenantRow) {
  return {
    id: row.id,
    name: row.name,
    plan: row.plan,
    memory_count: row.memory_count,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  };
}

export interface NewTenant {
  name: string;
  owner: { auth0Id: string; email: string; name?: string | null; kind?: 'person' | 'service' };
}

const PERIOD_MS = 30 * 24 * 3600 * 1000;

/**
 * Creates a tenant on the free plan with its subscription and its owner, plus the audit row,
 * in one batch. Fails (UNIQUE on users.auth0_id) if the subject already has a live user.
 */
export async function createTenantWithOwner(db: D1Database, input: NewTenant, meta: RequestMeta, now = Date.now()) {
  const tenantId = newId('ten', now);
  const userId = newId('usr', now);
  const tenant = { id: tenantId, name: input.name, plan: 'free' as Plan, memory_count: 0, created_at: now, updated_at: now, deleted_at: null };
  const user = {
    id: userId,
    tenant_id: tenantId,
    auth0_id: input.owner.auth0Id,
    email: input.owner.email,
    name: input.owner.name ?? null,
    role: 'owner' as const,
    kind: input.owner.kind ?? ('person' as const),
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
  await db.batch([
    db.prepare('INSERT INTO tenants (id, name, plan, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)').bind(tenantId, input.name, 'free', now),
    db
      .prepare('INSERT INTO subscriptions (id, tenant_id, plan, status, current_period_start, current_period_end, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5, ?5)')
      .bind(newId('sub', now), tenantId, 'free', 'active', now, now + PERIOD_MS),
    db
      .prepare('INSERT INTO users (id, tenant_id, auth0_id, email, name, role, kind, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)')
      .bind(userId, tenantId, user.auth0_id, user.email, user.name, 'owner', user.kind, now),
    db
      .prepare(
        `INSERT INTO audit_logs (id, tenant_id, user_id, action, resource_type, resource_id, old_values, new_values, ip, user_agent, request_id, created_at)
         VALUES (?1, ?2, ?3, 'tenant.create', 'tenant', ?2, NULL, ?4, ?5, ?6, ?7, ?8)`,
      )
      .bind(newId('aud', now), tenantId, userId, JSON.stringify({ name: input.name, plan: 'free', owner: userId }), meta.ip, meta.userAgent, meta.requestId, now),
  ]);
  return { tenant, user };
}
