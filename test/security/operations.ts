// The /v1 operations as the live /openapi.json declares them, and the fixture table the security
// matrices need for each one. A new operation without an entry here makes the matrices FAIL (by
// design: coverage must not rot silently) — add an entry to OPERATIONS below.
import type { Role } from '../../src/db/caller';
import { createTenant, type TestUser } from '../helpers/fixtures';
import { call } from '../helpers/http';

export interface Operation {
  operationId: string;
  method: string;
  /** OpenAPI path template, e.g. /v1/memories/{id} */
  path: string;
  scopes: string[];
  pathParams: string[];
  hasBody: boolean;
  /** The request body's declared media type (application/json unless the spec says otherwise). */
  contentType: string;
}

type OpenApiDoc = {
  paths: Record<
    string,
    Record<
      string,
      {
        operationId: string;
        security?: Record<string, string[]>[];
        parameters?: { in: string; name: string }[];
        requestBody?: { content?: Record<string, unknown> };
      }
    >
  >;
};

export async function loadSpec(): Promise<OpenApiDoc> {
  const res = await call('/openapi.json');
  if (res.status !== 200) throw new Error(`/openapi.json answered ${res.status}`);
  return res.json<OpenApiDoc>();
}

/** Every /v1 operation in the live spec. */
export async function v1Operations(doc?: OpenApiDoc): Promise<Operation[]> {
  const spec = doc ?? (await loadSpec());
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(spec.paths)) {
    if (!path.startsWith('/v1/')) continue;
    for (const [method, op] of Object.entries(methods)) {
      ops.push({
        operationId: op.operationId,
        method: method.toUpperCase(),
        path,
        scopes: op.security?.[0]?.bearerAuth ?? [],
        pathParams: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
        hasBody: op.requestBody !== undefined,
        contentType: Object.keys(op.requestBody?.content ?? {})[0] ?? 'application/json',
      });
    }
  }
  return ops;
}

/** One tenant with a user of each role. */
export interface TenantWorld {
  tenantId: string;
  owner: TestUser;
  admin: TestUser;
  member: TestUser;
  /** Ids of resources created in this tenant (a foreign caller must never see one). */
  ids: Set<string>;
}

export async function createWorld(name: string): Promise<TenantWorld> {
  const { tenant, owner, addUser } = await createTenant(name);
  const world = {
    tenantId: tenant.id,
    owner,
    admin: await addUser('admin'),
    member: await addUser('member'),
    ids: new Set<string>([tenant.id, owner.id]),
  };
  world.ids.add(world.admin.id);
  world.ids.add(world.member.id);
  return world;
}

export const ANY_ROLE: readonly Role[] = ['owner', 'admin', 'member'];

export interface OperationFixture {
  /** Roles allowed to run it; the other roles must get 403 insufficient_role. */
  roles: readonly Role[];
  /** For operations with path parameters: creates a resource in `world` and returns the parameter values. */
  params?: (world: TenantWorld) => Promise<Record<string, string>>;
  /** A VALID body (and query), so that validation never hides a 403 or 404. */
  body?: (world: TenantWorld) => unknown;
  query?: (world: TenantWorld) => Record<string, string>;
}

/** Creates a resource through the API as the world's owner and records its id. */
async function created(world: TenantWorld, path: string, json: unknown): Promise<string> {
  const res = await call(path, { method: 'POST', token: await world.owner.token(), json });
  const body = await res.json<{ id?: string }>();
  if (res.status !== 201 || !body.id)
    throw new Error(`fixture POST ${path} answered ${res.status}: ${JSON.stringify(body)}`);
  world.ids.add(body.id);
  return body.id;
}

/** A global memory (visible to every role of its tenant) tagged `fixture`. */
const memory = async (world: TenantWorld) => ({
  id: await created(world, '/v1/memories', {
    content: `fixture memory ${crypto.randomUUID()}`,
    access_scope: 'global',
    tags: ['fixture'],
  }),
});

/** A memory changed once, so that its version 1 can be restored. */
const memoryWithVersion = async (world: TenantWorld) => {
  const { id } = await memory(world);
  const res = await call(`/v1/memories/${id}`, {
    method: 'PATCH',
    token: await world.owner.token(),
    json: { importance: 6 },
  });
  if (res.status !== 200) throw new Error(`fixture PATCH answered ${res.status}`);
  return { id, version: '1' };
};

/** A live session of the world's owner. */
const session = async (world: TenantWorld) => ({
  id: await created(world, '/v1/sessions', { mcp_client_id: 'fixture-client' }),
});

/** The newest audit row of the world's tenant (the tenant.create row at least exists). */
const auditLog = async (world: TenantWorld) => {
  const res = await call('/v1/audit-logs?limit=1', { token: await world.owner.token() });
  const body = await res.json<{ data?: { id: string }[] }>();
  const id = body.data?.[0]?.id;
  if (res.status !== 200 || !id)
    throw new Error(`fixture GET /v1/audit-logs answered ${res.status}: ${JSON.stringify(body)}`);
  world.ids.add(id);
  return { id };
};

/** A member of the world's tenant, added through the API (admins may manage members). The tenant
 *  moves to the team plan first: the matrices add more users than the free plan's five. */
async function user(world: TenantWorld) {
  const upgrade = await call('/v1/subscription', {
    method: 'PUT',
    token: await world.owner.token(),
    json: { plan: 'team' },
  });
  if (upgrade.status !== 200)
    throw new Error(`fixture PUT /v1/subscription answered ${upgrade.status}: ${await upgrade.text()}`);
  const email = `fixture-${crypto.randomUUID().slice(0, 8)}@example.com`;
  return {
    id: await created(world, '/v1/users', {
      auth0_id: `fixture${crypto.randomUUID().slice(0, 8)}@clients`,
      email,
      role: 'member',
    }),
  };
}

/** A pending invitation of the world's tenant. */
const invitation = async (world: TenantWorld) => ({
  id: await created(world, '/v1/invitations', {
    email: `invitee-${crypto.randomUUID().slice(0, 8)}@example.com`,
    role: 'member',
  }),
});

/** A disabled webhook endpoint of the world's tenant (at a closed local port: nothing is delivered). */
const webhook = async (world: TenantWorld) => ({
  id: await created(world, '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', enabled: false }),
});

/**
 * One entry per /v1 operationId. `params` should create the resource through the API where the
 * route exists (as the world's owner) and add its id to `world.ids`.
 */
export const OPERATIONS: Record<string, OperationFixture> = {
  // Any registered caller can read who they are.
  getMe: { roles: ANY_ROLE },
  // Provisioning is for callers with no user yet: every member of a tenant gets 409, never 403.
  createTenant: { roles: ANY_ROLE, body: () => ({ name: 'Another tenant', email: 'someone@example.com' }) },

  createMemory: { roles: ANY_ROLE, body: () => ({ content: 'matrix memory', access_scope: 'global' }) },
  createMemoriesBatch: {
    roles: ANY_ROLE,
    body: () => ({ memories: [{ content: 'matrix memory', access_scope: 'global' }] }),
  },
  listMemories: { roles: ANY_ROLE },
  searchMemories: { roles: ANY_ROLE, query: () => ({ q: 'fixture memory' }) },
  recallMemories: { roles: ANY_ROLE, body: () => ({ query: 'fixture memory', explain: true }) },
  getMemory: { roles: ANY_ROLE, params: memory },
  updateMemory: { roles: ANY_ROLE, params: memory, body: () => ({ importance: 9 }) },
  // Soft delete is for everyone; the permanent delete (the one with a role gate) is what we check.
  deleteMemory: { roles: ['owner', 'admin'], params: memory, query: () => ({ permanent: 'true' }) },
  restoreMemory: { roles: ANY_ROLE, params: memory },
  addMemoryTags: { roles: ANY_ROLE, params: memory, body: () => ({ tags: ['added'] }) },
  removeMemoryTag: { roles: ANY_ROLE, params: async (world) => ({ ...(await memory(world)), tag: 'fixture' }) },
  // A filtered soft delete is for everyone; purge (the role-gated mode) is what we check, as a dry run.
  bulkDeleteMemories: {
    roles: ['owner', 'admin'],
    body: () => ({ filter: { subject_id: ['fixture'] }, mode: 'purge', dry_run: true }),
  },
  listMemoryVersions: { roles: ANY_ROLE, params: memory },
  restoreMemoryVersion: { roles: ANY_ROLE, params: memoryWithVersion },

  // Sessions: members see their own, owners/admins every one of the tenant (another member's → 404);
  // a heartbeat is for the session's own user only (anyone else → 404).
  createSession: { roles: ANY_ROLE, body: () => ({ mcp_client_id: 'matrix-client' }) },
  listSessions: { roles: ANY_ROLE, query: () => ({ status: 'all' }) },
  getSession: { roles: ANY_ROLE, params: session },
  heartbeatSession: { roles: ANY_ROLE, params: session },
  endSession: { roles: ANY_ROLE, params: session },

  exportTenant: { roles: ['owner'] },
  importTenant: {
    roles: ['owner'],
    body: (world) =>
      `${JSON.stringify({ type: 'tenant', data: { id: world.tenantId, name: 'x', plan: 'free', settings: {}, memory_count: 0, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z', deleted_at: null } })}\n`,
  },

  // Users: owners and admins (admins act on members); members get 403.
  listUsers: { roles: ['owner', 'admin'] },
  createUser: {
    roles: ['owner', 'admin'],
    body: () => ({
      auth0_id: `matrix${crypto.randomUUID().slice(0, 8)}@clients`,
      email: `matrix-${crypto.randomUUID().slice(0, 8)}@example.com`,
      role: 'member',
    }),
  },
  getUser: { roles: ['owner', 'admin'], params: user },
  updateUser: { roles: ['owner', 'admin'], params: user, body: () => ({ name: 'Renamed' }) },
  deleteUser: { roles: ['owner', 'admin'], params: user },
  createInvitation: {
    roles: ['owner', 'admin'],
    body: () => ({ email: `matrix-${crypto.randomUUID().slice(0, 8)}@example.com`, role: 'member' }),
  },
  listInvitations: { roles: ['owner', 'admin'] },
  getInvitation: { roles: ['owner', 'admin'], params: invitation },
  revokeInvitation: { roles: ['owner', 'admin'], params: invitation },
  // Accepting is for identities with no user yet: every member of a tenant gets 409, never 403.
  acceptInvitation: { roles: ANY_ROLE, params: invitation },

  // The caller's tenant: anyone reads it; owner/admin rename; only an owner deletes or restores it.
  getTenant: { roles: ANY_ROLE },
  updateTenant: { roles: ['owner', 'admin'], body: () => ({ name: 'Renamed tenant' }) },
  backfillVectorIndex: { roles: ['owner', 'admin'] },
  deleteTenant: { roles: ['owner'] },
  restoreTenant: { roles: ['owner'] },
  getSubscription: { roles: ['owner'] },
  changePlan: { roles: ['owner'], body: () => ({ plan: 'pro' }) },
  getUsage: { roles: ['owner', 'admin'] },

  listAuditLogs: { roles: ['owner', 'admin'] },

  listChanges: { roles: ANY_ROLE },

  // Webhooks: owners and admins.
  createWebhook: { roles: ['owner', 'admin'], body: () => ({ url: 'http://127.0.0.1:9/hook', enabled: false }) },
  listWebhooks: { roles: ['owner', 'admin'] },
  getWebhook: { roles: ['owner', 'admin'], params: webhook },
  updateWebhook: { roles: ['owner', 'admin'], params: webhook, body: () => ({ description: 'Renamed' }) },
  deleteWebhook: { roles: ['owner', 'admin'], params: webhook },
  rotateWebhookSecret: { roles: ['owner', 'admin'], params: webhook },
  testWebhook: { roles: ['owner', 'admin'], params: webhook },
  listWebhookDeliveries: { roles: ['owner', 'admin'], params: webhook },
  getAuditLog: { roles: ['owner', 'admin'], params: auditLog },
};

export function fixtureFor(op: Operation): OperationFixture {
  const fixture = OPERATIONS[op.operationId];
  if (!fixture) {
    throw new Error(
      `No security fixture for ${op.method} ${op.path} (operationId ${op.operationId}). ` +
        'Add an entry to OPERATIONS in test/security/operations.ts: the roles allowed, and for path parameters how to create a resource of a tenant.',
    );
  }
  if (op.pathParams.length > 0 && !fixture.params) {
    throw new Error(
      `The fixture for ${op.operationId} has no params(): ${op.path} needs ${op.pathParams.join(', ')} from a real resource.`,
    );
  }
  return fixture;
}

/** Calls an operation with concrete path parameters, query and body. */
export function invoke(
  op: Operation,
  token: string,
  init: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown } = {},
) {
  const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = init.params?.[name];
    if (value === undefined) throw new Error(`no value for {${name}} in ${op.path}`);
    return encodeURIComponent(value);
  });
  const qs = init.query && Object.keys(init.query).length > 0 ? `?${new URLSearchParams(init.query)}` : '';
  if (op.hasBody && op.contentType !== 'application/json') {
    // e.g. NDJSON (POST /v1/import): the fixture body is the raw text
    return call(`${path}${qs}`, {
      method: op.method,
      token,
      body: typeof init.body === 'string' ? init.body : '',
      headers: { 'content-type': op.contentType },
    });
  }
  return call(`${path}${qs}`, { method: op.method, token, ...(op.hasBody ? { json: init.body ?? {} } : {}) });
}

export const describeOp = (op: Operation) => `${op.method} ${op.path} (${op.operationId})`;
