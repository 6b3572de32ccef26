// /v1/webhooks: endpoints that receive the change feed as signed Standard Webhooks messages
// (delivery: src/webhooks/deliver.ts). Owners and admins, scope manage:tenant.
import { OpenAPIHono } from '@hono/zod-openapi';
import { requestMeta, requireRole, runAsCaller } from '../../auth/caller';
import {
  type CreateVerdict,
  createWebhookStatements,
  type DeliveryRow,
  deleteWebhookStatements,
  getWebhookStatement,
  insertDeliveriesStatement,
  listDeliveriesStatements,
  listWebhooksStatement,
  rotateWebhookSecretStatements,
  toDelivery,
  toWebhook,
  updateWebhookStatements,
  type WebhookRow,
} from '../../db/webhooks';
import type { AppEnv } from '../../env';
import { cursorBinding, decodeCursor, encodeCursor } from '../../lib/cursor';
import { newId } from '../../lib/ids';
import { WEBHOOK_ENDPOINTS_MAX, WEBHOOK_SECRET_GRACE_MS } from '../../lib/limits';
import { PageQuerySchema, pageSchema } from '../../lib/pagination';
import { ApiError } from '../../lib/problem';
import { jsonResponse, problemResponses, securedRoute } from '../../lib/route';
import { toIso } from '../../lib/time';
import { newWebhookSecret } from '../../lib/webhook-signature';
import { type Attempt, deliveryRow, postMessage } from '../../webhooks/deliver';
import { urlRefusal } from '../../webhooks/url-guard';
import {
  CreateWebhookSchema,
  UpdateWebhookSchema,
  WebhookCreatedSchema,
  WebhookDeliverySchema,
  WebhookParams,
  WebhookSchema,
  WebhookSecretSchema,
} from './schemas';

export const webhooks = new OpenAPIHono<AppEnv>();

const notFound = (id: string) => new ApiError('not_found', `Webhook ${id} was not found.`);

/** The SSRF guard as a 422 on the body's `url`. */
async function assertUrlAllowed(env: AppEnv['Bindings'], url: string): Promise<void> {
  const refusal = await urlRefusal(url, env);
  if (refusal)
    throw new ApiError('webhook_url_refused', `The webhook URL ${refusal}.`, {
      errors: [{ path: 'json.url', message: refusal }],
    });
}

const createWebhook = securedRoute(['manage:tenant'], {
  method: 'post',
  path: '/v1/webhooks',
  operationId: 'createWebhook',
  tags: ['Webhooks'],
  summary: 'Create a webhook endpoint',
  description: `Every later change (filtered by \`events\`) is POSTed to it, signed. \`secret\` is shown only here. At most ${WEBHOOK_ENDPOINTS_MAX} per tenant.`,
  request: { body: { required: true, content: { 'application/json': { schema: CreateWebhookSchema } } } },
  responses: {
    201: jsonResponse(WebhookCreatedSchema, 'The endpoint and its secret'),
    ...problemResponses('insufficient_role', 'quota_exceeded', 'webhook_url_refused'),
  },
});

webhooks.openapi(createWebhook, async (c) => {
  const body = c.req.valid('json');
  await assertUrlAllowed(c.env, body.url);
  const now = Date.now();
  const w = {
    id: newId('whk', now),
    url: body.url,
    description: body.description ?? null,
    events: body.events ?? null,
    enabled: body.enabled,
    secret: newWebhookSecret(),
  };
  const { results } = await runAsCaller(
    c,
    createWebhookStatements(c.env.DB, c.get('auth').sub, w, WEBHOOK_ENDPOINTS_MAX, requestMeta(c), now),
  );
  const row = results[2]!.results[0] as WebhookRow | undefined;
  if (!row) {
    const verdict = (results[0]!.results[0] as { verdict: CreateVerdict }).verdict;
    if (verdict === 'quota_exceeded')
      throw new ApiError('quota_exceeded', `A tenant has at most ${WEBHOOK_ENDPOINTS_MAX} webhook endpoints.`);
    throw new ApiError('insufficient_role', 'Managing webhooks needs the owner or admin role.');
  }
  c.header('Location', `/v1/webhooks/${row.id}`);
  return c.json({ ...toWebhook(row), secret: row.secret }, 201);
});

const listWebhooks = securedRoute(['manage:tenant'], {
  method: 'get',
  path: '/v1/webhooks',
  operationId: 'listWebhooks',
  tags: ['Webhooks'],
  summary: 'List webhook endpoints',
  request: { query: PageQuerySchema },
  responses: {
    200: jsonResponse(pageSchema(WebhookSchema, 'WebhookPage'), 'A page of endpoints'),
    ...problemResponses('insufficient_role'),
  },
});

webhooks.openapi(listWebhooks, async (c) => {
  const q = c.req.valid('query');
  const sub = c.get('auth').sub;
  const binding = cursorBinding(sub, 'listWebhooks', {});
  const after = q.cursor ? ((await decodeCursor(c.env, binding, q.cursor)) as [number, string]) : null;
  const { caller, results } = await runAsCaller(c, [listWebhooksStatement(c.env.DB, sub, q.limit, after)]);
  requireRole(caller, 'owner', 'admin');
  const rows = results[0]!.results as unknown as WebhookRow[];
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  const next_cursor =
    rows.length > q.limit && last ? await encodeCursor(c.env, binding, [last.created_at, last.id]) : null;
  return c.json({ data: page.map(toWebhook), next_cursor }, 200);
});

const getWebhook = securedRoute(['manage:tenant'], {
  method: 'get',
  path: '/v1/webhooks/{id}',
  operationId: 'getWebhook',
  tags: ['Webhooks'],
  summary: 'Get a webhook endpoint',
  request: { params: WebhookParams },
  responses: {
    200: jsonResponse(WebhookSchema, 'The endpoint'),
    ...problemResponses('insufficient_role', 'not_found'),
  },
});

webhooks.openapi(getWebhook, async (c) => {
  const { id } = c.req.valid('param');
  const { caller, results } = await runAsCaller(c, [getWebhookStatement(c.env.DB, c.get('auth').sub, id)]);
  requireRole(caller, 'owner', 'admin');
  const row = results[0]!.results[0] as WebhookRow | undefined;
  if (!row) throw notFound(id);
  return c.json(toWebhook(row), 200);
});

const updateWebhook = securedRoute(['manage:tenant'], {
  method: 'patch',
  path: '/v1/webhooks/{id}',
  operationId: 'updateWebhook',
  tags: ['Webhooks'],
  summary: 'Update a webhook endpoint',
  description: '`enabled: true` resumes delivery where it stopped and clears the failures.',
  request: {
    params: WebhookParams,
    body: { required: true, content: { 'application/json': { schema: UpdateWebhookSchema } } },
  },
  responses: {
    200: jsonResponse(WebhookSchema, 'The endpoint'),
    ...problemResponses('insufficient_role', 'not_found', 'webhook_url_refused'),
  },
});

webhooks.openapi(updateWebhook, async (c) => {
  const { id } = c.req.valid('param');
  const patch = c.req.valid('json');
  if (patch.url !== undefined) await assertUrlAllowed(c.env, patch.url);
  const { caller, results } = await runAsCaller(
    c,
    updateWebhookStatements(c.env.DB, c.get('auth').sub, id, patch, requestMeta(c), Date.now()),
  );
  requireRole(caller, 'owner', 'admin');
  const row = results[1]!.results[0] as WebhookRow | undefined;
  if (!row) throw notFound(id);
  return c.json(toWebhook(row), 200);
});

const deleteWebhook = securedRoute(['manage:tenant'], {
  method: 'delete',
  path: '/v1/webhooks/{id}',
  operationId: 'deleteWebhook',
  tags: ['Webhooks'],
  summary: 'Delete a webhook endpoint',
  request: { params: WebhookParams },
  responses: {
    204: { description: 'Deleted' },
    ...problemResponses('insufficient_role', 'not_found'),
  },
});

webhooks.openapi(deleteWebhook, async (c) => {
  const { id } = c.req.valid('param');
  const { caller, results } = await runAsCaller(
    c,
    deleteWebhookStatements(c.env.DB, c.get('auth').sub, id, requestMeta(c), Date.now()),
  );
  requireRole(caller, 'owner', 'admin');
  if (results[1]!.results.length === 0) throw notFound(id);
  return c.body(null, 204);
});

const rotateWebhookSecret = securedRoute(['manage:tenant'], {
  method: 'post',
  path: '/v1/webhooks/{id}/rotate-secret',
  operationId: 'rotateWebhookSecret',
  tags: ['Webhooks'],
  summary: 'Rotate the signing secret',
  description: `The new secret is shown only here; the old one also signs for ${WEBHOOK_SECRET_GRACE_MS / 3_600_000} h.`,
  request: { params: WebhookParams },
  responses: {
    200: jsonResponse(WebhookSecretSchema, 'The new secret'),
    ...problemResponses('insufficient_role', 'not_found'),
  },
});

webhooks.openapi(rotateWebhookSecret, async (c) => {
  const { id } = c.req.valid('param');
  const now = Date.now();
  const graceUntil = now + WEBHOOK_SECRET_GRACE_MS;
  const { caller, results } = await runAsCaller(
    c,
    rotateWebhookSecretStatements(c.env.DB, c.get('auth').sub, id, newWebhookSecret(), graceUntil, requestMeta(c), now),
  );
  requireRole(caller, 'owner', 'admin');
  const row = results[1]!.results[0] as WebhookRow | undefined;
  if (!row) throw notFound(id);
  return c.json({ secret: row.secret, previous_secret_expires_at: toIso(graceUntil)! }, 200);
});

const testWebhook = securedRoute(['manage:tenant'], {
  method: 'post',
  path: '/v1/webhooks/{id}/test',
  operationId: 'testWebhook',
  tags: ['Webhooks'],
  summary: 'Send a test event',
  description: 'Sends a signed `webhook.test` message now, once, and answers with the attempt.',
  request: { params: WebhookParams },
  responses: {
    200: jsonResponse(WebhookDeliverySchema, 'The attempt'),
    ...problemResponses('insufficient_role', 'not_found'),
  },
});

webhooks.openapi(testWebhook, async (c) => {
  const { id } = c.req.valid('param');
  const { caller, results } = await runAsCaller(c, [getWebhookStatement(c.env.DB, c.get('auth').sub, id)]);
  requireRole(caller, 'owner', 'admin');
  const w = results[0]!.results[0] as WebhookRow | undefined;
  if (!w) throw notFound(id);
  const now = Date.now();
  const messageId = newId('msg', now);
  const body = JSON.stringify({ type: 'webhook.test', timestamp: toIso(now), data: { webhook_id: w.id } });
  const attempt: Attempt = (await urlRefusal(w.url, c.env))
    ? { ok: false, responseStatus: null, error: 'url_refused', durationMs: 0 }
    : await postMessage(w, messageId, body, (url, init) => fetch(url, init), Date.now);
  const row: DeliveryRow = deliveryRow(
    w,
    { messageId, eventType: 'webhook.test', seq: null, attempt: 1 },
    attempt,
    null,
    Date.now(),
  );
  await insertDeliveriesStatement(c.env.DB, w.id, [row]).run();
  return c.json(toDelivery(row), 200);
});

const listWebhookDeliveries = securedRoute(['manage:tenant'], {
  method: 'get',
  path: '/v1/webhooks/{id}/deliveries',
  operationId: 'listWebhookDeliveries',
  tags: ['Webhooks'],
  summary: 'List delivery attempts',
  description: 'Newest first, kept 30 days.',
  request: { params: WebhookParams, query: PageQuerySchema },
  responses: {
    200: jsonResponse(pageSchema(WebhookDeliverySchema, 'WebhookDeliveryPage'), 'A page of attempts'),
    ...problemResponses('insufficient_role', 'not_found'),
  },
});

webhooks.openapi(listWebhookDeliveries, async (c) => {
  const { id } = c.req.valid('param');
  const q = c.req.valid('query');
  const sub = c.get('auth').sub;
  const binding = cursorBinding(sub, 'listWebhookDeliveries', { id });
  const before = q.cursor ? ((await decodeCursor(c.env, binding, q.cursor)) as [number])[0] : null;
  const { caller, results } = await runAsCaller(c, listDeliveriesStatements(c.env.DB, sub, id, q.limit, before));
  requireRole(caller, 'owner', 'admin');
  if (results[0]!.results.length === 0) throw notFound(id);
  const rows = results[1]!.results as unknown as (DeliveryRow & { position: number })[];
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  const next_cursor = rows.length > q.limit && last ? await encodeCursor(c.env, binding, [last.position]) : null;
  return c.json({ data: page.map(toDelivery), next_cursor }, 200);
});
