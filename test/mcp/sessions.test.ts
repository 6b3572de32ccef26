// /mcp inside workerd against real D1: what the e2e suite cannot reach cheaply — idle expiry,
// header rules and the D1 cost of a tool call. (The SDK client over real HTTP: test/e2e/mcp.test.ts.)
import { env } from 'cloudflare:test';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { createTenant } from '../helpers/fixtures';
import { call } from '../helpers/http';
import { auditActions, roundTrips } from '../sessions/helpers';
import { initialize, rpc } from './helpers';

describe('/mcp sessions and transport rules', () => {
  it('a session idle past the timeout is expired by its next request, which gets 404', async () => {
    const { owner, tenant } = await createTenant();
    const token = await owner.token();
    const sessionId = await initialize(token);
    const row = await env.DB.prepare('SELECT mcp_client_id, metadata FROM sessions WHERE id = ?1')
      .bind(sessionId)
      .first<{ mcp_client_id: string; metadata: string }>();
    expect(row?.mcp_client_id).toBe('cursor');
    expect(JSON.parse(row!.metadata)).toMatchObject({
      client_version: '0.9',
      protocol_version: LATEST_PROTOCOL_VERSION,
    });

    const twoHoursAgo = Date.now() - 2 * 3600_000;
    await env.DB.prepare('UPDATE sessions SET created_at = ?2, last_activity_at = ?2 WHERE id = ?1')
      .bind(sessionId, twoHoursAgo)
      .run();
    const res = await rpc(token, sessionId, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32001);
    const expired = await env.DB.prepare('SELECT expired_at FROM sessions WHERE id = ?1')
      .bind(sessionId)
      .first<{ expired_at: number | null }>();
    expect(expired?.expired_at).toEqual(expect.any(Number));
    expect(await auditActions(tenant.id, sessionId)).toEqual(['session.create', 'session.expire']);
  });

  it('asks for Mcp-Session-Id after initialize, refuses foreign origins, has no GET stream', async () => {
    const { owner } = await createTenant();
    const token = await owner.token();
    const missing = await rpc(token, null, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(missing.status).toBe(400);
    const garbled = await rpc(token, 'ses_nope', { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(garbled.status).toBe(404);

    const sessionId = await initialize(token);
    const foreign = await rpc(
      token,
      sessionId,
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      {
        origin: 'https://evil.example',
      },
    );
    expect(foreign.status).toBe(403);
    const get = await call('/mcp', { token, headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId } });
    expect(get.status).toBe(405);
    const parse = await call('/mcp', {
      method: 'POST',
      token,
      headers: {
        accept: 'application/json, text/event-stream',
        'content-type': 'application/json',
        'mcp-session-id': sessionId,
      },
      body: '{"jsonrpc": ',
    });
    expect(parse.status).toBe(400);
    expect(((await parse.json()) as { error: { code: number } }).error.code).toBe(-32700);
  });

  it('a tool call costs two D1 round trips (the heartbeat and the operation) and is audited as MCP', async () => {
    const { owner } = await createTenant();
    const token = await owner.token();
    const sessionId = await initialize(token);
    const created = await rpc(token, sessionId, {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'remember', arguments: { content: 'warm the tenant cache' } },
    });
    const memory = JSON.parse(
      ((await created.json()) as { result: { content: { text: string }[] } }).result.content[0]!.text,
    ) as { id: string };
    const res = await rpc(token, sessionId, {
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'get_memory', arguments: { id: memory.id } },
    });
    expect(res.status).toBe(200);
    expect(roundTrips(res)).toBe(2);

    // Its audit row names the session and the MCP request; a REST client cannot claim such an id.
    const audit = await env.DB.prepare(
      "SELECT request_id FROM audit_logs WHERE resource_id = ?1 AND action = 'memory.create'",
    )
      .bind(memory.id)
      .first<{ request_id: string }>();
    expect(audit?.request_id).toBe(`mcp:${sessionId}:${created.headers.get('x-request-id')}`);
    const forged = await call('/v1/memories', {
      method: 'POST',
      token,
      headers: { 'x-request-id': `mcp:${sessionId}:req_forged` },
      json: { content: 'from REST' },
    });
    expect(forged.status).toBe(201);
    expect(forged.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('counts each MCP request once against the rate limit (each tool call of a batch on its own)', async () => {
    const { owner } = await createTenant();
    const token = await owner.token();
    const remaining = (res: Response) => Number(/;r=(\d+)/.exec(res.headers.get('ratelimit') ?? '')?.[1]);
    const sessionId = await initialize(token);
    const get = (id: number) => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'list_memories', arguments: { limit: 1 } },
    });
    const first = await rpc(token, sessionId, get(1));
    const second = await rpc(token, sessionId, get(2));
    expect(first.headers.get('ratelimit-policy')).toMatch(/^"default";q=\d+;w=60$/);
    expect(remaining(first) - remaining(second)).toBe(1);
    // A JSON-RPC batch (older protocol versions): the heartbeat, then each call.
    await rpc(token, sessionId, [get(3), get(4)]);
    const after = await rpc(token, sessionId, get(5));
    expect(remaining(second) - remaining(after)).toBe(4);
  });
});
