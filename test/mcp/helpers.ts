import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'vitest';
import { call } from '../helpers/http';

const ACCEPT = 'application/json, text/event-stream';

/** initialize over /mcp; returns the session id (Mcp-Session-Id). */
export async function initialize(token: string, clientInfo = { name: 'cursor', version: '0.9' }) {
  const res = await call('/mcp', {
    method: 'POST',
    token,
    headers: { accept: ACCEPT },
    json: {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo },
    },
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.headers.get('mcp-session-id')!;
}

/** A JSON-RPC message to /mcp, as a Streamable HTTP client sends it. */
export const rpc = (
  token: string | null,
  sessionId: string | null,
  message: unknown,
  headers: Record<string, string> = {},
) =>
  call('/mcp', {
    method: 'POST',
    ...(token ? { token } : {}),
    headers: {
      accept: ACCEPT,
      'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
      ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
      ...headers,
    },
    json: message,
  });

let nextId = 1;

/** tools/call; returns the HTTP response and, for a JSON-RPC result, isError and the parsed text. */
export async function callTool(token: string, sessionId: string, name: string, args: Record<string, unknown>) {
  const res = await rpc(token, sessionId, {
    jsonrpc: '2.0',
    id: nextId++,
    method: 'tools/call',
    params: { name, arguments: args },
  });
  const body = (await res.clone().json()) as {
    result?: { isError?: boolean; content: { text: string }[] };
    error?: { code: number; message: string };
  };
  let data: Record<string, unknown> = {};
  if (body.result) {
    try {
      data = JSON.parse(body.result.content[0]!.text) as Record<string, unknown>;
    } catch {}
  }
  return { res, isError: body.result?.isError === true, error: body.error, data };
}
