import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { requestMeta, requireRole, runAsCaller } from '../../auth/caller';
import { bindIdentity, callerPlacement, releaseIdentity, unbindStatements } from '../../auth/identities';
import type { Role } from '../../db/caller';
import { type IdempotencyRow, idempotencyLookup, idempotencyStore } from '../../db/idempotency';
import {
  createUserStatements,
  deleteUserStatements,
  getUserStatement,
  listUsersStatement,
  removedUserSessionsStatements,
  replayedUserStatement,
  toUser,
  type UserRow,
  type UserVerdict,
  updateUserStatements,
} from '../../db/users';
import type { AppEnv } from '../../env';
import { cursorBinding, decodeCursor, encodeCursor } from '../../lib/cursor';
import { acceptedVersions, etagOf } from '../../lib/etag';
import { idempotencyKeyOf, REPLAYED_HEADER, storedResponse } from '../../lib/idempotency';
import { newId } from '../../lib/ids';
import { PLANS } from '../../lib/plans';
import { ApiError } from '../../lib/problem';
import { ETAG_HEADERS, jsonResponse, problemResponses, securedRoute } from '../../lib/route';
import {
  CreateUserHeaders,
  CreateUserSchema,
  IfMatchHeaders,
  UpdateUserSchema,
  UserIdParams,
  UserListQuerySchema,
  UserPageSchema,
  UserSchema,
} from './schemas';

export const users = new OpenAPIHono<AppEnv>();

const ROLE_RULES =
  'Owners manage every user; admins manage members (and themselves) and can grant only the member role; members get 403. ' +
  'The last owner can be neither demoted nor removed.';

/** Maps a refused write's verdict to its problem. */
function refusal(verdict: UserVerdict, role: Role, id?: string): ApiError {
  switch (verdict) {
    case 'insufficient_role':
      return new ApiError('insufficient_role', `A caller with the ${role} role cannot make this change. ${ROLE_RULES}`);
    case 'not_found':
      return new ApiError('not_found', `User ${id} was not found.`);
    case 'precondition_failed':
      return new ApiError(
        'precondition_failed',
        `User ${id} has changed since the ETag given in If-Match; read it again.`,
      );
    case 'last_owner':
      return new ApiError(
        'last_owner',
        "The tenant's last owner can be neither demoted nor removed; make another user owner first.",
      );
    case 'email_taken':
      return new ApiError('email_taken', 'Another user of this tenant already has this email.');
    case 'auth0_id_taken':
      return new ApiError(
        'auth0_id_taken',
        'This auth0_id already belongs to a user (one identity is one user in one tenant).',
      );
    case 'quota_exceeded':
      return new ApiError(
        'quota_exceeded',
        'The tenant has as many users as its plan allows; upgrade the plan or remove a user.',
      );
    default:
      return new ApiError('conflict', 'The change could not be applied; retry.');
  }
}

/** A user's version is its updated_at, which every change moves strictly forward. */
const userEtag = (row: UserRow) => etagOf({ id: row.id, version: row.updated_at });

/**
 * Runs `before`, then [verdict, audit, write] from the repository, then `after`, in one batch;
 * returns the written row (undefined when a replay was found), or throws the verdict's problem.
 */
async function runGuardedWrite(
  c: Context<AppEnv>,
  write: D1PreparedStatement[],
  id?: string,
  before: D1PreparedStatement[] = [],
  after: D1PreparedStatement[] = [],
) {
  const { caller, results } = await runAsCaller(c, [...before, ...write, ...after]);
  const [verdict, , written] = results.slice(before.length);
  return {
    results,
    row: () => {
      const row = written!.results[0] as UserRow | undefined;
      if (row) return row;
      throw refusal((verdict!.results[0] as { verdict: UserVerdict }).verdict, caller.role, id);
    },
  };
}

const listUsers = securedRoute(['manage:users'], {
  method: 'get',
  path: '/v1/users',
  operationId: 'listUsers',
  tags: ['Users'],
  summary: 'List users',
  description: `The tenant's users and service clients, oldest first (keyset pagination). Owner or admin. ${ROLE_RULES}`,
  request: { query: UserListQuerySchema },
  responses: { 200: jsonResponse(UserPageSchema, 'A page of users'), ...problemResponses('insufficient_role') },
});

users.openapi(listUsers, async (c) => {
  const q = c.req.valid('query');
  const sub = c.get('auth').sub;
  const binding = cursorBinding(sub, 'listUsers', { role: q.role, kind: q.kind, include_deleted: q.include_deleted });
  const after = q.cursor ? ((await decodeCursor(c.env, binding, q.cursor)) as [number, string]) : null;
  const { caller, results } = await runAsCaller(c, [
    listUsersStatement(c.env.DB, sub, {
      limit: q.limit,
      after,
      role: q.role,
      kind: q.kind,
      includeDeleted: q.include_deleted,
    }),
  ]);
  requireRole(caller, 'owner', 'admin');
  const rows = results[0]!.results as unknown as UserRow[];
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  const next_cursor =
    rows.length > q.limit && last ? await encodeCursor(c.env, binding, [last.created_at, last.id]) : null;
  return c.json({ data: page.map(toUser), next_cursor }, 200);
});

const createUser = securedRoute(['manage:users'], {
  method: 'post',
  path: '/v1/users',
  operationId: 'createUser',
  tags: ['Users'],
  summary: 'Add a user',
  description:
    `Adds a person (Auth0 user) or a service (Auth0 machine-to-machine client, \`auth0_id\` = \`<client_id>@clients\`) to the tenant. ${ROLE_RULES} ` +
    `Emails are unique among the tenant's live users (case-insensitive, 409 \`email_taken\`); an Auth0 identity belongs to one live user (409 \`auth0_id_taken\`); ` +
    `the plan's user limit (${Object.entries(PLANS)
      .map(([p, l]) => `${p} ${l.users}`)
      .join(', ')}) gives 403 \`quota_exceeded\`.`,
  request: {
    headers: CreateUserHeaders,
    body: { required: true, content: { 'application/json': { schema: CreateUserSchema } } },
  },
  responses: {
    201: jsonResponse(
      UserSchema,
      'The new user (or, with header `Idempotent-Replayed: true`, the one this Idempotency-Key created)',
    ),
    ...problemResponses('insufficient_role', 'email_taken', 'auth0_id_taken', 'quota_exceeded', 'conflict'),
  },
});

users.openapi(createUser, async (c) => {
  const body = c.req.valid('json');
  const now = Date.now();
  const user = {
    id: newId('usr', now),
    auth0Id: body.auth0_id,
    email: body.email,
    name: body.name ?? null,
    role: body.role,
    kind: body.kind,
  };
  const { DB: db } = c.env;
  const sub = c.get('auth').sub;
  const idem = await idempotencyKeyOf(c, body, now);
  let outcome: Awaited<ReturnType<typeof runGuardedWrite>> | undefined;
  // The identity is one user across every shard: the directory holds it (src/auth/identities.ts).
  const held = await bindIdentity(c, { sub: user.auth0Id, placement: () => callerPlacement(c), db }, async (extra) => {
    outcome = await runGuardedWrite(
      c,
      createUserStatements(db, sub, user, requestMeta(c), now, idem),
      undefined,
      idem ? [idempotencyLookup(db, sub, idem), replayedUserStatement(db, sub, idem)] : [],
      [
        ...(idem
          ? [
              idempotencyStore(
                db,
                sub,
                idem,
                { status: 201, body: JSON.stringify(user.id) },
                (b) => `EXISTS (SELECT 1 FROM users WHERE id = ${b.bind(user.id)})`,
              ),
            ]
          : []),
        ...extra,
      ],
    );
    return outcome.results.slice(outcome.results.length - extra.length);
  });
  if (held || !outcome) throw refusal('auth0_id_taken', c.get('caller')?.role ?? 'owner');
  const { results, row: created } = outcome;
  const replayed = storedResponse(results[0]?.results[0] as IdempotencyRow | undefined, idem);
  const row = replayed ? (results[1]!.results[0] as UserRow) : created();
  if (replayed) c.header(REPLAYED_HEADER, 'true');
  c.header('Location', `/v1/users/${row.id}`);
  c.header('ETag', userEtag(row));
  return c.json(toUser(row), 201);
});

const getUser = securedRoute(['manage:users'], {
  method: 'get',
  path: '/v1/users/{id}',
  operationId: 'getUser',
  tags: ['Users'],
  summary: 'Get a user',
  description: 'A user of the tenant, removed ones included (with `deleted_at`). Owner or admin.',
  request: { params: UserIdParams },
  responses: {
    200: jsonResponse(UserSchema, 'The user', ETAG_HEADERS),
    ...problemResponses('insufficient_role', 'not_found'),
  },
});

users.openapi(getUser, async (c) => {
  const { id } = c.req.valid('param');
  const { caller, results } = await runAsCaller(c, [getUserStatement(c.env.DB, c.get('auth').sub, id)]);
  requireRole(caller, 'owner', 'admin');
  const row = results[0]!.results[0] as UserRow | undefined;
  if (!row) throw refusal('not_found', caller.role, id);
  c.header('ETag', userEtag(row));
  return c.json(toUser(row), 200);
});

const updateUser = securedRoute(['manage:users'], {
  method: 'patch',
  path: '/v1/users/{id}',
  operationId: 'updateUser',
  tags: ['Users'],
  summary: 'Change a user',
  description: `Changes a live user's role, email or name. ${ROLE_RULES} Send \`If-Match\` with the user's ETag to refuse (412) a change to a user edited meanwhile.`,
  request: {
    params: UserIdParams,
    headers: IfMatchHeaders,
    body: { required: true, content: { 'application/json': { schema: UpdateUserSchema } } },
  },
  responses: {
    200: jsonResponse(UserSchema, 'The changed user', ETAG_HEADERS),
    ...problemResponses(
      'insufficient_role',
      'not_found',
      'precondition_failed',
      'last_owner',
      'email_taken',
      'conflict',
    ),
  },
});

users.openapi(updateUser, async (c) => {
  const { id } = c.req.valid('param');
  const patch = c.req.valid('json');
  const versions = acceptedVersions(c.req.valid('header')['If-Match'], id);
  const row = (
    await runGuardedWrite(
      c,
      updateUserStatements(c.env.DB, c.get('auth').sub, id, patch, versions, requestMeta(c), Date.now()),
      id,
    )
  ).row();
  c.header('ETag', userEtag(row));
  return c.json(toUser(row), 200);
});

const deleteUser = securedRoute(['manage:users'], {
  method: 'delete',
  path: '/v1/users/{id}',
  operationId: 'deleteUser',
  tags: ['Users'],
  summary: 'Remove a user',
  description: `Removes (soft-deletes) a user: their tokens stop working at once and their live sessions end (audit \`session.end\`, reason \`user_removed\`) and their private and session memories are soft-deleted (audit \`memory.delete\`, reason \`user_removed\`: they leave the quota; owners can list, restore or purge them); the row stays for the audit trail. ${ROLE_RULES}`,
  request: { params: UserIdParams, headers: IfMatchHeaders },
  responses: {
    204: { description: 'Removed' },
    ...problemResponses('insufficient_role', 'not_found', 'precondition_failed', 'last_owner', 'conflict'),
  },
});

users.openapi(deleteUser, async (c) => {
  const { id } = c.req.valid('param');
  const versions = acceptedVersions(c.req.valid('header')['If-Match'], id);
  const db = c.env.DB;
  const sub = c.get('auth').sub;
  const meta = requestMeta(c);
  const now = Date.now();
  // Their live sessions end in the same batch, under the same rule, before the removal itself.
  const removed = (
    await runGuardedWrite(
      c,
      deleteUserStatements(db, sub, id, versions, meta, now),
      id,
      removedUserSessionsStatements(db, sub, id, versions, meta, now),
      unbindStatements(c, id),
    )
  ).row();
  await releaseIdentity(c, removed.auth0_id, removed.tenant_id);
  return c.body(null, 204);
});

export const userRoutes = { listUsers, createUser, getUser, updateUser, deleteUser };
