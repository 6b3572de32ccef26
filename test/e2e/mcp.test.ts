// /mcp against the real Worker (wrangler dev, local D1 with every migration) with the official MCP
// SDK client and its Streamable HTTP transport: sessions (also across two Worker processes),
// authorization, every tool, idempotency, audit, tenant isolation and session-scoped memories.
import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, ISSUER, startWorker, type Worker } from './harness';

let worker: Worker;
const opened: StreamableHTTPClientTransport[] = [];

interface Tenant {
  sub: string;
  token: string;
}
let alice: Tenant;
let bob: Tenant;

async function provision(name: string): Promise<Tenant> {
  const sub = `auth0|mcp-${randomUUID()}`;
  const token = await worker.token(sub);
  const res = await fetch(`${worker.baseUrl}/v1/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, email: `${name.toLowerCase()}@mcp.test` }),
  });
  expect(res.status).toBe(201);
  return { sub, token };
}

async function connect(token: string, clientName = 'e2e-host') {
  const client = new Client({ name: clientName, version: '1.2.3' });
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', worker.baseUrl), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  opened.push(transport);
  await client.connect(transport);
  const sessionId = transport.sessionId;
  if (!sessionId) throw new Error('no Mcp-Session-Id');
  return { client, transport, sessionId };
}

type Session = Awaited<ReturnType<typeof connect>>;

/** Calls a tool and returns its isError flag and its JSON text. */
async function call(s: Session, name: string, args: Record<string, unknown>) {
  const result = await s.client.callTool({ name, arguments: args });
  const text = (result.content as { type: string; text: string }[])[0]!.text;
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { isError: result.isError === true, body: body as Record<string, unknown> & { data?: unknown[] } };
}

const rest = async (token: string, path: string) => {
  const res = await fetch(`${worker.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { data: unknown[] } };
};

/** A raw JSON-RPC POST, as a host would send it (for retries and foreign session ids). */
const rawPost = (token: string, sessionId: string, message: unknown) =>
  fetch(`${worker.baseUrl}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': sessionId,
      'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
    },
    body: JSON.stringify(message),
  });

beforeAll(async () => {
  worker = await startWorker();
  alice = await provision('Alice');
  bob = await provision('Bob');
}, 180_000);
afterAll(async () => {
  for (const t of opened) await t.close().catch(() => {});
  await worker?.stop();
});

describe('MCP over Streamable HTTP', { timeout: 60_000 }, () => {
  it('answers 401 without a token, naming the protected-resource metadata (RFC 9728)', async () => {
    const res = await fetch(`${worker.baseUrl}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    const metadataUrl = `${worker.baseUrl}/.well-known/oauth-protected-resource`;
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain(`resource_metadata="${metadataUrl}"`);

    const doc = (await (await fetch(metadataUrl)).json()) as Record<string, unknown>;
    expect(doc.resource).toBe(`${worker.baseUrl}/mcp`);
    expect(doc.authorization_servers).toEqual([ISSUER]);
    expect(doc.scopes_supported).toEqual(ALL_SCOPES);
    expect(doc.bearer_methods_supported).toEqual(['header']);
    // The same document where RFC 9728 derives it from the resource URL.
    const suffixed = await fetch(`${worker.baseUrl}/.well-known/oauth-protected-resource/mcp`);
    expect(await suffixed.json()).toEqual(doc);

    // The SDK client gets the 401 too (a forged token as well).
    const forged = new StreamableHTTPClientTransport(new URL('/mcp', worker.baseUrl), {
      requestInit: { headers: { authorization: 'Bearer not.a.token' } },
    });
    await expect(new Client({ name: 'x', version: '1' }).connect(forged)).rejects.toThrow(/401|Unauthorized/);
  });

  it('initialize opens a session row: mcp_client_id = clientInfo.name, version and protocol in metadata', async () => {
    const s = await connect(alice.token, 'claude-desktop-e2e');
    expect(s.sessionId).toMatch(/^ses_[0-9A-Z]{26}$/);
    expect(s.client.getServerVersion()?.name).toBe('memoria');
    expect(s.client.getServerCapabilities()?.tools).toBeDefined();
    expect(s.client.getInstructions()).toMatch(/recall/);
    const { status, body } = await rest(alice.token, `/v1/sessions/${s.sessionId}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      mcp_client_id: 'claude-desktop-e2e',
      status: 'active',
      metadata: { client_version: '1.2.3', protocol_version: s.transport.protocolVersion },
    });
    expect(s.transport.protocolVersion).toBe(LATEST_PROTOCOL_VERSION);
  });

  it('tools/list: the seven tools, each input schema valid JSON Schema 2020-12 and derived from the REST schema', async () => {
    const s = await connect(alice.token);
    const { tools } = await s.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(
      ['forget', 'get_memory', 'list_memories', 'recall', 'remember', 'tag_memory', 'update_memory'].sort(),
    );
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(ajv);
    for (const tool of tools) {
      expect(ajv.validateSchema(tool.inputSchema), `${tool.name}: ${ajv.errorsText()}`).toBe(true);
      expect(() => ajv.compile(tool.inputSchema), tool.name).not.toThrow();
      expect(tool.description?.length).toBeGreaterThan(80);
    }
    // One definition: the tool's fields are the published operation's.
    const spec = (await (await fetch(`${worker.baseUrl}/openapi.json`)).json()) as {
      components: { schemas: Record<string, { properties: Record<string, { maxLength?: number }> }> };
    };
    const remember = tools.find((t) => t.name === 'remember')!;
    const props = remember.inputSchema.properties as Record<string, { maxLength?: number; description?: string }>;
    expect(props.content!.maxLength).toBe(spec.components.schemas.CreateMemory!.properties.content!.maxLength);
    expect(remember.inputSchema.required).toEqual(['content']);
    expect(Object.keys(props)).not.toContain('session_id');
    const validate = ajv.compile(remember.inputSchema);
    expect(validate({ content: 'x', importance: 11 })).toBe(false);
    expect(validate({ content: 'x', tags: ['a'], importance: 3 })).toBe(true);
    const recall = tools.find((t) => t.name === 'recall')!;
    expect(recall.inputSchema.required).toEqual(['q']);
    expect(recall.annotations?.readOnlyHint).toBe(true);
    expect(tools.find((t) => t.name === 'forget')!.annotations).toMatchObject({
      readOnlyHint: false,
      destructiveHint: true,
    });
  });

  it('every tool, through the REST operations: remember, recall, get, list, update, tag, forget — audited as MCP', async () => {
    const s = await connect(alice.token);
    const tag = `t-${randomUUID().slice(0, 8)}`;
    const created = await call(s, 'remember', {
      content: 'Alice prefers aubergine lasagne on Fridays',
      tags: [tag],
      importance: 6,
      access_scope: 'global',
      metadata: { meal: 'dinner' },
    });
    expect(created.isError).toBe(false);
    const id = created.body.id as string;
    expect(id).toMatch(/^mem_/);
    expect(created.body).toMatchObject({ session_id: s.sessionId, access_scope: 'global', version: 1 });

    const recalled = await call(s, 'recall', { q: 'aubergine lasagne', tag: [tag] });
    expect(recalled.isError).toBe(false);
    expect((recalled.body.data as { id: string; snippet: string }[]).map((m) => m.id)).toEqual([id]);
    expect((recalled.body.data as { snippet: string }[])[0]!.snippet).toContain('<mark>aubergine</mark>');

    expect((await call(s, 'get_memory', { id })).body).toMatchObject({
      id,
      content: expect.stringContaining('Fridays'),
    });
    const listed = await call(s, 'list_memories', { tag: [tag], limit: 5, metadata: { meal: 'dinner' } });
    expect((listed.body.data as { id: string }[]).map((m) => m.id)).toEqual([id]);
    expect((await call(s, 'list_memories', { tag: [tag], metadata: { meal: 'lunch' } })).body.data).toEqual([]);

    const updated = await call(s, 'update_memory', { id, importance: 9 });
    expect(updated.body).toMatchObject({ id, importance: 9, version: 2 });
    const tagged = await call(s, 'tag_memory', { id, tags: ['food', tag] });
    expect(tagged.body.tags).toEqual([tag, 'food']);

    const forgotten = await call(s, 'forget', { id });
    expect(forgotten.isError).toBe(false);
    expect((await call(s, 'get_memory', { id })).body.deleted_at).toEqual(expect.any(String));
    expect((await call(s, 'recall', { q: 'aubergine', tag: [tag] })).body.data).toEqual([]);

    // The audit trail names the session and the MCP channel on every change.
    const audit = await rest(alice.token, `/v1/audit-logs?resource_id=${id}`);
    const rows = audit.body.data as { action: string; request_id: string }[];
    expect(rows.map((r) => r.action).sort()).toEqual(
      ['memory.create', 'memory.delete', 'memory.tags_add', 'memory.update'].sort(),
    );
    for (const row of rows) expect(row.request_id).toMatch(new RegExp(`^mcp:${s.sessionId}:`));
    // Each MCP request was the session's heartbeat.
    const session = await rest(alice.token, `/v1/sessions/${s.sessionId}`);
    expect(Date.parse(session.body.last_activity_at as string)).toBeGreaterThan(
      Date.parse(session.body.created_at as string) - 1,
    );
    const beats = await rest(
      alice.token,
      `/v1/audit-logs?resource_id=${s.sessionId}&action=session.heartbeat&limit=100`,
    );
    expect(beats.body.data.length).toBeGreaterThanOrEqual(10);
  });

  it('a retried tools/call (same JSON-RPC id, same session) creates once', async () => {
    const s = await connect(alice.token);
    const tag = `retry-${randomUUID().slice(0, 8)}`;
    const message = {
      jsonrpc: '2.0',
      id: 4242,
      method: 'tools/call',
      params: { name: 'remember', arguments: { content: 'sent twice', tags: [tag] } },
    };
    const first = (await (await rawPost(alice.token, s.sessionId, message)).json()) as {
      result: { content: { text: string }[] };
    };
    const second = (await (await rawPost(alice.token, s.sessionId, message)).json()) as typeof first;
    const a = JSON.parse(first.result.content[0]!.text) as { id: string };
    const b = JSON.parse(second.result.content[0]!.text) as { id: string };
    expect(b.id).toBe(a.id);
    expect((await rest(alice.token, `/v1/memories?tag=${tag}`)).body.data).toHaveLength(1);
    // Another id is another call.
    await rawPost(alice.token, s.sessionId, { ...message, id: 4243 });
    expect((await rest(alice.token, `/v1/memories?tag=${tag}`)).body.data).toHaveLength(2);
  });

  it('refusals are tool results with isError and the problem code; malformed calls are JSON-RPC errors', async () => {
    // A token of the same user without write:memories.
    const narrow = await worker.token(alice.sub, ['read:memories', 'write:sessions']);
    const s = await connect(narrow);
    const refused = await call(s, 'remember', { content: 'not allowed' });
    expect(refused.isError).toBe(true);
    expect(refused.body).toMatchObject({ status: 403, code: 'insufficient_scope' });
    expect(refused.body.detail).toContain('write:memories');

    const invalid = await call(s, 'recall', { q: '' });
    expect(invalid).toMatchObject({ isError: true, body: { status: 400, code: 'invalid_parameter' } });

    await expect(s.client.callTool({ name: 'no_such_tool', arguments: {} })).rejects.toThrow(/-32602|Unknown tool/);
    await expect(s.client.callTool({ name: 'get_memory', arguments: { id: 'mem_x', sneaky: 1 } })).rejects.toThrow(
      /no argument sneaky/,
    );

    // Without write:sessions there is no session: 403 at initialize, naming the scope.
    const noSessions = await worker.token(alice.sub, ['read:memories']);
    const res = await fetch(`${worker.baseUrl}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${noSessions}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'x', version: '1' } },
      }),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('scope="write:sessions"');
  });

  it('isolates tenants: another tenant neither sees the memory nor can use the session', async () => {
    const a = await connect(alice.token);
    const { body } = await call(a, 'remember', { content: 'Alice-only global fact', access_scope: 'global' });
    const b = await connect(bob.token);
    const seen = await call(b, 'get_memory', { id: body.id });
    expect(seen).toMatchObject({ isError: true, body: { status: 404, code: 'not_found' } });
    expect((await call(b, 'recall', { q: 'Alice-only' })).body.data).toEqual([]);
    const hijack = await rawPost(bob.token, a.sessionId, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(hijack.status).toBe(404);
  });

  it('session-scoped memories are recalled in their session only', async () => {
    const one = await connect(alice.token);
    const two = await connect(alice.token);
    const word = `zebra${randomUUID().slice(0, 6)}`;
    const stored = await call(one, 'remember', { content: `scratch note ${word}`, access_scope: 'session' });
    expect(stored.body).toMatchObject({ access_scope: 'session', session_id: one.sessionId });
    const ids = (r: { body: { data?: unknown[] } }) => (r.body.data as { id: string }[]).map((m) => m.id);
    expect(ids(await call(one, 'recall', { q: word, this_session: true }))).toEqual([stored.body.id]);
    expect(ids(await call(one, 'recall', { q: word }))).toEqual([]);
    expect(ids(await call(two, 'recall', { q: word, this_session: true }))).toEqual([]);
    expect((await call(two, 'get_memory', { id: stored.body.id })).body.code).toBe('not_found');
    expect((await rest(alice.token, `/v1/memories/search?q=${word}`)).body.data).toEqual([]);
  });

  it('DELETE /mcp ends the session: later requests get 404 and the row is expired', async () => {
    const s = await connect(alice.token);
    await s.transport.terminateSession();
    const after = await rawPost(alice.token, s.sessionId, { jsonrpc: '2.0', id: 7, method: 'tools/list' });
    expect(after.status).toBe(404);
    const { body } = await rest(alice.token, `/v1/sessions/${s.sessionId}`);
    expect(body.status).toBe('expired');
    const again = await fetch(`${worker.baseUrl}/mcp`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${alice.token}`, 'mcp-session-id': s.sessionId },
    });
    expect(again.status).toBe(404);
  });

  it('one session across two Worker processes: no session state lives in an isolate', async () => {
    const other = await worker.replica();
    try {
      const s = await connect(alice.token, 'roaming-host');
      const word = `okapi${randomUUID().slice(0, 6)}`;
      await call(s, 'remember', { content: `stored on the first process: ${word}`, access_scope: 'session' });
      // The same session, its next requests served by another workerd process on the same D1: the
      // SDK client resumes a known session id without initializing again.
      const elsewhere = new StreamableHTTPClientTransport(new URL('/mcp', other.baseUrl), {
        sessionId: s.sessionId,
        requestInit: { headers: { authorization: `Bearer ${alice.token}` } },
      });
      opened.push(elsewhere);
      const resumed = { client: new Client({ name: 'roaming-host', version: '1.2.3' }), transport: elsewhere };
      await resumed.client.connect(elsewhere);
      const found = await call({ ...resumed, sessionId: s.sessionId }, 'recall', { q: word, this_session: true });
      expect(found.isError).toBe(false);
      expect(found.body.data).toHaveLength(1);
      // Ended on the second process, refused on the first.
      const ended = await fetch(`${other.baseUrl}/mcp`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${alice.token}`, 'mcp-session-id': s.sessionId },
      });
      expect(ended.status).toBe(204);
      expect((await rawPost(alice.token, s.sessionId, { jsonrpc: '2.0', id: 2, method: 'tools/list' })).status).toBe(
        404,
      );
    } finally {
      await other.stop();
    }
  }, 120_000);

  it("the plan's session limit refuses initialize with a clear error", async () => {
    const carol = await provision('Carol');
    const live = await rest(carol.token, '/v1/subscription');
    const limit = (live.body.limits as { sessions: number }).sessions;
    for (let i = 0; i < limit; i++) await connect(carol.token);
    await expect(connect(carol.token)).rejects.toThrow(new RegExp(`allows ${limit} live sessions`));
  });
});
