// The fetch the typed client sends through: per-call deadline, retries with exponential backoff
// and full jitter on 429/503 and network errors (honouring Retry-After), only when a repeat is
// safe. One logical call = one Idempotency-Key, reused by every attempt.
import { MemoriaError } from './errors.js';

export interface RetryOptions {
  /** Extra attempts after the first (default 3; 0 disables retries). */
  retries?: number;
  /** First backoff step in ms (default 250); doubles each attempt, with full jitter. */
  retryBaseMs?: number;
  /** Longest single wait in ms (default 20 000). A Retry-After beyond it is not waited for. */
  maxRetryDelayMs?: number;
  /** Deadline for a whole call, retries included, in ms (default 30 000; 0 = none). */
  timeoutMs?: number;
}

type Fetch = (request: Request) => Promise<Response>;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const RETRY_STATUSES = new Set([429, 503]);

/**
 * Whether sending the request twice cannot apply it twice: safe/idempotent methods, a POST/PATCH
 * with an Idempotency-Key (the server replays the first response), or a PATCH with If-Match (a
 * repeat after success fails the precondition instead of applying again).
 */
export function isRepeatable(request: Request): boolean {
  if (SAFE_METHODS.has(request.method)) return true;
  if (request.headers.has('idempotency-key')) return true;
  return request.method === 'PATCH' && request.headers.has('if-match');
}

/** Retry-After as ms: delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(response: Response, now = Date.now()): number | null {
  const value = response.headers.get('retry-after');
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** Full jitter: a random wait in [0, min(max, base·2^attempt)]. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** attempt));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function resilientFetch(inner: Fetch, options: RetryOptions = {}): Fetch {
  const retries = options.retries ?? 3;
  const baseMs = options.retryBaseMs ?? 250;
  const maxDelayMs = options.maxRetryDelayMs ?? 20_000;
  const timeoutMs = options.timeoutMs ?? 30_000;

  return async (request) => {
    // One controller aborts the attempt in flight and any wait: the caller's signal or the deadline.
    const controller = new AbortController();
    const callerSignal = request.signal;
    const onCallerAbort = () => controller.abort(callerSignal.reason);
    if (callerSignal.aborted) onCallerAbort();
    else callerSignal.addEventListener('abort', onCallerAbort, { once: true });
    let timedOut = false;
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            controller.abort(
              new MemoriaError({ status: 0, code: 'timeout', detail: `No response within ${timeoutMs} ms.` }),
            );
          }, timeoutMs)
        : undefined;

    const repeatable = isRepeatable(request);
    try {
      for (let attempt = 0; ; attempt++) {
        const canRetry = repeatable && attempt < retries;
        let wait: number;
        try {
          const response = await inner(new Request(request.clone(), { signal: controller.signal }));
          if (!canRetry || !RETRY_STATUSES.has(response.status)) return response;
          const asked = retryAfterMs(response);
          if (asked !== null && asked > maxDelayMs) return response; // the server asks for longer than we wait
          wait = asked ?? backoffMs(attempt, baseMs, maxDelayMs);
          await response.body?.cancel();
        } catch (err) {
          // Aborted by the caller or the deadline: never retried. Network errors are.
          if (controller.signal.aborted || !canRetry) throw controller.signal.aborted ? controller.signal.reason : err;
          wait = backoffMs(attempt, baseMs, maxDelayMs);
        }
        if (Date.now() + wait >= deadline) wait = Math.max(0, deadline - Date.now()); // the deadline ends the wait
        await sleep(wait, controller.signal);
      }
    } catch (err) {
      throw timedOut ? controller.signal.reason : err;
    } finally {
      clearTimeout(timer);
      callerSignal.removeEventListener('abort', onCallerAbort);
    }
  };
}
