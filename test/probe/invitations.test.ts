// People join by invitation, accepted with their own token; nothing binds an identity before that,
// and no answer tells a tenant whether an identity exists elsewhere.
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createTenant } from '../helpers/fixtures';
import { mintToken } from '../helpers/tokens';
import { call, expectProblem } from '../memories/helpers';

const invite = async (token: string, json: Record<string, unknown>) => {
  const res = await call('/v1/invitations', { method: 'POST', token, json });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string; status: string };
};

describe('adding a person', () => {
  it('POST /v1/users no longer binds a person: no identity oracle, no pre-claim', async () => {
    const a = await createTenant();
    const b = await createTenant();
    const token = await a.owner.token();
    // b's owner exists elsewhere, a fresh sub does not: the answer is the same 422.
    for (const auth0_id of [b.owner.sub, `auth0|${crypto.randomUUID()}`]) {
      const res = await call('/v1/users', {
        method: 'POST',
        token,
        json: { auth0_id, email: `${crypto.randomUUID().slice(0, 8)}@example.com`, role: 'member', kind: 'person' },
      });
      const body = await expectProblem(res, 422, 'validation_failed');
      expect(body.errors).toContainEqual(expect.objectContaining({ path: 'json.kind' }));
    }
    // Services are still added directly (their ids come from the tenant's own Auth0).
    const svc = await call('/v1/users', {
      method: 'POST',
      token,
      json: { auth0_id: 'bot123@clients', email: 'bot@example.com', role: 'member' },
    });
    expect(svc.status, await svc.clone().text()).toBe(201);
  });

  it('an invitation binds nothing until its sub accepts; an identity elsewhere gets the same answers', async () => {
    const a = await createTenant();
    const b = await createTenant();
    const owner = await a.owner.token();
    const newcomer = `auth0|${crypto.randomUUID()}`;
    const inv = await invite(owner, { email: 'new@example.com', role: 'admin', auth0_id: newcomer });
    expect(inv.status).toBe('pending');
    // Inviting someone who is a user elsewhere answers exactly alike.
    const elsewhere = await invite(owner, { email: 'b-owner@example.com', role: 'member', auth0_id: b.owner.sub });
    expect(elsewhere.status).toBe('pending');

    // Not bound yet: the newcomer can still provision their own tenant…
    const newToken = await mintToken({ sub: newcomer, scopes: [], claims: { email: 'new@example.com' } });
    await expectProblem(await call('/v1/me', { token: newToken }), 403, 'not_provisioned');
    // …and someone else cannot accept it.
    const intruder = await mintToken({
      sub: `auth0|${crypto.randomUUID()}`,
      claims: { email: 'new@example.com', email_verified: true },
    });
    await expectProblem(
      await call(`/v1/invitations/${inv.id}/accept`, { method: 'POST', token: intruder }),
      404,
      'not_found',
    );

    const accepted = await call(`/v1/invitations/${inv.id}/accept`, { method: 'POST', token: newToken });
    expect(accepted.status, await accepted.clone().text()).toBe(200);
    expect(await accepted.json()).toMatchObject({
      tenant_id: a.tenant.id,
      role: 'admin',
      kind: 'person',
      auth0_id: newcomer,
    });
    expect((await call('/v1/me', { token: newToken })).status).toBe(200);
    // Accepted once: a second accept is 404 (it is no longer pending).
    await expectProblem(
      await call(`/v1/invitations/${inv.id}/accept`, { method: 'POST', token: newToken }),
      404,
      'not_found',
    );
    const listed = await call('/v1/invitations', { token: owner });
    expect(
      ((await listed.json()) as { data: { id: string; status: string }[] }).data.find((i) => i.id === inv.id)?.status,
    ).toBe('accepted');
    // The user of the other tenant cannot take the second invitation while they are a user there.
    await expectProblem(
      await call(`/v1/invitations/${elsewhere.id}/accept`, { method: 'POST', token: await b.owner.token() }),
      409,
      'already_provisioned',
    );
    const audit = await env.DB.prepare(
      "SELECT action FROM audit_logs WHERE tenant_id = ?1 AND action LIKE 'invitation.%' OR (tenant_id = ?1 AND action = 'user.create') ORDER BY created_at, id",
    )
      .bind(a.tenant.id)
      .all<{ action: string }>();
    // The accept's two rows share a timestamp: compare as a set.
    expect(audit.results.map((r) => r.action).sort()).toEqual([
      'invitation.accept',
      'invitation.create',
      'invitation.create',
      'user.create',
    ]);
  });

  it('an invitation without sub is accepted only with a verified email equal to it', async () => {
    const a = await createTenant();
    const inv = await invite(await a.owner.token(), { email: 'Casey@Example.com', role: 'member' });
    const sub = `auth0|${crypto.randomUUID()}`;
    const unverified = await mintToken({ sub, claims: { email: 'casey@example.com', email_verified: false } });
    await expectProblem(
      await call(`/v1/invitations/${inv.id}/accept`, { method: 'POST', token: unverified }),
      404,
      'not_found',
    );
    const verified = await mintToken({ sub, claims: { email: 'casey@example.com', email_verified: true } });
    const res = await call(`/v1/invitations/${inv.id}/accept`, { method: 'POST', token: verified });
    expect(res.status, await res.clone().text()).toBe(200);
  });

  it('admins invite members only; members cannot invite', async () => {
    const a = await createTenant();
    const admin = await a.addUser('admin');
    const member = await a.addUser('member');
    await expectProblem(
      await call('/v1/invitations', {
        method: 'POST',
        token: await admin.token(),
        json: { email: 'x@example.com', role: 'owner' },
      }),
      403,
      'insufficient_role',
    );
    await invite(await admin.token(), { email: 'y@example.com', role: 'member' });
    await expectProblem(
      await call('/v1/invitations', {
        method: 'POST',
        token: await member.token(),
        json: { email: 'z@example.com', role: 'member' },
      }),
      403,
      'insufficient_role',
    );
  });

  it('a revoked invitation can no longer be accepted; revoking is audited and for owners and admins', async () => {
    const a = await createTenant();
    const owner = await a.owner.token();
    const admin = await (await a.addUser('admin')).token();
    const member = await (await a.addUser('member')).token();
    const sub = `auth0|${crypto.randomUUID()}`;
    const inv = await invite(owner, { email: 'later@example.com', role: 'member', auth0_id: sub });
    const forAdmin = await invite(owner, { email: 'boss@example.com', role: 'admin' });
    const revoke = (id: string, token: string) => call(`/v1/invitations/${id}`, { method: 'DELETE', token });

    await expectProblem(await revoke(inv.id, member), 403, 'insufficient_role');
    await expectProblem(await revoke(forAdmin.id, admin), 403, 'insufficient_role');
    await expectProblem(await revoke(inv.id, await (await createTenant()).owner.token()), 404, 'not_found');
    expect((await revoke(inv.id, admin)).status).toBe(204);
    expect((await revoke(inv.id, owner)).status).toBe(204); // again: nothing changes
    expect((await revoke(forAdmin.id, owner)).status).toBe(204);

    const got = await call(`/v1/invitations/${inv.id}`, { token: owner });
    expect(await got.json()).toMatchObject({ status: 'revoked', revoked_at: expect.any(String) });
    const token = await mintToken({ sub, claims: { email: 'later@example.com', email_verified: true } });
    await expectProblem(await call(`/v1/invitations/${inv.id}/accept`, { method: 'POST', token }), 404, 'not_found');
    await expectProblem(await call('/v1/me', { token }), 403, 'not_provisioned');

    const audit = await env.DB.prepare(
      "SELECT resource_id FROM audit_logs WHERE tenant_id = ?1 AND action = 'invitation.revoke' ORDER BY resource_id",
    )
      .bind(a.tenant.id)
      .all<{ resource_id: string }>();
    expect(audit.results.map((r) => r.resource_id)).toEqual([inv.id, forAdmin.id].sort());

    // An accepted invitation is not revoked: the user it created is removed instead.
    const joiner = `auth0|${crypto.randomUUID()}`;
    const accepted = await invite(owner, { email: 'joined@example.com', role: 'member', auth0_id: joiner });
    const res = await call(`/v1/invitations/${accepted.id}/accept`, {
      method: 'POST',
      token: await mintToken({ sub: joiner }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    await expectProblem(await revoke(accepted.id, owner), 409, 'conflict');
  });
});
