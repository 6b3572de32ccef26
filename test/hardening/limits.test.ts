import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { cursorBinding, encodeCursor } from '../../src/lib/cursor';
import { MAX_BODY_BYTES, PAGE_LIMIT_MAX } from '../../src/lib/limits';
import { createTenant } from '../helpers/fixtures';
import { appWithTestRoutes } from './test-app';

const app = appWithTestRoutes();
const send = (path: string, init: RequestInit & { token: string }) =>
  app.request(
    path,
    { ...init, headers: { authorization: `Bearer ${init.token}`, ...(init.headers as Record<string, string>) } },
    env,
  );

async function expectProblem(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const body = await res.json<Record<string, unknown>>();
  expect(body).toMatchObject({ status, code });
  return body;
}

async function owner() {
  const t = await createTenant('Before');
  const token = await t.owner.token();
  const stored = async () => ({
    name: (await env.DB.prepare('SELECT name FROM tenants WHERE id = ?1').bind(t.tenant.id).first<{ name: string }>())!
      .name,
    audits: (await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM audit_logs WHERE tenant_id = ?1 AND action = 'tenant.rename'",
    )
      .bind(t.tenant.id)
      .first<{ n: number }>())!.n,
  });
  return { ...t, token, stored };
}

const json = { 'content-type': 'application/json' };

describe('request bodies', () => {
  it(`refuses a body over ${MAX_BODY_BYTES} bytes with 413, declared or streamed, and writes nothing`, async () => {
    const { token, stored } = await owner();
    const big = JSON.stringify({ name: 'x'.repeat(MAX_BODY_BYTES) });
    await expectProblem(
      await send('/v1/test-rename', { method: 'POST', token, headers: json, body: big }),
      413,
      'payload_too_large',
    );
    // Without Content-Length (chunked): counted while streaming.
    const stream = new Blob([big]).stream();
    await expectProblem(
      await send('/v1/test-rename', {
        method: 'POST',
        token,
        headers: json,
        body: stream,
        duplex: 'half',
      } as RequestInit & { token: string }),
      413,
      'payload_too_large',
    );
    expect(await stored()).toEqual({ name: 'Before', audits: 0 });
  });

  it('accepts a body just under the limit up to validation (422, not 413)', async () => {
    const { token } = await owner();
    const body = JSON.stringify({ name: 'x'.repeat(MAX_BODY_BYTES - 20) });
    expect(body.length).toBeLessThanOrEqual(MAX_BODY_BYTES);
    await expectProblem(
      await send('/v1/test-rename', { method: 'POST', token, headers: json, body }),
      422,
      'validation_failed',
    );
  });

  it('refuses a non-JSON content type with 415, and a body with no content type', async () => {
    const { token, stored } = await owner();
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonp',
      'application/xml',
    ]) {
      await expectProblem(
        await send('/v1/test-rename', {
          method: 'POST',
          token,
          headers: { 'content-type': type },
          body: '{"name":"After"}',
        }),
        415,
        'unsupported_media_type',
      );
    }
    await expectProblem(
      await send('/v1/test-rename', { method: 'POST', token, body: new TextEncoder().encode('{"name":"After"}') }),
      415,
      'unsupported_media_type',
    );
    expect(await stored()).toEqual({ name: 'Before', audits: 0 });
    // JSON with parameters or a +json suffix is JSON.
    const ok = await send('/v1/test-rename', {
      method: 'POST',
      token,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"name":"After"}',
    });
    expect(ok.status).toBe(200);
  });

  it('refuses malformed JSON with 400 and a wrong JSON shape with 422', async () => {
    const { token, stored } = await owner();
    for (const body of ['{', '{"name":', "{'name':'x'}", '{"name":"x"}}', 'nul', '\u0000', '{"name":"x",}']) {
      await expectProblem(
        await send('/v1/test-rename', { method: 'POST', token, headers: json, body }),
        400,
        'malformed_json',
      );
    }
    for (const body of ['[]', '"name"', '42', 'null', '{"name":42}', '{"name":""}', '{"name":["a"]}', '{}']) {
      const problem = await expectProblem(
        await send('/v1/test-rename', { method: 'POST', token, headers: json, body }),
        422,
        'validation_failed',
      );
      expect((problem.errors as unknown[]).length).toBeGreaterThan(0);
    }
    expect(await stored()).toEqual({ name: 'Before', audits: 0 });
  });

  it('survives deeply nested JSON without a 5xx', async () => {
    const { token } = await owner();
    for (const depth of [1_000, 100_000]) {
      const body = `{"name":"x","deep":${'['.repeat(depth)}${']'.repeat(depth)}}`;
      const res = await send('/v1/test-rename', { method: 'POST', token, headers: json, body });
      expect(res.status, `depth ${depth}`).toBeLessThan(500);
    }
  });
});

describe('lists: limit and cursors', () => {
  it(`refuses limit outside 1–${PAGE_LIMIT_MAX} with 400 naming the parameter`, async () => {
    const { token } = await owner();
    for (const limit of [String(PAGE_LIMIT_MAX + 1), '0', '-1', '1.5', 'abc', '1e9', '']) {
      const problem = await expectProblem(
        await send(`/v1/test-audit?limit=${encodeURIComponent(limit)}`, { token }),
        400,
        'invalid_parameter',
      );
      expect(JSON.stringify(problem.errors)).toContain('query.limit');
    }
    expect((await send(`/v1/test-audit?limit=${PAGE_LIMIT_MAX}`, { token })).status).toBe(200);
  });

  it('pages with a signed cursor, and refuses a cursor forged, edited, or from another tenant or query', async () => {
    const a = await owner();
    for (const name of ['one', 'two', 'three']) {
      expect(
        (
          await send('/v1/test-rename', {
            method: 'POST',
            token: a.token,
            headers: json,
            body: JSON.stringify({ name }),
          })
        ).status,
      ).toBe(200);
    }
    const first = await (await send('/v1/test-audit?limit=2', { token: a.token })).json<{
      data: unknown[];
      next_cursor: string;
    }>();
    expect(first.data).toHaveLength(2);
    const second = await send(`/v1/test-audit?limit=2&cursor=${first.next_cursor}`, { token: a.token });
    expect(second.status).toBe(200);
    expect((await second.json<{ data: unknown[] }>()).data.length).toBeGreaterThan(0);

    const [payload, sig] = first.next_cursor.split('.') as [string, string];
    const flip = (s: string) => (s[5] === 'A' ? 'B' : 'A') + s.slice(1, 5) + s.slice(6);
    const b = await owner();
    const forged = {
      garbage: 'not-a-cursor',
      unsigned: payload,
      editedPayload: `${flip(payload)}.${sig}`,
      editedSignature: `${payload}.${flip(sig)}`,
      extraPart: `${first.next_cursor}.x`,
      badBase64: '@@@.@@@',
      wrongKey: `${payload}.${btoa('x'.repeat(32)).replace(/=+$/, '')}`,
      otherQuery: await encodeCursor(env, cursorBinding(a.owner.sub, 'testListAudit', { action: 'tenant.rename' }), [
        '',
      ]),
      otherOperation: await encodeCursor(env, cursorBinding(a.owner.sub, 'listMemories', {}), ['']),
    };
    for (const [name, cursor] of Object.entries(forged)) {
      const res = await send(`/v1/test-audit?limit=2&cursor=${encodeURIComponent(cursor)}`, { token: a.token });
      expect(res.status, name).toBe(400);
      expect(await res.json(), name).toMatchObject({
        code: name === 'badBase64' || name === 'garbage' ? expect.any(String) : 'invalid_cursor',
      });
    }
    // Tenant A's own, valid cursor is refused for tenant B (bound to A's subject).
    await expectProblem(
      await send(`/v1/test-audit?limit=2&cursor=${first.next_cursor}`, { token: b.token }),
      400,
      'invalid_cursor',
    );
    // ...and for the same caller under other filters.
    await expectProblem(
      await send(`/v1/test-audit?limit=2&action=x&cursor=${first.next_cursor}`, { token: a.token }),
      400,
      'invalid_cursor',
    );
  });
});
