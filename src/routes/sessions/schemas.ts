import { z } from '@hono/zod-openapi';
import { idPattern } from '../../lib/ids';
import { METADATA_MAX_DEPTH, SESSION_METADATA_MAX_BYTES } from '../../lib/limits';
import { PageQuerySchema, pageSchema } from '../../lib/pagination';
import { metadataSchema } from '../../lib/schemas';

const example = {
  id: 'ses_01J9Z3Q4W5E6R7T8Y9V0A1B2C3',
  user_id: 'usr_01J9Z3Q4W5E6R7T8Y9V0A1B2C3',
  mcp_client_id: 'claude-desktop',
  metadata: { client_version: '1.4.2' },
  status: 'active',
  created_at: '2026-01-05T09:30:00.000Z',
  last_activity_at: '2026-01-05T09:42:10.512Z',
  expired_at: null,
};

export const SessionSchema = z
  .object({
    id: z.string().max(30).openapi({ example: example.id }),
    user_id: z
      .string()
      .max(30)
      .openapi({ description: 'The user (or service client) the session belongs to.', example: example.user_id }),
    mcp_client_id: z.string().max(200).openapi({ example: example.mcp_client_id }),
    metadata: z.record(z.string(), z.unknown()).openapi({ example: example.metadata }),
    status: z
      .enum(['active', 'expired'])
      .openapi({ description: '`expired` once ended, or idle longer than the timeout.' }),
    created_at: z.string().max(40).openapi({ format: 'date-time', example: example.created_at }),
    last_activity_at: z.string().max(40).openapi({ format: 'date-time', example: example.last_activity_at }),
    expired_at: z.string().max(40).nullable().openapi({ format: 'date-time', example: null }),
  })
  .openapi('Session', { example });

export const SessionPageSchema = pageSchema(SessionSchema, 'SessionPage');

export const CreateSessionSchema = z
  .object({
    mcp_client_id: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .openapi({ description: 'Identifies the MCP client (1–200 characters).', example: 'claude-desktop' }),
    metadata: metadataSchema(SESSION_METADATA_MAX_BYTES)
      .default({})
      .openapi({
        description: `Free-form JSON object (at most ${SESSION_METADATA_MAX_BYTES} bytes as JSON and ${METADATA_MAX_DEPTH} levels deep).`,
        example: { client_version: '1.4.2' },
      }),
  })
  .strict()
  .openapi('CreateSession', { example: { mcp_client_id: 'claude-desktop', metadata: { client_version: '1.4.2' } } });

export const SessionIdParamSchema = z.object({
  id: z
    .string()
    .max(30)
    .regex(idPattern('ses'), 'must be a session id (ses_…)')
    .openapi({ param: { name: 'id', in: 'path' }, description: 'The session id (`ses_…`).', example: example.id }),
});

export const ListSessionsQuerySchema = PageQuerySchema.extend({
  status: z
    .enum(['active', 'expired', 'all'])
    .default('active')
    .openapi({ description: 'Which sessions: live ones (default), ended ones, or both.' }),
  user_id: z.string().max(30).regex(idPattern('usr'), 'must be a user id (usr_…)').optional().openapi({
    description: "Only this user's sessions (owners and admins see every user's; members only their own).",
    example: 'usr_01J9Z3Q4W5E6R7T8Y9V0A1B2C3',
  }),
});
