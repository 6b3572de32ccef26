import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/lib/cursor';
import { CHANGE_FEED_RETENTION_MS } from '../../src/lib/limits';
import { runMaintenance } from '../../src/scheduled';
import { createTenant } from '../helpers/fixtures';
import { asMemory, call, createMemory, d1Stats, expectProblem, insertSession, world } from '../memories/helpers';

interface Change {
  seq: number;
  type: string;
  memory_id: string;
  occurred_at: string;
  memory: ReturnType<typeof asMemory> | null;
}
interface ChangePage {
  data: Change[];
  cursor: string;
  has_more: boolean;
}

async function page(token: string, after?: string, limit?: number): Promise<ChangePage> {
  const q = new URLSearchParams();
  if (after) q.set('after', after);
  if (limit) q.set('limit', String(limit));
  const res = await call(`/v1/changes?${q}`, { token });
  expect(res.status, await res.clone().text()).toBe(200);
  const body = (await res.json()) as ChangePage;
  for (const ch of body.data) if (ch.memory) asMemory(ch.memory);
  return body;
}

/** Every change from `after` on, walking the cursors; returns them and the last cursor. */
async function drain(token: string, after?: string, limit = 3) {
  const all: Change[] = [];
  let cursor = after;
  for (;;) {
    const p = await page(token, cursor, limit);
    all.push(...p.data);
    cursor = p.cursor;
    if (!p.has_more) return { all, cursor };
  }
}

const ok = async (res: Response, status = 200) => {
  expect(res.status, await res.clone().text()).toBe(status);
  return res;
};

describe('GET /v1/changes', () => {
  it('lists every change type in commit order, each with the state right after it', async () => {
    const w = await world();
    const t = w.tokens.owner;
    const m = await createMemory(t, { content: 'v1', tags: ['a'] });
    await ok(await call(`/v1/memories/${m.id}`, { method: 'PATCH', token: t, json: { content: 'v2' } }));
    await ok(await call(`/v1/memories/${m.id}/tags`, { method: 'POST', token: t, json: { tags: ['b'] } }));
    await ok(await call(`/v1/memories/${m.id}/tags/a`, { method: 'DELETE', token: t }));
    await ok(await call(`/v1/memories/${m.id}/versions/1/restore`, { method: 'POST', token: t }));
    await ok(await call(`/v1/memories/${m.id}`, { method: 'DELETE', token: t }), 204);
    await ok(await call(`/v1/memories/${m.id}/restore`, { method: 'POST', token: t }));
    await ok(await call(`/v1/memories/${m.id}?permanent=true`, { method: 'DELETE', token: t }), 204);
    const batch = await ok(
      await call('/v1/memories/batch', {
        method: 'POST',
        token: t,
        json: { memories: [{ content: 'x' }, { content: 'y' }] },
      }),
      201,
    );
    const [x, y] = ((await batch.json()) as { data: { id: string }[] }).data;
    await ok(
      await call('/v1/memories/bulk-delete', {
        method: 'POST',
        token: t,
        json: { filter: {}, mode: 'soft', all: true },
      }),
    );
    // expiry: the cron removes a memory whose expires_at passed (moved into the past, as time would)
    const e = await createMemory(t, { ttl_seconds: 3600 });
    await env.DB.prepare('UPDATE memories SET expires_at = ?2 WHERE id = ?1')
      .bind(e.id, Date.now() - 1)
      .run();
    await runMaintenance(env);

    const { all } = await drain(t);
    const types = all.map(
      (ch) =>
        `${ch.type}:${ch.memory_id === m.id ? 'm' : ch.memory_id === x!.id ? 'x' : ch.memory_id === y!.id ? 'y' : ch.memory_id === e.id ? 'e' : '?'}`,
    );
    expect(types).toEqual([
      'create:m',
      'update:m',
      'tags_add:m',
      'tag_remove:m',
      'version_restore:m',
      'delete:m',
      'restore:m',
      'purge:m',
      'create:x',
      'create:y',
      'delete:x',
      'delete:y',
      'create:e',
      'update:e', // the test moving expires_at into the past is itself a change
      'expire:e',
    ]);
    const seqs = all.map((ch) => ch.seq);
    expect(seqs).toEqual([...seqs].sort((p, q) => p - q));
    expect(new Set(seqs).size).toBe(seqs.length);
    // m was purged: its earlier entries stay, without values; tombstones have none either
    expect(all.filter((ch) => ch.memory_id === m.id).every((ch) => ch.memory === null)).toBe(true);
    expect(all.find((ch) => ch.type === 'expire')!.memory).toBeNull();
    // x is still there (soft-deleted): each entry holds the state right after its change
    const xs = all.filter((ch) => ch.memory_id === x!.id);
    expect(xs.map((ch) => [ch.memory!.version, ch.memory!.deleted_at === null])).toEqual([
      [1, true],
      [2, false],
    ]);
    expect(xs[0]!.memory!.content).toBe('x');
  });

  it('keeps the versions of one memory: each update entry shows that update', async () => {
    const w = await world();
    const m = await createMemory(w.tokens.owner, { content: 'one' });
    for (const content of ['two', 'three'])
      await ok(await call(`/v1/memories/${m.id}`, { method: 'PATCH', token: w.tokens.owner, json: { content } }));
    const { all } = await drain(w.tokens.owner);
    expect(all.map((ch) => [ch.type, ch.memory!.content, ch.memory!.version])).toEqual([
      ['create', 'one', 1],
      ['update', 'two', 2],
      ['update', 'three', 3],
    ]);
  });

  it('gives each change exactly once across pages and resumes from any cursor, also after an empty page', async () => {
    const w = await world();
    for (let i = 0; i < 7; i++) await createMemory(w.tokens.owner, { content: `m${i}` });
    const first = await drain(w.tokens.owner, undefined, 2);
    expect(first.all.map((ch) => ch.memory!.content)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    // an empty page still gives a cursor, and nothing is repeated from it
    const empty = await page(w.tokens.owner, first.cursor);
    expect(empty.data).toEqual([]);
    expect(empty.has_more).toBe(false);
    await createMemory(w.tokens.owner, { content: 'later' });
    const next = await page(w.tokens.owner, empty.cursor);
    expect(next.data.map((ch) => ch.memory!.content)).toEqual(['later']);
    // resuming from an earlier cursor replays exactly what came after it
    const mid = await page(w.tokens.owner, undefined, 3);
    const rest = await drain(w.tokens.owner, mid.cursor, 100);
    expect(rest.all.map((ch) => ch.memory!.content)).toEqual(['m3', 'm4', 'm5', 'm6', 'later']);
  });

  it('orders concurrent writes totally: each once, seq strictly increasing', async () => {
    const w = await world();
    const made = await Promise.all(
      Array.from({ length: 20 }, (_, i) => createMemory(w.tokens.owner, { content: `c${i}` })),
    );
    const { all } = await drain(w.tokens.owner, undefined, 7);
    expect(all.map((ch) => ch.memory_id).sort()).toEqual(made.map((m) => m.id).sort());
    for (let i = 1; i < all.length; i++) expect(all[i]!.seq).toBeGreaterThan(all[i - 1]!.seq);
  });

  it('shows only changes to memories the caller may see, and values only of memories it may see now', async () => {
    const w = await world();
    const mine = await createMemory(w.tokens.member, { content: 'member private', access_scope: 'private' });
    const shared = await createMemory(w.tokens.member, { content: 'global', access_scope: 'global' });
    const ses = await insertSession(w.member);
    await createMemory(w.tokens.member, { content: 'in session', session_id: ses, access_scope: 'session' });
    const other = await createMemory(w.tokens.other, { content: 'other tenant' });
    await ok(await call(`/v1/memories/${mine.id}?permanent=true`, { method: 'DELETE', token: w.tokens.owner }), 404);
    // the owner sees the global one only; the member also its private one; tenant B none of them
    expect((await drain(w.tokens.owner)).all.map((ch) => ch.memory_id)).toEqual([shared.id]);
    expect((await drain(w.tokens.member)).all.map((ch) => ch.memory_id)).toEqual([mine.id, shared.id]);
    expect((await drain(w.tokens.other)).all.map((ch) => ch.memory_id)).toEqual([other.id]);
    // a global memory made private by its author drops out of the owner's feed
    await ok(
      await call(`/v1/memories/${shared.id}`, {
        method: 'PATCH',
        token: w.tokens.member,
        json: { access_scope: 'private' },
      }),
    );
    expect((await drain(w.tokens.owner)).all).toEqual([]);
    // the member's private memory purged by bulk purge (owner): the member sees the tombstone, the owner not
    await ok(
      await call('/v1/memories/bulk-delete', {
        method: 'POST',
        token: w.tokens.owner,
        json: { filter: {}, mode: 'purge', all: true },
      }),
    );
    const member = (await drain(w.tokens.member)).all;
    expect(
      member
        .filter((ch) => ch.type === 'purge')
        .map((ch) => ch.memory_id)
        .sort(),
    ).toEqual([mine.id, shared.id].sort());
    expect(member.every((ch) => ch.memory === null)).toBe(true);
    expect((await drain(w.tokens.owner)).all).toEqual([]);
  });

  it('lists imported memories as import', async () => {
    const src = await createTenant();
    const srcToken = await src.owner.token();
    // Global: the source's owner arrives as a person who has not joined, their private memories theirs.
    await createMemory(srcToken, { content: 'exported', access_scope: 'global' });
    const exported = await (await ok(await call('/v1/export', { token: srcToken }))).text();
    const dst = await createTenant();
    const token = await dst.owner.token();
    await ok(
      await call('/v1/import', {
        method: 'POST',
        token,
        body: exported,
        headers: { 'content-type': 'application/x-ndjson' },
      }),
    );
    const { all } = await drain(token);
    expect(all.map((ch) => [ch.type, ch.memory?.content])).toEqual([['import', 'exported']]);
  });

  it('refuses forged cursors and cursors of another caller or tenant (400), and old ones (410)', async () => {
    const w = await world();
    await createMemory(w.tokens.owner);
    const p = await page(w.tokens.owner);
    await expectProblem(await call(`/v1/changes?after=${p.cursor}`, { token: w.tokens.other }), 400, 'invalid_cursor');
    await expectProblem(await call(`/v1/changes?after=${p.cursor}`, { token: w.tokens.member }), 400, 'invalid_cursor');
    const [body, sig] = p.cursor.split('.');
    await expectProblem(
      await call(`/v1/changes?after=${body}.${sig!.slice(1)}A`, { token: w.tokens.owner }),
      400,
      'invalid_cursor',
    );
    await expectProblem(await call('/v1/changes?after=nonsense', { token: w.tokens.owner }), 400, 'invalid_cursor');
    // a correctly signed cursor naming another tenant (the binding is the subject's) is refused too
    const binding = JSON.stringify([w.owner.sub, 'listChanges', []]);
    const foreign = await encodeCursor(env, binding, [0, Date.now(), 'tnt_someone_else']);
    await expectProblem(await call(`/v1/changes?after=${foreign}`, { token: w.tokens.owner }), 400, 'invalid_cursor');
    const old = await encodeCursor(env, binding, [1, Date.now() - CHANGE_FEED_RETENTION_MS - 1000, w.a.tenant.id]);
    const gone = await expectProblem(
      await call(`/v1/changes?after=${old}`, { token: w.tokens.owner }),
      410,
      'cursor_expired',
    );
    expect(gone.detail).toContain('export');
  });

  it('is one D1 round trip and writes nothing', async () => {
    const w = await world();
    await createMemory(w.tokens.owner);
    const res = await call('/v1/changes', { token: w.tokens.owner });
    expect(res.status).toBe(200);
    expect(d1Stats(res)).toMatchObject({ roundTrips: 1, rowsWritten: 0 });
  });

  it('is pruned by the cron after the retention period and erased with its tenant', async () => {
    const w = await world();
    const m = await createMemory(w.tokens.owner);
    const now = Date.now();
    await env.DB.prepare('UPDATE memory_changes SET occurred_at = ?2 WHERE memory_id = ?1')
      .bind(m.id, now - CHANGE_FEED_RETENTION_MS - 1)
      .run();
    const report = await runMaintenance(env, { now });
    expect(report.changes_pruned).toBeGreaterThanOrEqual(1);
    expect((await drain(w.tokens.owner)).all).toEqual([]);
    await createMemory(w.tokens.owner);
    await env.DB.prepare('UPDATE tenants SET deleted_at = 1 WHERE id = ?1').bind(w.a.tenant.id).run();
    await runMaintenance(env, { now });
    const left = await env.DB.prepare('SELECT count(*) AS n FROM memory_changes WHERE tenant_id = ?1')
      .bind(w.a.tenant.id)
      .first<{ n: number }>();
    expect(left!.n).toBe(0);
  });
});
