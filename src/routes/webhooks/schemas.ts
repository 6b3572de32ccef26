import { z } from '@hono/zod-openapi';
import { idPattern } from '../../lib/ids';
import { prefixedIdSchema, timestampSchema } from '../../lib/schemas';
import { CHANGE_TYPES } from '../changes';

const EXAMPLE_ID = 'whk_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3';
export const WEBHOOK_EVENTS = CHANGE_TYPES.map((t) => `memory.${t}` as const);

export const WebhookEventSchema = z.enum(WEBHOOK_EVENTS).openapi('WebhookEvent', { example: 'memory.update' });

const events = z
  .array(WebhookEventSchema)
  .min(1)
  .max(WEBHOOK_EVENTS.length)
  .refine((list) => new Set(list).size === list.length, 'must not repeat an event');
const url = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .openapi({
    description: 'https; no private, loopback, link-local, CGNAT or metadata address.',
    example: 'https://hooks.example.com/memoria',
  });
const description = z.string().trim().min(1).max(500).openapi({ example: 'Search index sync' });

export const WebhookSchema = z
  .object({
    id: prefixedIdSchema(EXAMPLE_ID),
    url,
    description: description.nullable(),
    events: events.nullable().openapi({ description: 'The events it receives; null: every event.', example: null }),
    enabled: z.boolean().openapi({ example: true }),
    disabled_reason: z.enum(['failing']).nullable().openapi({
      description: '`failing`: disabled by Memoria after its deliveries kept failing (PATCH `enabled: true` resumes).',
      example: null,
    }),
    consecutive_failures: z.number().int().min(0).max(100).openapi({ example: 0 }),
    next_attempt_at: timestampSchema()
      .nullable()
      .openapi({ description: 'When a failed delivery is retried.', example: null }),
    created_at: timestampSchema(),
    updated_at: timestampSchema(),
  })
  .openapi('Webhook');

const secret = z.string().max(100).openapi({
  description: 'The signing secret (Standard Webhooks form); shown only once.',
  example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
});

export const WebhookCreatedSchema = WebhookSchema.extend({ secret }).openapi('WebhookWithSecret');

export const CreateWebhookSchema = z
  .object({
    url,
    events: events.optional(),
    description: description.optional(),
    enabled: z.boolean().default(true).openapi({ example: true }),
  })
  .strict()
  .openapi('CreateWebhook', {
    example: { url: 'https://hooks.example.com/memoria', events: ['memory.create', 'memory.update'], enabled: true },
  });

export const UpdateWebhookSchema = z
  .object({
    url: url.optional(),
    events: events.nullable().optional(),
    description: description.nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'give at least one field')
  .openapi('UpdateWebhook', { example: { enabled: true } });

export const WebhookSecretSchema = z
  .object({
    secret,
    previous_secret_expires_at: timestampSchema('2026-01-06T10:00:00.000Z').openapi({
      description: 'Until then the previous secret signs too (a second `v1,` signature).',
    }),
  })
  .openapi('WebhookSecret');

export const WebhookDeliverySchema = z
  .object({
    id: prefixedIdSchema('dlv_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3'),
    message_id: z.string().max(100).openapi({
      description: 'The `webhook-id` header: the same on every retry.',
      example: 'msg_01J9Z3Q4W5E6R7T8Y9V0W1X2Y3_42',
    }),
    event_type: z.string().max(40).openapi({ example: 'memory.update' }),
    seq: z
      .number()
      .int()
      .min(1)
      .max(Number.MAX_SAFE_INTEGER)
      .nullable()
      .openapi({ description: 'The change (null for a test).', example: 42 }),
    attempt: z.number().int().min(1).max(100).openapi({ example: 1 }),
    status: z.enum(['succeeded', 'failed']).openapi({ example: 'succeeded' }),
    response_status: z.number().int().min(100).max(599).nullable().openapi({ example: 200 }),
    error: z
      .enum(['timeout', 'connection_failed', 'http_status', 'redirect', 'url_refused'])
      .nullable()
      .openapi({ description: 'Why it failed (a non-2xx answer is `http_status`).', example: null }),
    duration_ms: z.number().int().min(0).max(600_000).openapi({ example: 84 }),
    next_retry_at: timestampSchema().nullable().openapi({ example: null }),
    created_at: timestampSchema(),
  })
  .openapi('WebhookDelivery');

export const WebhookParams = z.object({
  id: z
    .string()
    .max(30)
    .regex(idPattern('whk'), 'must be a webhook id (whk_…)')
    .openapi({ param: { name: 'id', in: 'path' }, description: 'The webhook id (`whk_…`).', example: EXAMPLE_ID }),
});
