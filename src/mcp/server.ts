// The MCP server of one HTTP request: the official SDK's Server over its web-standard Streamable
// HTTP transport in JSON-response mode, stateless (the session is the D1 row, src/mcp/index.ts).
// Loaded lazily: the SDK builds its many protocol schemas when this module is first imported.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { API_VERSION } from '../lib/openapi';
import { type AppFetch, callOperation, dispatcher, InvalidArguments, operationFor, problemOf } from './dispatch';
import type { Tool } from './tools';

const INSTRUCTIONS =
  'Memoria is long-term memory shared across conversations. Call `recall` before answering questions that may depend on ' +
  'earlier facts, preferences or decisions; call `remember` when you learn something worth keeping; fix wrong memories with ' +
  '`update_memory` and remove them with `forget`. Memories are private to the signed-in user unless stored as `global`.';

/** Answers one POST; `session` is null for initialize (and for a body that is not JSON). */
export async function runServer(
  c: Context<AppEnv>,
  fetch: AppFetch,
  text: string,
  session: { sessionId: string; tools: Map<string, Tool>; counted: boolean } | null,
): Promise<Response> {
  const server = new Server(
    { name: 'memoria', title: 'Memoria', version: API_VERSION },
    { capabilities: { tools: {} }, instructions: INSTRUCTIONS },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => {
    if (!session) throw new McpError(ErrorCode.InvalidRequest, 'Initialize first.');
    return {
      tools: [...session.tools.values()].map((t) => ({
        name: t.spec.name,
        title: t.spec.title,
        description: t.spec.description,
        inputSchema: t.inputSchema as { type: 'object' },
        annotations: annotationsOf(t),
      })),
    };
  });
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    if (!session) throw new McpError(ErrorCode.InvalidRequest, 'Initialize first.');
    const tool = session.tools.get(request.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
    let op: Awaited<ReturnType<typeof operationFor>>;
    try {
      op = await operationFor(tool, request.params.arguments ?? {}, session.sessionId, extra.requestId);
    } catch (err) {
      if (err instanceof InvalidArguments) throw new McpError(ErrorCode.InvalidParams, err.message);
      throw err;
    }
    const d = dispatcher(c, fetch, session.sessionId);
    // Already counted against the rate limit as the heartbeat: not a second time (no limiter = not counted).
    const env = session.counted ? { ...d.env, RATE_LIMITER: undefined } : d.env;
    const res = await callOperation({ ...d, env }, op);
    if (!res.ok) {
      const { status, code, detail, errors } = await problemOf(res);
      return { isError: true, content: [{ type: 'text', text: JSON.stringify({ status, code, detail, errors }) }] };
    }
    if (res.status === 204) return { content: [{ type: 'text', text: `${tool.summary}: done.` }] };
    return { content: [{ type: 'text', text: await res.text() }] };
  });
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  await server.connect(transport);
  try {
    const headers = new Headers(c.req.raw.headers);
    return await transport.handleRequest(new Request(c.req.url, { method: 'POST', headers, body: text }));
  } finally {
    await server.close();
  }
}

function annotationsOf(t: Tool) {
  // Read-only is what the operation's declared scopes say (a search may well be a POST).
  const readOnly = t.scopes.length > 0 && t.scopes.every((s) => s.startsWith('read:'));
  return {
    title: t.spec.title,
    readOnlyHint: readOnly,
    destructiveHint: t.method === 'DELETE',
    // Repeating the same call leaves the same state (not so for remember: each call stores one more).
    idempotentHint: readOnly || t.method !== 'POST' || t.spec.operationId === 'addMemoryTags',
    openWorldHint: false,
  };
}
