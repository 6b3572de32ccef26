// POST/GET /v1/invitations, GET/DELETE /v1/invitations/{id}, POST /v1/invitations/{id}/accept.
// People join a tenant only through an invitation they accept with their own token; service
// identities (machine clients of the tenant's own Auth0) are still added with POST /v1/users.
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { requestMeta, requireRole, runAsCaller } from '../../auth/caller';
import { bindIdentity, invitationPlacement } from '../../auth/identities';
import {
  acceptInvitationStatements,
  createInvitationStatements,
  getInvitationStatement,
  type InvitationRow,
  type InvitationVerdict,
  listInvitationsStatement,
  revokeInvitationStatements,
  toInvitation,
} from '../../db/invitations';
import { toUser, type UserRow } from '../../db/users';
import type { AppEnv } from '../../env';
import { cursorBinding, decodeCursor, encodeCursor } from '../../lib/cursor';
import { idPattern, newId } from '../../lib/ids';
import { INVITATION_TTL_MS } from '../../lib/limits';
import { PageQuerySchema, pageSchema } from '../../lib/pagination';
import { ApiError } from '../../lib/problem';
import { jsonResponse, problemResponses, securedRoute } from '../../lib/route';
import { prefixedIdSchema, timestampSchema } from '../../lib/schemas';
import { UserSchema } from '../users/schemas';

export const invitations = new OpenAPIHono<AppEnv>();

const Role = z.enum(['owner', 'admin', 'member']).openapi({ example: 'member' });
const EXAMPLE_ID = 'inv_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3';

export const InvitationSchema = z
  .object({
    id: prefixedIdSchema(EXAMPLE_ID),
    email: z.string().max(320).openapi({ example: 'ada@example.com' }),
    auth0_id: z.string().max(255).nullable().openapi({
      description:
        'The Auth0 `sub` that may accept it; null: whoever signs in with a verified `email` equal to `email`.',
      example: null,
    }),
    name: z.string().max(200).nullable().openapi({ example: 'Ada Lovelace' }),
    role: Role,
    status: z.enum(['pending', 'accepted', 'revoked', 'expired']).openapi({ example: 'pending' }),
    invited_by: z.string().max(30).nullable().openapi({ example: 'usr_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3' }),
    user_id: z.string().max(30).nullable().openapi({
      description:
        'The user it created, once accepted; or, from the start, the user an import brought in before they joined, whom accepting binds.',
      example: null,
    }),
    created_at: timestampSchema(),
    expires_at: timestampSchema('2026-01-12T10:00:00.000Z'),
    accepted_at: timestampSchema().nullable().openapi({ example: null }),
    revoked_at: timestampSchema().nullable().openapi({ example: null }),
  })
  .openapi('Invitation');

const CreateInvitationSchema = z
  .object({
    email: z.email().max(320).openapi({ example: 'ada@example.com' }),
    role: Role,
    auth0_id: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .refine((v) => !v.endsWith('@clients'), 'a machine client is added with POST /v1/users (kind service)')
      .optional()
      .openapi({
        description:
          'Bind the invitation to this Auth0 `sub`. Without it, the person accepts with a token whose `email` claim equals `email` and whose `email_verified` is true.',
        example: 'auth0|64f1c2d3e4f5a6b7c8d9e0f1',
      }),
    name: z.string().trim().min(1).max(200).optional().openapi({ example: 'Ada Lovelace' }),
  })
  .strict()
  .openapi('CreateInvitation', {
    example: { email: 'invitee@example.com', role: 'member', name: 'Katherine Johnson' },
  });

const InvitationParams = z.object({
  id: z
    .string()
    .max(30)
    .regex(idPattern('inv'), 'must be an invitation id (inv_…)')
    .openapi({ param: { name: 'id', in: 'path' }, description: 'The invitation id (`inv_…`).', example: EXAMPLE_ID }),
});

function refusal(verdict: InvitationVerdict): ApiError {
  switch (verdict) {
    case 'insufficient_role':
      return new ApiError('insufficient_role', 'Owners invite (and revoke) any role; admins members only.');
    case 'already_accepted':
      return new ApiError(
        'conflict',
        'The invitation was accepted: remove the user it created instead (DELETE /v1/users/{id}).',
      );
    case 'email_taken':
      return new ApiError('email_taken', 'A user of this tenant already has this email.');
    case 'quota_exceeded':
      return new ApiError('quota_exceeded', "The tenant's plan allows no more users.");
    case 'already_member':
      return new ApiError(
        'already_provisioned',
        'This identity is already a user of a tenant (GET /v1/me shows it); one identity is one user in one tenant.',
      );
    default:
      return new ApiError(
        'not_found',
        'No pending invitation with this id for this identity (it names another identity or email, the email is not verified, or it expired, was revoked or was accepted).',
      );
  }
}

const createInvitation = securedRoute(['manage:users'], {
  method: 'post',
  path: '/v1/invitations',
  operationId: 'createInvitation',
  tags: ['Users'],
  summary: 'Invite a person',
  description:
    'Invites a person to the tenant with a role. Nothing is bound until they accept it with their own token (`POST /v1/invitations/{id}/accept`), ' +
    `within ${INVITATION_TTL_MS / 86_400_000} days. Owners invite any role, admins members. The answer never depends on whether the identity exists elsewhere.`,
  request: { body: { required: true, content: { 'application/json': { schema: CreateInvitationSchema } } } },
  responses: {
    201: jsonResponse(InvitationSchema, 'The invitation'),
    ...problemResponses('insufficient_role', 'email_taken', 'quota_exceeded'),
  },
});

invitations.openapi(createInvitation, async (c) => {
  const body = c.req.valid('json');
  const now = Date.now();
  const inv = {
    id: newId('inv', now),
    email: body.email,
    auth0Id: body.auth0_id ?? null,
    name: body.name ?? null,
    role: body.role,
    expiresAt: now + INVITATION_TTL_MS,
  };
  const { results } = await runAsCaller(
    c,
    createInvitationStatements(c.env.DB, c.get('auth').sub, inv, requestMeta(c), now),
  );
  const row = results[2]!.results[0] as InvitationRow | undefined;
  if (!row) throw refusal((results[0]!.results[0] as { verdict: InvitationVerdict }).verdict);
  c.header('Location', `/v1/invitations/${row.id}`);
  return c.json(toInvitation(row, now), 201);
});

const listInvitations = securedRoute(['manage:users'], {
  method: 'get',
  path: '/v1/invitations',
  operationId: 'listInvitations',
  tags: ['Users'],
  summary: 'List invitations',
  description: "The tenant's invitations, oldest first (keyset pagination). Owner or admin.",
  request: { query: PageQuerySchema },
  responses: {
    200: jsonResponse(pageSchema(InvitationSchema, 'InvitationPage'), 'A page of invitations'),
    ...problemResponses('insufficient_role'),
  },
});

invitations.openapi(listInvitations, async (c) => {
  const q = c.req.valid('query');
  const sub = c.get('auth').sub;
  const binding = cursorBinding(sub, 'listInvitations', {});
  const after = q.cursor ? ((await decodeCursor(c.env, binding, q.cursor)) as [number, string]) : null;
  const { caller, results } = await runAsCaller(c, [listInvitationsStatement(c.env.DB, sub, q.limit, after)]);
  requireRole(caller, 'owner', 'admin');
  const rows = results[0]!.results as unknown as InvitationRow[];
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  const next_cursor =
    rows.length > q.limit && last ? await encodeCursor(c.env, binding, [last.created_at, last.id]) : null;
  return c.json({ data: page.map((r) => toInvitation(r)), next_cursor }, 200);
});

const getInvitation = securedRoute(['manage:users'], {
  method: 'get',
  path: '/v1/invitations/{id}',
  operationId: 'getInvitation',
  tags: ['Users'],
  summary: 'Get an invitation',
  description: 'One invitation of the tenant. Owner or admin.',
  request: { params: InvitationParams },
  responses: {
    200: jsonResponse(InvitationSchema, 'The invitation'),
    ...problemResponses('insufficient_role', 'not_found'),
  },
});

invitations.openapi(getInvitation, async (c) => {
  const { id } = c.req.valid('param');
  const { caller, results } = await runAsCaller(c, [getInvitationStatement(c.env.DB, c.get('auth').sub, id)]);
  requireRole(caller, 'owner', 'admin');
  const row = results[0]!.results[0] as InvitationRow | undefined;
  if (!row) throw new ApiError('not_found', `Invitation ${id} was not found.`);
  return c.json(toInvitation(row), 200);
});

const revokeInvitation = securedRoute(['manage:users'], {
  method: 'delete',
  path: '/v1/invitations/{id}',
  operationId: 'revokeInvitation',
  tags: ['Users'],
  summary: 'Revoke an invitation',
  description:
    'Revokes an invitation that was not accepted: it can no longer be accepted and stays listed with status `revoked` (audit `invitation.revoke`). ' +
    'Revoking it again changes nothing. Owners revoke any invitation, admins member invitations; an accepted one is 409 (remove the user instead). ' +
    'The unbound user an import created for it stays until removed (`DELETE /v1/users/{id}`).',
  request: { params: InvitationParams },
  responses: {
    204: { description: 'Revoked' },
    ...problemResponses('insufficient_role', 'not_found', 'conflict'),
  },
});

invitations.openapi(revokeInvitation, async (c) => {
  const { id } = c.req.valid('param');
  const { results } = await runAsCaller(
    c,
    revokeInvitationStatements(c.env.DB, c.get('auth').sub, id, requestMeta(c), Date.now()),
  );
  const verdict = (results[0]!.results[0] as { verdict: InvitationVerdict }).verdict;
  if (verdict === 'not_found') throw new ApiError('not_found', `Invitation ${id} was not found.`);
  if (verdict !== 'ok' && verdict !== 'already_revoked') throw refusal(verdict);
  return c.body(null, 204);
});

const acceptInvitation = securedRoute([], {
  method: 'post',
  path: '/v1/invitations/{id}/accept',
  operationId: 'acceptInvitation',
  tags: ['Users'],
  summary: 'Accept an invitation',
  description:
    "The invited person, with their own access token (no scope needed, like `POST /v1/tenants`), becomes a user of the inviting tenant with the invitation's role. " +
    "The invitation must name the token's `sub`, or name no `sub` and an email equal to the token's `email` claim with `email_verified` true. " +
    'Anything else, an expired, revoked or accepted invitation included, is 404. An identity that is already a user gets 409 `already_provisioned`.',
  request: { params: InvitationParams },
  responses: {
    200: jsonResponse(UserSchema, 'The new user'),
    ...problemResponses('not_found', 'already_provisioned', 'email_taken', 'quota_exceeded'),
  },
});

invitations.openapi(acceptInvitation, async (c) => {
  const { id } = c.req.valid('param');
  const { sub, claims } = c.get('auth');
  const verifiedEmail =
    claims.email_verified === true && typeof claims.email === 'string' ? claims.email.slice(0, 320) : null;
  const now = Date.now();
  const userId = newId('usr', now);
  // Not runAsCaller: the caller is no user yet. One batch: verdict, user, invitation, audit rows
  // (and the directory in step, src/auth/identities.ts). Across shards, the invitation's shard.
  let results: D1Result[] = [];
  const held = await bindIdentity(
    c,
    {
      sub,
      placement: async () => {
        const found = await invitationPlacement(c, id);
        if (!found) throw refusal('not_found');
        return found;
      },
    },
    async (extra, db) => {
      results = await db.batch([
        ...acceptInvitationStatements(db, sub, { id, verifiedEmail, userId }, requestMeta(c), now),
        ...extra,
      ]);
      return results.slice(results.length - extra.length);
    },
  );
  if (held) {
    // The same answer as with one database: the invitation's own verdict first (404 before 409).
    const found = await invitationPlacement(c, id);
    const db = found ? c.get('databases')[found.shard as 'DB'] : c.env.DB;
    const [probe] = acceptInvitationStatements(db, sub, { id, verifiedEmail, userId }, requestMeta(c), now);
    const { verdict } = (await probe!.first<{ verdict: InvitationVerdict }>())!;
    throw refusal(verdict === 'ok' ? 'already_member' : verdict);
  }
  const [verdict, created, bound] = results;
  const row = (created!.results[0] ?? bound!.results[0]) as UserRow | undefined;
  if (!row) throw refusal((verdict!.results[0] as { verdict: InvitationVerdict }).verdict);
  return c.json(toUser(row), 200);
});
