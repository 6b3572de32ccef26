import type { Context } from 'hono';
import { batchAsCaller, type CallerRow } from '../db/caller';
import type { AppEnv } from '../env';
import { ApiError } from '../lib/problem';
import { notProvisioned } from './middleware';

/**
 * Runs the caller lookup plus the handler's statements in one D1 round trip and refuses a token
 * whose subject has no live user in a live tenant (403 not_provisioned).
 */
export async function runAsCaller(
  c: Context<AppEnv>,
  statements: D1PreparedStatement[],
): Promise<{ caller: CallerRow; results: D1Result[] }> {
  const { caller, results } = await batchAsCaller(c.env.DB, c.get('auth').sub, statements);
  if (!caller) throw notProvisioned(c.get('requestId'));
  c.set('caller', caller); // the rate limiter learns the tenant and plan from it
  return { caller, results };
}

/** Who made the request, for audit rows. */
export function requestMeta(c: Context<AppEnv>) {
  return {
    requestId: c.get('requestId'),
    // Bounded here, once: audit rows store them and the AuditLog schema documents the bounds.
    ip: c.req.header('cf-connecting-ip')?.slice(0, 512) ?? null,
    userAgent: c.req.header('user-agent')?.slice(0, 512) ?? null,
  };
}

/** Refuses the caller unless their tenant role is one of `roles` (403 insufficient_role). */
export function requireRole(caller: Pick<CallerRow, 'role'>, ...roles: CallerRow['role'][]): void {
  if (!roles.includes(caller.role)) {
    throw new ApiError(
      'insufficient_role',
      `This action needs the ${roles.join(' or ')} role; the caller is ${caller.role}.`,
    );
  }
}
