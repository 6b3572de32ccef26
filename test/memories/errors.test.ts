import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { auditRows, call, createMemory, expectProblem, insertSession, memoryCount, world } from './helpers';

const post = (token: string, json: unknown) => call('/v1/memories', { method: 'POST', token, json });

describe('memories: bad input is a clear 4xx naming the field, and writes nothing', () => {
  it.each([
    [{}, 'json.content'],
    [{ content: '' }, 'json.content'],
    [{ content: 'x'.repeat(32_769) }, 'json.content'],
    [{ content: 'x', tags: ['ok', ''] }, 'json.tags.1'],
    [{ content: 'x', tags: ['t'.repeat(65)] }, 'json.tags.0'],
    [{ content: 'x', tags: ['bad\ntag'] }, 'json.tags.0'],
    [{ content: 'x', tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }, 'json.tags'],
    [{ content: 'x', importance: 0 }, 'json.importance'],
    [{ content: 'x', importance: 11 }, 'json.importance'],
    [{ content: 'x', importance: 2.5 }, 'json.importance'],
    [{ content: 'x', access_scope: 'public' }, 'json.access_scope'],
    [{ content: 'x', access_scope: 'session' }, 'json.session_id'],
    [{ content: 'x', session_id: 'not-a-session' }, 'json.session_id'],
    [{ content: 'x', metadata: [] }, 'json.metadata'],
    [{ content: 'x', metadata: { big: 'x'.repeat(16_400) } }, 'json.metadata'],
    [{ content: 'x', metadata: JSON.parse(`${'{"a":'.repeat(30)}1${'}'.repeat(30)}`) }, 'json.metadata'],
    [{ content: 'x', embedding: [] }, 'json.embedding'],
    [{ content: 'x', embedding: Array.from({ length: 4097 }, () => 0.5) }, 'json.embedding'],
    [{ content: 'x', embedding: ['a'] }, 'json.embedding.0'],
    [{ content: 'x', source: '' }, 'json.source'],
    [{ content: '\u0000' }, 'json.content'],
    [{ content: 'a\u0000b' }, 'json.content'],
    [{ content: 'x', source: '\u0000' }, 'json.source'],
  ])('create %#: 422 naming %s', async (json, path) => {
    const w = await world();
    const res = await post(w.tokens.owner, json);
    const body = await expectProblem(res, 422, 'validation_failed');
    expect(body.errors!.map((e) => e.path)).toContain(path);
    expect((await memoryCount(w.owner.tenantId)).live).toBe(0);
  });

  it('refuses lone UTF-16 surrogates (they cannot be stored as UTF-8)', async () => {
    const w = await world();
    const lone = String.fromCharCode(0xd800);
    for (const [json, path] of [
      [{ content: `lone ${lone} surrogate` }, 'json.content'],
      [{ content: 'x', tags: [String.fromCharCode(0xdc00)] }, 'json.tags.0'],
    ] as const) {
      const body = await expectProblem(await post(w.tokens.owner, json), 422, 'validation_failed');
      expect(body.errors!.map((e) => e.path)).toContain(path);
    }
    expect((await memoryCount(w.owner.tenantId)).live).toBe(0);
  });

  it('refuses a session that is not a live session of the caller (422), writing nothing', async () => {
    const w = await world();
    const expired = await insertSession(w.owner, { expired: true });
    const others = await insertSession(w.member);
    for (const session_id of [expired, others, 'ses_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3']) {
      const body = await expectProblem(
        await post(w.tokens.owner, { content: 'x', session_id, access_scope: 'session' }),
        422,
        'validation_failed',
      );
      expect(body.errors).toEqual([{ path: 'json.session_id', message: 'is not a live session of the caller' }]);
    }
    expect((await memoryCount(w.owner.tenantId)).live).toBe(0);
    expect(await auditRows(w.owner.tenantId)).toEqual([]);
  });

  it('batch: one bad item → 422 naming its index, zero rows and zero audit rows', async () => {
    const w = await world();
    const memories = Array.from({ length: 10 }, (_, i) => ({ content: `item ${i}` }));
    memories[3] = { content: '' };
    const body = await expectProblem(
      await call('/v1/memories/batch', { method: 'POST', token: w.tokens.owner, json: { memories } }),
      422,
      'validation_failed',
    );
    expect(body.errors!.map((e) => e.path)).toEqual(['json.memories.3.content']);

    const session = await insertSession(w.member); // not the caller's
    const withBadSession = Array.from({ length: 60 }, (_, i) => ({ content: `item ${i} `.repeat(400) }));
    withBadSession[57] = { content: 'x', session_id: session } as never;
    const body2 = await expectProblem(
      await call('/v1/memories/batch', { method: 'POST', token: w.tokens.owner, json: { memories: withBadSession } }),
      422,
      'validation_failed',
    );
    expect(body2.errors!.map((e) => e.path)).toEqual(['json.memories.57.session_id']);
    expect(await memoryCount(w.owner.tenantId)).toEqual({ n: 0, live: 0 });
    expect(await auditRows(w.owner.tenantId)).toEqual([]);

    await expectProblem(
      await call('/v1/memories/batch', { method: 'POST', token: w.tokens.owner, json: { memories: [] } }),
      422,
      'validation_failed',
    );
    const tooMany = Array.from({ length: 101 }, () => ({ content: 'x' }));
    const body3 = await expectProblem(
      await call('/v1/memories/batch', { method: 'POST', token: w.tokens.owner, json: { memories: tooMany } }),
      422,
      'validation_failed',
    );
    expect(body3.errors!.map((e) => e.path)).toEqual(['json.memories']);
  });

  it('patch: empty body, unknown field, bad values → 422; a memory without session cannot become session-scoped', async () => {
    const w = await world();
    const m = await createMemory(w.tokens.owner);
    const patch = (json: unknown) => call(`/v1/memories/${m.id}`, { method: 'PATCH', token: w.tokens.owner, json });
    await expectProblem(await patch({}), 422, 'validation_failed');
    expect(
      (await expectProblem(await patch({ colour: 'red' }), 422, 'validation_failed')).errors!.length,
    ).toBeGreaterThan(0);
    expect((await expectProblem(await patch({ importance: 42 }), 422, 'validation_failed')).errors![0]!.path).toBe(
      'json.importance',
    );
    expect((await expectProblem(await patch({ content: null }), 422, 'validation_failed')).errors![0]!.path).toBe(
      'json.content',
    );
    expect(
      (await expectProblem(await patch({ access_scope: 'session' }), 422, 'validation_failed')).errors![0]!.path,
    ).toBe('json.access_scope');
    const after = await (await call(`/v1/memories/${m.id}`, { token: w.tokens.owner })).json();
    expect(after).toMatchObject({ version: 1, access_scope: 'private' });
  });

  it('If-Match: a stale or foreign ETag is 412 and changes nothing; the current one or * works', async () => {
    const w = await world();
    const m = await createMemory(w.tokens.owner, { content: 'v1' });
    const other = await createMemory(w.tokens.owner);
    const patch = (etag: string) =>
      call(`/v1/memories/${m.id}`, {
        method: 'PATCH',
        token: w.tokens.owner,
        json: { content: 'changed' },
        headers: { 'if-match': etag },
      });
    expect((await patch(`"${m.id}-v1"`)).status).toBe(200);
    await expectProblem(await patch(`"${m.id}-v1"`), 412, 'precondition_failed');
    await expectProblem(await patch(`"${other.id}-v2"`), 412, 'precondition_failed');
    await expectProblem(await patch('garbage'), 412, 'precondition_failed');
    await expectProblem(
      await call(`/v1/memories/${m.id}`, {
        method: 'DELETE',
        token: w.tokens.owner,
        headers: { 'if-match': `"${m.id}-v1"` },
      }),
      412,
      'precondition_failed',
    );
    await expectProblem(
      await call(`/v1/memories/${m.id}/tags/x`, {
        method: 'DELETE',
        token: w.tokens.owner,
        headers: { 'if-match': `"${m.id}-v1"` },
      }),
      412,
      'precondition_failed',
    );
    expect((await patch(`"${m.id}-v1", "${m.id}-v2"`)).status).toBe(200);
    expect((await patch('*')).status).toBe(200);
    const del = await call(`/v1/memories/${m.id}`, {
      method: 'DELETE',
      token: w.tokens.owner,
      headers: { 'if-match': `"${m.id}-v4"` },
    });
    expect(del.status).toBe(204);
    expect((await auditRows(w.owner.tenantId, m.id)).map((r) => r.action)).toEqual([
      'memory.create',
      'memory.update',
      'memory.update',
      'memory.update',
      'memory.delete',
    ]);
  });

  it('If-Match under concurrency: of simultaneous updates at the same version exactly one wins', async () => {
    const w = await world();
    const m = await createMemory(w.tokens.owner, { content: 'start' });
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        call(`/v1/memories/${m.id}`, {
          method: 'PATCH',
          token: w.tokens.owner,
          json: { content: `writer ${i}` },
          headers: { 'if-match': `"${m.id}-v1"` },
        }),
      ),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 412, 412, 412, 412, 412]);
    const now = (await (await call(`/v1/memories/${m.id}`, { token: w.tokens.owner })).json()) as { version: number };
    expect(now.version).toBe(2);
    expect((await auditRows(w.owner.tenantId, m.id)).filter((r) => r.action === 'memory.update')).toHaveLength(1);
  });

  it('404 for unknown ids, 400 for malformed ones, 409 for changing a deleted memory', async () => {
    const w = await world();
    const missing = 'mem_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3';
    await expectProblem(await call(`/v1/memories/${missing}`, { token: w.tokens.owner }), 404, 'not_found');
    await expectProblem(
      await call(`/v1/memories/${missing}`, { method: 'PATCH', token: w.tokens.owner, json: { content: 'x' } }),
      404,
      'not_found',
    );
    await expectProblem(
      await call(`/v1/memories/${missing}`, { method: 'DELETE', token: w.tokens.owner }),
      404,
      'not_found',
    );
    await expectProblem(
      await call(`/v1/memories/${missing}/restore`, { method: 'POST', token: w.tokens.owner }),
      404,
      'not_found',
    );
    await expectProblem(
      await call(`/v1/memories/${missing}/tags`, { method: 'POST', token: w.tokens.owner, json: { tags: ['a'] } }),
      404,
      'not_found',
    );
    const bad = await expectProblem(
      await call('/v1/memories/not-an-id', { token: w.tokens.owner }),
      400,
      'invalid_parameter',
    );
    expect(bad.errors![0]!.path).toBe('param.id');

    const m = await createMemory(w.tokens.owner, { tags: ['a'] });
    expect((await call(`/v1/memories/${m.id}`, { method: 'DELETE', token: w.tokens.owner })).status).toBe(204);
    expect((await call(`/v1/memories/${m.id}`, { method: 'DELETE', token: w.tokens.owner })).status).toBe(204); // no-op
    await expectProblem(
      await call(`/v1/memories/${m.id}`, { method: 'PATCH', token: w.tokens.owner, json: { content: 'x' } }),
      409,
      'memory_deleted',
    );
    await expectProblem(
      await call(`/v1/memories/${m.id}/tags`, { method: 'POST', token: w.tokens.owner, json: { tags: ['b'] } }),
      409,
      'memory_deleted',
    );
    await expectProblem(
      await call(`/v1/memories/${m.id}/tags/a`, { method: 'DELETE', token: w.tokens.owner }),
      409,
      'memory_deleted',
    );
    expect((await auditRows(w.owner.tenantId, m.id)).map((r) => r.action)).toEqual(['memory.create', 'memory.delete']);
  });

  it('tags: more than 50 in all is 422 too_many_tags, nothing changes', async () => {
    const w = await world();
    const m = await createMemory(w.tokens.owner, { tags: Array.from({ length: 48 }, (_, i) => `t${i}`) });
    const res = await call(`/v1/memories/${m.id}/tags`, {
      method: 'POST',
      token: w.tokens.owner,
      json: { tags: ['t0', 'x', 'y', 'z'] },
    });
    await expectProblem(res, 422, 'too_many_tags');
    const ok = await call(`/v1/memories/${m.id}/tags`, {
      method: 'POST',
      token: w.tokens.owner,
      json: { tags: ['t0', 'x', 'y'] },
    });
    expect(((await ok.json()) as { tags: string[] }).tags).toHaveLength(50);
    await expectProblem(
      await call(`/v1/memories/${m.id}/tags`, { method: 'POST', token: w.tokens.owner, json: { tags: [] } }),
      422,
      'validation_failed',
    );
  });

  it('list/search parameters: bad values are 400 naming the parameter', async () => {
    const w = await world();
    const cases: [string, string][] = [
      ['/v1/memories?limit=0', 'query.limit'],
      ['/v1/memories?limit=101', 'query.limit'],
      ['/v1/memories?min_importance=11', 'query.min_importance'],
      ['/v1/memories?created_after=yesterday', 'query.created_after'],
      ['/v1/memories?order=sideways', 'query.order'],
      ['/v1/memories?deleted=maybe', 'query.deleted'],
      ['/v1/memories?access_scope=world', 'query.access_scope'],
      ['/v1/memories?user_id=bob', 'query.user_id'],
      ['/v1/memories?metadata.bad%20key=1', 'query.metadata.bad key'],
      ['/v1/memories?cursor=abc.def', 'query.cursor'],
      ['/v1/memories/search', 'query.q'],
      ['/v1/memories/search?q=', 'query.q'],
      [`/v1/memories/search?q=${'a'.repeat(1001)}`, 'query.q'],
      ['/v1/memories/search?q=x&syntax=regex', 'query.syntax'],
      [`/v1/memories?${Array.from({ length: 21 }, (_, i) => `tag=t${i}`).join('&')}`, 'query.tag'],
    ];
    for (const [path, param] of cases) {
      const res = await call(path, { token: w.tokens.owner });
      expect(res.status, path).toBe(400);
      const body = (await res.json()) as { errors: { path: string }[] };
      expect(
        body.errors.map((e) => e.path),
        path,
      ).toContain(param);
    }
  });

  it('a cursor only works for the query and the caller that produced it', async () => {
    const w = await world();
    for (let i = 0; i < 3; i++) await createMemory(w.tokens.owner, { access_scope: 'global', tags: ['x'] });
    const first = (await (await call('/v1/memories?limit=1&tag=x', { token: w.tokens.owner })).json()) as {
      next_cursor: string;
    };
    expect(first.next_cursor).toBeTruthy();
    await expectProblem(
      await call(`/v1/memories?limit=1&cursor=${first.next_cursor}`, { token: w.tokens.owner }),
      400,
      'invalid_cursor',
    );
    await expectProblem(
      await call(`/v1/memories?limit=1&tag=x&cursor=${first.next_cursor}`, { token: w.tokens.member }),
      400,
      'invalid_cursor',
    );
    await expectProblem(
      await call(`/v1/memories/search?q=memory&cursor=${first.next_cursor}`, { token: w.tokens.owner }),
      400,
      'invalid_cursor',
    );
    expect(
      (await call(`/v1/memories?limit=5&tag=x&cursor=${first.next_cursor}`, { token: w.tokens.owner })).status,
    ).toBe(200);
  });

  it('a request that fails half-way (the audit insert fails) leaves no partial state', async () => {
    const w = await world();
    const keep = await createMemory(w.tokens.owner, { content: 'keep me', tags: ['a'] });
    await env.DB.prepare(
      `CREATE TRIGGER IF NOT EXISTS test_fail_audit BEFORE INSERT ON audit_logs WHEN NEW.request_id = 'fail-half-way' BEGIN SELECT RAISE(ABORT, 'simulated failure'); END`,
    ).run();
    try {
      const headers = { 'x-request-id': 'fail-half-way' };
      const before = await auditRows(w.owner.tenantId);
      const attempts = [
        call('/v1/memories', { method: 'POST', token: w.tokens.owner, json: { content: 'never stored' }, headers }),
        call('/v1/memories/batch', {
          method: 'POST',
          token: w.tokens.owner,
          json: { memories: [{ content: 'n1' }, { content: 'n2' }] },
          headers,
        }),
        call(`/v1/memories/${keep.id}`, {
          method: 'PATCH',
          token: w.tokens.owner,
          json: { content: 'changed' },
          headers,
        }),
        call(`/v1/memories/${keep.id}/tags`, { method: 'POST', token: w.tokens.owner, json: { tags: ['b'] }, headers }),
        call(`/v1/memories/${keep.id}`, { method: 'DELETE', token: w.tokens.owner, headers }),
        call(`/v1/memories/${keep.id}?permanent=true`, { method: 'DELETE', token: w.tokens.owner, headers }),
      ];
      for (const res of await Promise.all(attempts)) await expectProblem(res, 500, 'internal_error');
      expect(await memoryCount(w.owner.tenantId)).toEqual({ n: 1, live: 1 });
      expect(await auditRows(w.owner.tenantId)).toEqual(before);
      const now = (await (await call(`/v1/memories/${keep.id}`, { token: w.tokens.owner })).json()) as {
        content: string;
        tags: string[];
        version: number;
      };
      expect(now).toMatchObject({ content: 'keep me', tags: ['a'], version: 1 });
      const hit = (await (await call('/v1/memories/search?q=keep', { token: w.tokens.owner })).json()) as {
        data: unknown[];
      };
      expect(hit.data).toHaveLength(1);
    } finally {
      await env.DB.prepare('DROP TRIGGER test_fail_audit').run();
    }
  });
});
