// Session-scoped memories are visible only in their live session (the memories API implements
// the rule; these tests drive it through the session lifecycle: end and cron expiry).
import { createScheduledController, env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { MemoryPageSchema, MemorySchema } from '../../src/routes/memories/schemas';
import { SessionSchema } from '../../src/routes/sessions/schemas';
import { createTenant } from '../helpers/fixtures';
import { call } from '../helpers/http';
import { expectBody, expectProblem } from './helpers';

async function setup() {
  const t = await createTenant();
  const token = await t.owner.token();
  const session = await expectBody(
    await call('/v1/sessions', { method: 'POST', token, json: { mcp_client_id: 'agent' } }),
    201,
    SessionSchema,
  );
  const memory = await expectBody(
    await call('/v1/memories', {
      method: 'POST',
      token,
      json: { content: 'scratchpad note for this session', access_scope: 'session', session_id: session.id },
    }),
    201,
    MemorySchema,
  );
  const global = await expectBody(
    await call('/v1/memories', { method: 'POST', token, json: { content: 'a global note', access_scope: 'global' } }),
    201,
    MemorySchema,
  );
  return { ...t, token, session, memory, global };
}

const listIds = async (token: string, query = '') =>
  (await expectBody(await call(`/v1/memories${query}`, { token }), 200, MemoryPageSchema)).data.map((m) => m.id);

async function expectVisibleOnlyInSession(s: Awaited<ReturnType<typeof setup>>) {
  await expectBody(
    await call(`/v1/memories/${s.memory.id}?session_id=${s.session.id}`, { token: s.token }),
    200,
    MemorySchema,
  );
  await expectProblem(await call(`/v1/memories/${s.memory.id}`, { token: s.token }), 404, 'not_found');
  expect(await listIds(s.token, `?session_id=${s.session.id}`)).toEqual([s.memory.id]); // the session's memories
  expect(await listIds(s.token)).toEqual([s.global.id]);
}

async function expectInvisible(s: Awaited<ReturnType<typeof setup>>) {
  await expectProblem(
    await call(`/v1/memories/${s.memory.id}?session_id=${s.session.id}`, { token: s.token }),
    404,
    'not_found',
  );
  expect(await listIds(s.token, `?session_id=${s.session.id}`)).toEqual([]);
  expect(await listIds(s.token)).toEqual([s.global.id]);
}

describe('session-scoped memory visibility', () => {
  it('is visible in its live session only, and not at all once the session is ended', async () => {
    const s = await setup();
    await expectVisibleOnlyInSession(s);
    // another user of the tenant cannot use the owner's session
    const member = await s.addUser('member');
    await expectProblem(
      await call(`/v1/memories/${s.memory.id}?session_id=${s.session.id}`, { token: await member.token() }),
      404,
      'not_found',
    );

    expect((await call(`/v1/sessions/${s.session.id}`, { method: 'DELETE', token: s.token })).status).toBe(204);
    await expectInvisible(s);
  });

  it('disappears when the cron expires the idle session', async () => {
    const s = await setup();
    await expectVisibleOnlyInSession(s);
    const idleMs = (Number(env.SESSION_IDLE_TIMEOUT_MINUTES ?? 60) + 1) * 60_000;
    await env.DB.prepare(
      'UPDATE sessions SET created_at = created_at - ?2, last_activity_at = last_activity_at - ?2 WHERE id = ?1',
    )
      .bind(s.session.id, idleMs)
      .run();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: '*/5 * * * *' }), env);
    await expectInvisible(s);
    // and no new memory can be put into the expired session
    const refused = await call('/v1/memories', {
      method: 'POST',
      token: s.token,
      json: { content: 'late', access_scope: 'session', session_id: s.session.id },
    });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
  });
});
