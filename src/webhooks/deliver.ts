// Webhook delivery: reads each endpoint's changes after its cursor (the change feed is the outbox)
// and POSTs them one message per change, in seq order, as Standard Webhooks messages. The cursor
// moves only past a 2xx; a failure stops the endpoint (order is kept) and schedules a retry with
// exponential backoff and jitter. Runs only inside the tenant's WebhookDispatcher (one run at a
// time per tenant), so no two runs race on an endpoint.

import { type ChangeRow, toChange } from '../db/changes';
import { tenantDatabase } from '../db/directory';
import {
  type DeliveryError,
  type DeliveryRow,
  enabledWebhooksStatement,
  pendingChangesStatement,
  saveProgressStatements,
  type WebhookRow,
} from '../db/webhooks';
import type { Env } from '../env';
import { newId } from '../lib/ids';
import { toIso } from '../lib/time';
import { webhookHeaders } from '../lib/webhook-signature';
import { type Resolve, urlRefusal } from './url-guard';

const SECOND = 1000;
const HOUR = 3600 * SECOND;
/** Wait after the n-th consecutive failure (plus up to 10% jitter): 27.6 h in all before the last try. */
export const RETRY_DELAYS_MS = [
  5 * SECOND,
  5 * 60 * SECOND,
  30 * 60 * SECOND,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
];
/** Consecutive failures after which an endpoint is disabled. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
const PAGE = 50;
/** Messages per endpoint per run: a run stays far below the subrequest and D1 query limits of one invocation. */
export const MAX_MESSAGES_PER_RUN = 200;
export const DELIVERY_TIMEOUT_MS = 10 * SECOND;
/** Bytes of a response body read at most (then the stream is cancelled). */
const RESPONSE_READ_MAX = 4096;

export type Send = (url: string, init: RequestInit) => Promise<Response>;

export interface DeliveryOptions {
  now?: () => number;
  send?: Send;
  resolve?: Resolve;
  random?: () => number;
}

export interface Attempt {
  ok: boolean;
  responseStatus: number | null;
  error: DeliveryError | null;
  durationMs: number;
}

/** The secrets that sign now: the current one, and the previous one during its grace period. */
export function signingSecrets(w: WebhookRow, now: number): string[] {
  const previous = w.previous_secret && (w.previous_secret_expires_at ?? 0) > now ? [w.previous_secret] : [];
  return [w.secret, ...previous];
}

/** POSTs one signed message: no redirects followed, a timeout, at most a few KiB of the answer read. */
export async function postMessage(
  w: WebhookRow,
  messageId: string,
  body: string,
  send: Send,
  now: () => number,
): Promise<Attempt> {
  const started = now();
  const headers = await webhookHeaders(signingSecrets(w, started), messageId, Math.floor(started / 1000), body);
  try {
    const res = await send(w.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Memoria-Webhooks/1', ...headers },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    await readAtMost(res, RESPONSE_READ_MAX);
    const ok = res.status >= 200 && res.status < 300;
    const error = ok ? null : res.status >= 300 && res.status < 400 ? 'redirect' : 'http_status';
    return { ok, responseStatus: res.status, error, durationMs: now() - started };
  } catch (err) {
    const timeout = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    return {
      ok: false,
      responseStatus: null,
      error: timeout ? 'timeout' : 'connection_failed',
      durationMs: now() - started,
    };
  }
}

async function readAtMost(res: Response, max: number): Promise<void> {
  const reader = res.body?.getReader();
  if (!reader) return;
  for (let read = 0; read < max; ) {
    const { done, value } = await reader.read();
    if (done) return;
    read += value.byteLength;
  }
  await reader.cancel();
}

/** The attempt row of a message, for GET /v1/webhooks/{id}/deliveries. */
export function deliveryRow(
  w: WebhookRow,
  m: { messageId: string; eventType: string; seq: number | null; attempt: number },
  a: Attempt,
  nextRetryAt: number | null,
  at: number,
): DeliveryRow {
  return {
    id: newId('dlv', at),
    tenant_id: w.tenant_id,
    endpoint_id: w.id,
    message_id: m.messageId,
    event_type: m.eventType,
    seq: m.seq,
    attempt: m.attempt,
    status: a.ok ? 'succeeded' : 'failed',
    response_status: a.responseStatus,
    error: a.error,
    duration_ms: a.durationMs,
    next_retry_at: nextRetryAt,
    created_at: at,
  };
}

/** The webhook-id of change `seq` for endpoint `w`: the same on every retry, so receivers can drop repeats. */
export const messageIdFor = (w: WebhookRow, seq: number) => `msg_${w.id.slice(4)}_${seq}`;

/** The Standard Webhooks payload of a change. */
export const changePayload = (ch: ChangeRow) =>
  JSON.stringify({ type: `memory.${ch.type}`, timestamp: toIso(ch.occurred_at), data: toChange(ch) });

/**
 * Delivers what the tenant's enabled endpoints have waiting. Returns when the dispatcher should
 * run again: now (more waiting than one run sends), the earliest retry, or null (nothing waits).
 */
export async function deliverTenant(
  deployment: Env,
  tenantId: string,
  o: DeliveryOptions = {},
): Promise<number | null> {
  const env = { ...deployment, DB: await tenantDatabase(deployment, tenantId) };
  const endpoints = (await enabledWebhooksStatement(env.DB, tenantId).all<WebhookRow>()).results;
  const next = await Promise.all(endpoints.map((w) => deliverEndpoint(env, w, o)));
  const due = next.filter((t): t is number => t !== null);
  return due.length > 0 ? Math.min(...due) : null;
}

async function deliverEndpoint(env: Env, w: WebhookRow, o: DeliveryOptions): Promise<number | null> {
  const now = o.now ?? Date.now;
  const send = o.send ?? ((url, init) => fetch(url, init));
  const random = o.random ?? Math.random;
  if (w.next_attempt_at !== null && w.next_attempt_at > now()) return w.next_attempt_at;
  // Checked once per run, before anything is sent: DNS may point elsewhere than at creation.
  const refusal = await urlRefusal(w.url, env, o.resolve);
  let cursor = w.cursor;
  let failures = w.failure_count;
  for (let sent = 0; sent < MAX_MESSAGES_PER_RUN; ) {
    const changes = (await pendingChangesStatement(env.DB, w, cursor, PAGE).all<ChangeRow>()).results;
    if (changes.length === 0) return null;
    const attempts: DeliveryRow[] = [];
    for (const ch of changes) {
      const m = {
        messageId: messageIdFor(w, ch.seq),
        eventType: `memory.${ch.type}`,
        seq: ch.seq,
        attempt: failures + 1,
      };
      const a: Attempt = refusal
        ? { ok: false, responseStatus: null, error: 'url_refused', durationMs: 0 }
        : await postMessage(w, m.messageId, changePayload(ch), send, now);
      const at = now();
      if (a.ok) {
        attempts.push(deliveryRow(w, m, a, null, at));
        cursor = ch.seq;
        failures = 0;
        sent++;
        continue;
      }
      failures++;
      const disable = failures >= MAX_ATTEMPTS;
      const delay = RETRY_DELAYS_MS[failures - 1] ?? 0;
      const nextAttemptAt = disable ? null : at + Math.round(delay * (1 + 0.1 * random()));
      attempts.push(deliveryRow(w, m, a, nextAttemptAt, at));
      await env.DB.batch(
        saveProgressStatements(
          env.DB,
          w,
          { cursor, failureCount: failures, nextAttemptAt, disable },
          attempts,
          at,
          newId('aud', at),
        ),
      );
      return nextAttemptAt;
    }
    await env.DB.batch(
      saveProgressStatements(
        env.DB,
        w,
        { cursor, failureCount: 0, nextAttemptAt: null, disable: false },
        attempts,
        now(),
        '',
      ),
    );
    if (changes.length < PAGE) return null;
  }
  return now();
}
