// Import binds no person: an exported live person arrives as a user who has not joined, with a
// pending invitation for their identity; only their own token's accept binds them (with their
// memories). Whether the identity is a user elsewhere changes no answer. Services arrive bound.
import { describe, expect, it } from 'vitest';
import { ImportReportSchema } from '../../src/routes/data/schemas';
import { createTenant } from '../helpers/fixtures';
import { mintToken } from '../helpers/tokens';
import { call, expectProblem } from '../memories/helpers';

const at = '2026-01-05T09:30:00.000Z';
const userLine = (id: string, auth0_id: string, kind: 'person' | 'service' = 'person') =>
  JSON.stringify({
    type: 'user',
    data: {
      id,
      auth0_id,
      email: `${crypto.randomUUID().slice(0, 8)}@example.com`,
      name: null,
      role: 'member',
      kind,
      created_at: at,
      updated_at: at,
      deleted_at: null,
    },
  });
const privateMemory = (id: string, userId: string) =>
  JSON.stringify({
    type: 'memory',
    data: {
      id,
      user_id: userId,
      session_id: null,
      content: 'my own note',
      tags: [],
      metadata: {},
      importance: 5,
      access_scope: 'private',
      source: null,
      embedding: null,
      version: 1,
      created_at: at,
      updated_at: at,
      deleted_at: null,
    },
  });
const importChunk = async (token: string, body: string) => {
  const res = await call('/v1/import', {
    method: 'POST',
    token,
    body,
    headers: { 'content-type': 'application/x-ndjson' },
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return ImportReportSchema.strict().parse(await res.json());
};

describe('import binds no person', () => {
  it('a live person arrives unbound with an invitation; accepting binds them with their memories', async () => {
    const a = await createTenant();
    const elsewhere = await createTenant();
    const owner = await a.owner.token();
    const newcomer = `auth0|${crypto.randomUUID()}`;
    const body = [
      userLine('usr_01J9Z3Q4W5E6R7T8Y9V0A1B2C3', newcomer),
      userLine('usr_01J9Z3Q4W5E6R7T8Y9V0A1B2C4', elsewhere.owner.sub),
      privateMemory('mem_01J9Z3Q4W5E6R7T8Y9V0A1B2C3', 'usr_01J9Z3Q4W5E6R7T8Y9V0A1B2C3'),
    ].join('\n');
    const report = await importChunk(owner, body);
    // The same answer for an unknown identity and for one that is a user elsewhere: no oracle.
    expect(report.users_mapped_to_importer).toEqual([]);
    expect(Object.keys(report.users_invited).sort()).toEqual([
      'usr_01J9Z3Q4W5E6R7T8Y9V0A1B2C3',
      'usr_01J9Z3Q4W5E6R7T8Y9V0A1B2C4',
    ]);
    expect(report.created.users).toBe(2);

    // Not bound: the newcomer is nobody's user yet and can still create a tenant of their own.
    const newToken = await mintToken({ sub: newcomer });
    await expectProblem(await call('/v1/me', { token: newToken }), 403, 'not_provisioned');
    // The other tenant's owner stays where they are.
    const me = await call('/v1/me', { token: await elsewhere.owner.token() });
    expect(((await me.json()) as { tenant: { id: string } }).tenant.id).toBe(elsewhere.tenant.id);

    const invitationId = report.users_invited.usr_01J9Z3Q4W5E6R7T8Y9V0A1B2C3!;
    const userId = report.id_map.usr_01J9Z3Q4W5E6R7T8Y9V0A1B2C3!;
    const inv = await call(`/v1/invitations/${invitationId}`, { token: owner });
    expect(await inv.json()).toMatchObject({ status: 'pending', auth0_id: newcomer, user_id: userId });
    // Someone else's verified token cannot take it.
    const intruder = await mintToken({ sub: `auth0|${crypto.randomUUID()}` });
    await expectProblem(
      await call(`/v1/invitations/${invitationId}/accept`, { method: 'POST', token: intruder }),
      404,
      'not_found',
    );

    const accepted = await call(`/v1/invitations/${invitationId}/accept`, { method: 'POST', token: newToken });
    expect(accepted.status, await accepted.clone().text()).toBe(200);
    expect(await accepted.json()).toMatchObject({ id: userId, auth0_id: newcomer, tenant_id: a.tenant.id });
    const own = await call(`/v1/memories/${report.id_map.mem_01J9Z3Q4W5E6R7T8Y9V0A1B2C3}`, { token: newToken });
    expect(own.status, await own.clone().text()).toBe(200);
  });

  it('a service arrives bound; a kind that contradicts the identity is refused', async () => {
    const a = await createTenant();
    const owner = await a.owner.token();
    const client = `${crypto.randomUUID().slice(0, 8)}@clients`;
    const report = await importChunk(owner, userLine('usr_01J9Z3Q4W5E6R7T8Y9V0A1B2C5', client, 'service'));
    expect(report.users_invited).toEqual({});
    expect((await call('/v1/me', { token: await mintToken({ sub: client }) })).status).toBe(200);

    const res = await call('/v1/import', {
      method: 'POST',
      token: owner,
      body: userLine('usr_01J9Z3Q4W5E6R7T8Y9V0A1B2C6', `auth0|${crypto.randomUUID()}`, 'service'),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    const problem = await expectProblem(res, 422, 'import_invalid');
    expect(problem.errors).toEqual([{ path: 'line 1.data.kind', message: expect.stringContaining('@clients') }]);
  });
});
