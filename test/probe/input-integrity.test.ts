// Input is stored as sent or refused, by one rule for every JSON body: a `__proto__` key, a lone
// UTF-16 surrogate or a NUL anywhere is a 422 naming the field; media types parse as RFC 9110 says.
import { describe, expect, it } from 'vitest';
import { call, expectProblem, world } from '../memories/helpers';

const raw = (path: string, token: string, method: string, body: string, type = 'application/json') =>
  call(path, { method, token, body, headers: { 'content-type': type } });

describe('one rule for what a JSON body may hold', () => {
  it('refuses a __proto__ key in metadata instead of dropping it', async () => {
    const w = await world();
    const res = await raw(
      '/v1/memories',
      w.tokens.owner,
      'POST',
      '{"content":"x","metadata":{"__proto__":{"a":1},"b":2}}',
    );
    const body = await expectProblem(res, 422, 'validation_failed');
    expect(body.errors).toContainEqual(expect.objectContaining({ path: 'json.metadata.__proto__' }));
  });

  it('refuses a lone surrogate in a session client id and in a tenant name, as memories do', async () => {
    const w = await world();
    const session = await raw('/v1/sessions', w.tokens.owner, 'POST', '{"mcp_client_id":"a\\ud800b"}');
    const s = await expectProblem(session, 422, 'validation_failed');
    expect(s.errors).toContainEqual({
      path: 'json.mcp_client_id',
      message: 'must be valid Unicode (no lone surrogates)',
    });
    const tenant = await raw('/v1/tenant', w.tokens.owner, 'PATCH', '{"name":"\\udc00x"}');
    const t = await expectProblem(tenant, 422, 'validation_failed');
    expect(t.errors).toContainEqual({ path: 'json.name', message: 'must be valid Unicode (no lone surrogates)' });
    const memory = await raw('/v1/memories', w.tokens.owner, 'POST', '{"content":"a\\ud800b"}');
    const m = await expectProblem(memory, 422, 'validation_failed');
    expect(m.errors).toContainEqual({ path: 'json.content', message: 'must be valid Unicode (no lone surrogates)' });
  });

  it('import lines follow the same rule', async () => {
    const w = await world();
    const line =
      '{"type":"memory","data":{"id":"mem_01J9Z3Q4W5E6R7T8Y9V0A1B2C3","user_id":null,"session_id":null,"content":"x","tags":[],' +
      '"metadata":{"__proto__":{"a":1}},"importance":5,"access_scope":"global","source":null,"embedding":null,"version":1,' +
      '"created_at":"2026-01-05T09:30:00.000Z","updated_at":"2026-01-05T09:30:00.000Z","deleted_at":null}}';
    const res = await raw('/v1/import', w.tokens.owner, 'POST', line, 'application/x-ndjson ; charset=utf-8');
    const body = await expectProblem(res, 422, 'import_invalid');
    expect(body.errors).toEqual([
      { path: 'line 1', message: 'data.metadata.__proto__ the key __proto__ is not accepted' },
    ]);
  });

  it('accepts the media types RFC 9110 allows, and refuses the others', async () => {
    const w = await world();
    for (const type of ['application/json;', 'application/json ; charset=utf-8', 'Application/JSON;charset="UTF-8"']) {
      const res = await raw('/v1/memories', w.tokens.owner, 'POST', '{"content":"typed"}', type);
      expect(res.status, `${type}: ${await res.clone().text()}`).toBe(201);
    }
    for (const type of ['application/jsonx', 'text/plain', 'application/json; charset', 'application /json']) {
      const res = await raw('/v1/memories', w.tokens.owner, 'POST', '{"content":"typed"}', type);
      await expectProblem(res, 415, 'unsupported_media_type');
    }
  });
});
