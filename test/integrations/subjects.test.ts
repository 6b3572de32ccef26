import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { shardNames } from '../../src/db/directory';
import { ImportLineSchema } from '../../src/routes/data/schemas';
import { createTenant } from '../helpers/fixtures';
import {
  asList,
  asMemory,
  asPage,
  asSearchPage,
  auditRows,
  call,
  createMemory,
  d1Stats,
  expectProblem,
  world,
} from '../memories/helpers';

const ids = (page: { data: { id: string }[] }) => page.data.map((m) => m.id).sort();

describe('subject_id and agent_id', () => {
  it('are set on create, batch and PATCH, returned on every memory, and audited', async () => {
    const w = await world();
    const m = await createMemory(w.tokens.owner, { subject_id: 'alice', agent_id: 'support-bot' });
    expect(m).toMatchObject({ subject_id: 'alice', agent_id: 'support-bot' });
    const plain = await createMemory(w.tokens.owner);
    expect(plain).toMatchObject({ subject_id: null, agent_id: null });

    const batch = await call('/v1/memories/batch', {
      method: 'POST',
      token: w.tokens.owner,
      json: {
        memories: [
          { content: 'b1', subject_id: 'bob' },
          { content: 'b2', agent_id: 'planner' },
        ],
      },
    });
    expect(batch.status).toBe(201);
    expect(asList(await batch.json()).data.map((x) => [x.subject_id, x.agent_id])).toEqual([
      ['bob', null],
      [null, 'planner'],
    ]);

    const patched = await call(`/v1/memories/${m.id}`, {
      method: 'PATCH',
      token: w.tokens.owner,
      json: { subject_id: 'alice-2', agent_id: null },
    });
    expect(patched.status).toBe(200);
    expect(asMemory(await patched.json())).toMatchObject({ subject_id: 'alice-2', agent_id: null, version: 2 });
    const get = asMemory(await (await call(`/v1/memories/${m.id}`, { token: w.tokens.owner })).json());
    expect(get).toMatchObject({ subject_id: 'alice-2', agent_id: null });

    const audit = await auditRows(w.a.tenant.id, m.id);
    expect(audit.map((a) => a.action)).toEqual(['memory.create', 'memory.update']);
    expect(JSON.parse(audit[0]!.new_values!)).toMatchObject({ subject_id: 'alice', agent_id: 'support-bot' });
    expect(JSON.parse(audit[1]!.old_values!)).toEqual({ subject_id: 'alice', agent_id: 'support-bot' });
    expect(JSON.parse(audit[1]!.new_values!)).toEqual({ subject_id: 'alice-2', agent_id: null });
  });

  it('refuse control characters, empty and over-long labels with a 422 naming the field', async () => {
    const w = await world();
    for (const [field, value] of [
      ['subject_id', 'al\u0000ice'],
      ['subject_id', 'al\nice'],
      ['agent_id', 'bot\u0085'],
      ['subject_id', ''],
      ['agent_id', 'x'.repeat(129)],
      ['subject_id', 42],
    ] as const) {
      const res = await call('/v1/memories', {
        method: 'POST',
        token: w.tokens.owner,
        json: { content: 'x', [field]: value },
      });
      const body = await expectProblem(res, 422, 'validation_failed');
      expect(body.errors?.map((e) => e.path)).toContain(`json.${field}`);
    }
    expect(
      (await createMemory(w.tokens.owner, { subject_id: 'x'.repeat(128), agent_id: 'Ünïcode 🙂' })).subject_id,
    ).toHaveLength(128);
  });

  it('filter list and search, one value or several, without widening what the caller may see', async () => {
    const w = await world();
    const alice = await createMemory(w.tokens.owner, {
      content: 'alice likes tea',
      subject_id: 'alice',
      access_scope: 'global',
    });
    const alicePrivate = await createMemory(w.tokens.owner, { content: 'alice secret tea', subject_id: 'alice' });
    const bob = await createMemory(w.tokens.member, {
      content: 'bob likes tea',
      subject_id: 'bob',
      agent_id: 'a1',
      access_scope: 'global',
    });
    await createMemory(w.tokens.owner, { content: 'nobody likes tea', access_scope: 'global' });
    // the same label in another tenant is another tenant's business
    await createMemory(w.tokens.other, { content: 'other alice tea', subject_id: 'alice', access_scope: 'global' });

    const list = async (qs: string, token = w.tokens.owner) => {
      const res = await call(`/v1/memories?${qs}`, { token });
      expect(res.status, await res.clone().text()).toBe(200);
      return ids(asPage(await res.json()));
    };
    expect(await list('subject_id=alice')).toEqual([alice.id, alicePrivate.id].sort());
    expect(await list('subject_id=alice', w.tokens.member)).toEqual([alice.id]); // scope rules unchanged
    expect(await list('subject_id=alice&subject_id=bob')).toEqual([alice.id, alicePrivate.id, bob.id].sort());
    expect(await list('agent_id=a1')).toEqual([bob.id]);
    expect(await list('subject_id=alice&agent_id=a1')).toEqual([]);
    expect(await list('subject_id=carol')).toEqual([]);

    const search = async (qs: string, token = w.tokens.owner) => {
      const res = await call(`/v1/memories/search?q=tea&${qs}`, { token });
      expect(res.status, await res.clone().text()).toBe(200);
      return ids(asSearchPage(await res.json()));
    };
    expect(await search('subject_id=alice')).toEqual([alice.id, alicePrivate.id].sort());
    expect(await search('subject_id=alice', w.tokens.member)).toEqual([alice.id]);
    expect(await search('subject_id=bob&subject_id=alice&agent_id=a1')).toEqual([bob.id]);
    expect(await search('subject_id=alice', w.tokens.other)).toHaveLength(1);

    await expectProblem(await call('/v1/memories?subject_id=%01', { token: w.tokens.owner }), 400, 'invalid_parameter');
  });

  it('a list page filtered by subject reads about the page size, whatever the rest of the tenant holds', async () => {
    const w = await world();
    const many = Array.from({ length: 100 }, (_, i) => ({ content: `filler ${i}`, subject_id: `s${i % 50}` }));
    for (let i = 0; i < 3; i++)
      expect(
        (await call('/v1/memories/batch', { method: 'POST', token: w.tokens.owner, json: { memories: many } })).status,
      ).toBe(201);
    for (let i = 0; i < 12; i++) await createMemory(w.tokens.owner, { content: `target ${i}`, subject_id: 'target' });
    const res = await call('/v1/memories?subject_id=target&limit=10', { token: w.tokens.owner });
    expect(asPage(await res.json()).data).toHaveLength(10);
    // page + 1 rows, the caller lookup and its tenant: never the tenant's other 300 memories
    expect(d1Stats(res).rowsRead).toBeLessThanOrEqual(2 * 10 + 5);
    const search = await call('/v1/memories/search?q=target&subject_id=target&limit=10', { token: w.tokens.owner });
    expect(asSearchPage(await search.json()).data).toHaveLength(10);
    // (With shards each request also reads the caller's users row once more: src/db/shard-router.ts.)
    expect(d1Stats(search).rowsRead).toBeLessThan(60 + (shardNames(env).length > 1 ? 1 : 0));
  });

  it('travel through export and import', async () => {
    const source = await createTenant('Source');
    const token = await source.owner.token();
    const m = await createMemory(token, { content: 'exported', subject_id: 'alice', agent_id: 'bot' });
    const text = await (await call('/v1/export', { token })).text();
    const lines = text
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((l) => ImportLineSchema.parse(JSON.parse(l)));
    const line = lines.find((l) => l.type === 'memory' && l.data.id === m.id);
    expect(line?.data).toMatchObject({ subject_id: 'alice', agent_id: 'bot', expires_at: null });

    // a data-subject export: only that subject's memories after the header and tenant lines
    await createMemory(token, { content: 'about bob', subject_id: 'bob' });
    const only = await call('/v1/export?subject_id=alice', { token });
    expect(only.status).toBe(200);
    const [header, ...rest] = (await only.text())
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(header.counts).toEqual({ users: 0, memories: 1, sessions: 0, audit_logs: 0 });
    expect(rest.map((l) => [l.type, l.data.id])).toEqual([
      ['tenant', source.tenant.id],
      ['memory', m.id],
    ]);
    await expectProblem(await call('/v1/export?agent_id=%0A', { token }), 400, 'invalid_parameter');

    const target = await createTenant('Target');
    const targetToken = await target.owner.token();
    const body = `${lines
      .filter((l) => l.type === 'memory')
      .map((l) => JSON.stringify({ ...l, data: { ...l.data, user_id: null, access_scope: 'global' } }))
      .join('\n')}\n`;
    const imported = await call('/v1/import', {
      method: 'POST',
      token: targetToken,
      body,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(imported.status, await imported.clone().text()).toBe(200);
    const page = asPage(
      await (await call('/v1/memories?subject_id=alice&agent_id=bot', { token: targetToken })).json(),
    );
    expect(page.data.map((x) => x.content)).toEqual(['exported']);
  });
});
