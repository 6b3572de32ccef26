import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids';
import { createTenant } from '../helpers/fixtures';
import { mintToken } from '../helpers/tokens';
import { asSearchPage, call, createMemory, d1Stats, memoryCount } from './helpers';

describe('the subject → tenant cache behind one-round-trip writes and searches', () => {
  it('hot endpoints take one D1 round trip once the caller is known, and reads write nothing', async () => {
    const { owner } = await createTenant();
    const token = await owner.token();
    await call('/v1/me', { token });
    const m = await createMemory(token, { content: 'warm cache', tags: ['t'] });
    const checks: [string, RequestInit & { json?: unknown }, boolean][] = [
      [`/v1/memories/${m.id}`, {}, true],
      ['/v1/memories', {}, true],
      ['/v1/memories/search?q=warm', {}, true],
      ['/v1/memories', { method: 'POST', json: { content: 'x' } }, false],
      [`/v1/memories/${m.id}`, { method: 'PATCH', json: { content: 'y', tags: ['u'] } }, false],
      [`/v1/memories/${m.id}/tags`, { method: 'POST', json: { tags: ['v'] } }, false],
      [`/v1/memories/${m.id}/tags/v`, { method: 'DELETE' }, false],
      [`/v1/memories/${m.id}`, { method: 'DELETE' }, false],
      [`/v1/memories/${m.id}/restore`, { method: 'POST' }, false],
    ];
    for (const [path, init, isRead] of checks) {
      const res = await call(path, { ...init, token });
      expect(res.status, `${init.method ?? 'GET'} ${path}`).toBeLessThan(300);
      const stats = d1Stats(res);
      expect(stats.roundTrips, `${init.method ?? 'GET'} ${path}`).toBe(1);
      if (isRead) expect(stats.rowsWritten).toBe(0);
      else expect(stats.rowsWritten).toBeGreaterThan(0);
    }
  });

  it("a subject that moved to another tenant writes there, with that tenant's search text", async () => {
    const a = await createTenant('Old home');
    const b = await createTenant('New home');
    const token = await a.owner.token();
    await createMemory(token, { content: 'before the move' }); // caches subject → tenant A
    // The subject's user leaves A and joins B (as the users API would do it).
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare('UPDATE users SET deleted_at = ?2 WHERE id = ?1').bind(a.owner.id, now),
      env.DB.prepare(
        'INSERT INTO users (id, tenant_id, auth0_id, email, role, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)',
      ).bind(newId('usr'), b.tenant.id, a.owner.sub, 'moved@example.com', 'member', now),
    ]);
    const res = await call('/v1/memories', {
      method: 'POST',
      token,
      json: { content: 'after the move', access_scope: 'global' },
    });
    expect(res.status).toBe(201);
    expect(d1Stats(res).roundTrips).toBe(2); // the stale guess wrote nothing, then the retry
    expect((await memoryCount(a.tenant.id)).live).toBe(1);
    expect((await memoryCount(b.tenant.id)).live).toBe(1);
    const found = asSearchPage(
      await (await call('/v1/memories/search?q=move', { token: await mintToken({ sub: b.owner.sub }) })).json(),
    );
    expect(found.data.map((h) => h.content)).toEqual(['after the move']);
  });
});
