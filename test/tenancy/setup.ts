import { createTenant, tenantDb } from '../helpers/fixtures';

/** A tenant with an owner, an admin and a member (the actors), plus a second admin and member to act on. */
export async function staffedTenant(name?: string) {
  const t = await createTenant(name);
  const [admin, member, admin2, member2] = [
    await t.addUser('admin'),
    await t.addUser('member'),
    await t.addUser('admin'),
    await t.addUser('member'),
  ];
  return { ...t, actors: { owner: t.owner, admin, member }, targets: { admin2, member2 } };
}

export const auditCount = async (tenantId: string) =>
  (await (
    await tenantDb(tenantId)
  )
    .prepare('SELECT COUNT(*) AS n FROM audit_logs WHERE tenant_id = ?1')
    .bind(tenantId)
    .first<{ n: number }>())!.n;

export const uniqueEmail = () => `u-${crypto.randomUUID().slice(0, 12)}@example.com`;
/** A machine client's subject: people join by invitation, so POST /v1/users adds services only. */
export const uniqueSub = () => `${crypto.randomUUID().replace(/-/g, '')}@clients`;

/** Puts a tenant on `plan` directly in D1 (both tables, as the API does). */
export async function setPlan(tenantId: string, plan: 'free' | 'pro' | 'team') {
  const db = await tenantDb(tenantId);
  await db.batch([
    db.prepare('UPDATE tenants SET plan = ?2 WHERE id = ?1').bind(tenantId, plan),
    db.prepare('UPDATE subscriptions SET plan = ?2 WHERE tenant_id = ?1').bind(tenantId, plan),
  ]);
}
