// The security matrix for MCP tools, generated like the REST one: every tool (from src/mcp/tools.ts)
// runs its REST operation, so its operation's declared scopes, tenant isolation and token rules
// must hold through /mcp too. A new tool is covered once it is in TOOLS and its operation has a
// fixture in ./operations.ts.
import { describe, expect, it } from 'vitest';
import { ALL_SCOPES } from '../../src/auth/scopes';
import { TOOLS } from '../../src/mcp/tools';
import { callTool, initialize, rpc } from '../mcp/helpers';
import { createWorld, fixtureFor, loadSpec, type TenantWorld, v1Operations } from './operations';

const operations = await v1Operations(await loadSpec());
const tools = TOOLS.map((tool) => {
  const op = operations.find((o) => o.operationId === tool.operationId);
  if (!op) throw new Error(`MCP tool ${tool.name}: operation ${tool.operationId} is not in the spec`);
  return { tool, op, fixture: fixtureFor(op) };
});
type Case = (typeof tools)[number];

/** Valid arguments for the tool in `world`: the fixture's params, body and query, minus what the tool hides. */
async function argsFor({ tool, fixture }: Case, world: TenantWorld) {
  const all: Record<string, unknown> = {
    ...((await fixture.params?.(world)) ?? {}),
    ...((fixture.body?.(world) as Record<string, unknown> | undefined) ?? {}),
    ...(fixture.query?.(world) ?? {}),
  };
  return Object.fromEntries(Object.entries(all).filter(([k]) => k !== 'session_id' && !tool.hidden.includes(k)));
}

const cases = tools.map((c) => [c.tool.name, c] as const);

describe('MCP tools: declared scopes, tenant isolation, tokens', () => {
  it.each(cases.flatMap(([name, c]) => c.op.scopes.map((scope) => [name, scope, c] as const)))(
    '%s without %s → isError insufficient_scope',
    async (_name, scope, c) => {
      const world = await createWorld('mcp scopes');
      const args = await argsFor(c, world);
      const token = await world.owner.token({ scopes: ALL_SCOPES.filter((s) => s !== scope) });
      const session = await initialize(token);
      const out = await callTool(token, session, c.tool.name, args);
      expect(out.res.status).toBe(200);
      expect(out.isError).toBe(true);
      expect(out.data).toMatchObject({ status: 403, code: 'insufficient_scope' });
      expect(out.data.detail).toContain(scope);
    },
  );

  it.each(cases)('%s with exactly its scopes (+ write:sessions) is not refused for scope', async (_name, c) => {
    const world = await createWorld('mcp enough');
    const args = await argsFor(c, world);
    const token = await world.owner.token({ scopes: [...c.op.scopes, 'write:sessions'] });
    const out = await callTool(token, await initialize(token), c.tool.name, args);
    expect(out.isError, JSON.stringify(out.data)).toBe(false);
  });

  it.each(cases.filter(([, c]) => c.op.pathParams.length > 0))(
    "%s on another tenant's resource → isError not_found",
    async (_name, c) => {
      const home = await createWorld('mcp home');
      const other = await createWorld('mcp other');
      const args = await argsFor(c, other);
      const token = await home.owner.token();
      const out = await callTool(token, await initialize(token), c.tool.name, args);
      expect(out.isError).toBe(true);
      expect(out.data).toMatchObject({ status: 404, code: 'not_found' });
    },
  );

  it.each(cases)('%s without a token or with a forged one → 401 + resource metadata', async (_name, c) => {
    const world = await createWorld('mcp tokens');
    const token = await world.owner.token();
    const session = await initialize(token);
    const message = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: c.tool.name, arguments: {} } };
    for (const res of [
      await rpc(null, session, message),
      await rpc(null, session, message, { authorization: `Bearer ${token.slice(0, -4)}AAAA` }),
    ]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain(
        'resource_metadata="https://memoria.test/.well-known/oauth-protected-resource"',
      );
    }
  });
});
