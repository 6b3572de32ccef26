import { describe, expect, it } from 'vitest';
import { asList, asMemory, auditRows, call, createMemory, d1Stats, expectProblem, memoryCount, world } from './helpers';

const create = (token: string, json: unknown, key: string) =>
  call('/v1/memories', { method: 'POST', token, json, headers: { 'idempotency-key': key } });

describe('Idempotency-Key', () => {
  it('replays the stored response for the same key and body, writing nothing twice', async () => {
    const w = await world();
    const key = crypto.randomUUID();
    const first = await create(w.tokens.owner, { content: 'once only' }, key);
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const m = asMemory(await first.json());
    const again = await create(w.tokens.owner, { content: 'once only' }, key);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(asMemory(await again.json())).toEqual(m);
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    expect(d1Stats(again)).toMatchObject({ roundTrips: 1, rowsWritten: 0 });
    expect((await memoryCount(w.owner.tenantId)).live).toBe(1);
    expect(await auditRows(w.owner.tenantId)).toHaveLength(1);
  });

  it('same key with a different body → 422 idempotency_key_reused, nothing written', async () => {
    const w = await world();
    const key = crypto.randomUUID();
    expect((await create(w.tokens.owner, { content: 'first' }, key)).status).toBe(201);
    await expectProblem(await create(w.tokens.owner, { content: 'second' }, key), 422, 'idempotency_key_reused');
    // Another user of the same tenant with the same key and body is a different request too.
    await expectProblem(await create(w.tokens.member, { content: 'first' }, key), 422, 'idempotency_key_reused');
    expect((await memoryCount(w.owner.tenantId)).live).toBe(1);
  });

  it('keys are per tenant: another tenant may use the same key', async () => {
    const w = await world();
    const key = 'shared-key-1';
    expect((await create(w.tokens.owner, { content: 'a' }, key)).status).toBe(201);
    const res = await create(w.tokens.other, { content: 'a' }, key);
    expect(res.status).toBe(201);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
    expect((await memoryCount(w.other.tenantId)).live).toBe(1);
  });

  it('concurrent duplicates write once and all get the same memory', async () => {
    const w = await world();
    await createMemory(w.tokens.owner); // warm
    const key = crypto.randomUUID();
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => create(w.tokens.owner, { content: 'race' }, key)),
    );
    const bodies = await Promise.all(
      responses.map(async (r) => ({
        status: r.status,
        replayed: r.headers.get('idempotent-replayed'),
        m: asMemory(await r.json()),
      })),
    );
    expect(bodies.every((b) => b.status === 201)).toBe(true);
    expect(new Set(bodies.map((b) => b.m.id)).size).toBe(1);
    expect(bodies.filter((b) => b.replayed === null)).toHaveLength(1);
    expect((await memoryCount(w.owner.tenantId)).live).toBe(2);
    expect((await auditRows(w.owner.tenantId)).filter((r) => r.action === 'memory.create')).toHaveLength(2);
  });

  it('batch replays its whole response in order', async () => {
    const w = await world();
    const key = crypto.randomUUID();
    const json = { memories: [{ content: 'b1' }, { content: 'b2' }, { content: 'b3' }] };
    const first = await call('/v1/memories/batch', {
      method: 'POST',
      token: w.tokens.owner,
      json,
      headers: { 'idempotency-key': key },
    });
    const again = await call('/v1/memories/batch', {
      method: 'POST',
      token: w.tokens.owner,
      json,
      headers: { 'idempotency-key': key },
    });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(asList(await again.json())).toEqual(asList(await first.json()));
    expect((await memoryCount(w.owner.tenantId)).live).toBe(3);
  });

  it('a failed request is not stored: the same key can be retried after fixing the cause', async () => {
    const w = await world();
    const m = await createMemory(w.tokens.owner, { tags: ['a'] });
    const key = crypto.randomUUID();
    const missing = 'mem_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3';
    await expectProblem(
      await call(`/v1/memories/${missing}/tags`, {
        method: 'POST',
        token: w.tokens.owner,
        json: { tags: ['b'] },
        headers: { 'idempotency-key': key },
      }),
      404,
      'not_found',
    );
    const ok = await call(`/v1/memories/${m.id}/tags`, {
      method: 'POST',
      token: w.tokens.owner,
      json: { tags: ['b'] },
      headers: { 'idempotency-key': key },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('idempotent-replayed')).toBeNull();
    const replay = await call(`/v1/memories/${m.id}/tags`, {
      method: 'POST',
      token: w.tokens.owner,
      json: { tags: ['b'] },
      headers: { 'idempotency-key': key },
    });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(asMemory(await replay.json())).toMatchObject({ tags: ['a', 'b'], version: 2 });
    expect((await auditRows(w.owner.tenantId, m.id)).map((r) => r.action)).toEqual([
      'memory.create',
      'memory.tags_add',
    ]);
  });

  it('restore replays too, and a malformed key is a 400', async () => {
    const w = await world();
    const m = await createMemory(w.tokens.owner);
    await call(`/v1/memories/${m.id}`, { method: 'DELETE', token: w.tokens.owner });
    const key = crypto.randomUUID();
    const first = await call(`/v1/memories/${m.id}/restore`, {
      method: 'POST',
      token: w.tokens.owner,
      headers: { 'idempotency-key': key },
    });
    expect(first.status).toBe(200);
    const again = await call(`/v1/memories/${m.id}/restore`, {
      method: 'POST',
      token: w.tokens.owner,
      headers: { 'idempotency-key': key },
    });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await auditRows(w.owner.tenantId, m.id)).map((r) => r.action)).toEqual([
      'memory.create',
      'memory.delete',
      'memory.restore',
    ]);
    const bad = await expectProblem(
      await create(w.tokens.owner, { content: 'x' }, 'has space'),
      400,
      'invalid_parameter',
    );
    expect(bad.errors![0]!.path).toBe('header.Idempotency-Key');
    await expectProblem(await create(w.tokens.owner, { content: 'x' }, 'k'.repeat(256)), 400, 'invalid_parameter');
  });
});
