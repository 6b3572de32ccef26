// The fetch the typed client sends through, in three layers (outermost first):
//   refreshOn401   one new token from getToken after a 401, then the call once more;
//   resilientFetch per-call deadline, retries with exponential backoff and full jitter on 429/503
//                  and network errors (honouring Retry-After), only when the spec says a repeat
//                  is safe; every attempt carries the call's one Idempotency-Key;
//   bookmarked     every attempt sends the latest read-your-writes bookmark and keeps the newest.
import { MemoriaError, retryAfterMs } from './errors.js';
import { IDEMPOTENT_POSTS } from './generated.js';

export { retryAfterMs } from './errors.js';

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

export type Fetch = (request: Request) => Promise<Response>;

/** The header that carries the D1 read-your-writes bookmark both ways. */
export const BOOKMARK_HEADER = 'Memoria-Bookmark';

const REPEATABLE_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);
const RETRY_STATUSES = new Set([429, 503]);
// A spec path template matched at the end of a URL path (the base URL may add a prefix).
const templateMatchers = IDEMPOTENT_POSTS.map(
  (template) =>
    new RegExp(
      `${template
        .split(/\{[^}]+\}/)
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]+')}$`,
    ),
);

/** Whether the spec declares an `Idempotency-Key` for a POST to this URL path. */
export function declaresIdempotencyKey(pathname: string): boolean {
  return templateMatchers.some((matcher) => matcher.test(pathname));
}

/**
 * Whether sending the request twice cannot apply it twice: GET, HEAD, PUT and DELETE, or a POST
 * with an Idempotency-Key to an operation whose spec declares one (the API replays the first
 * response). Any other request (PATCH, POST without a declared key) is sent once.
 */
export function isRepeatable(request: Request): boolean {
  if (REPEATABLE_METHODS.has(request.method)) return true;
  return (
    request.method === 'POST' &&
    request.headers.has('idempotency-key') &&
    declaresIdempotencyKey(new URL(request.url).pathname)
  );
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

function networkError(request: Request, cause: unknown): MemoriaError {
  const reason = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : '';
  return new MemoriaError({
    status: 0,
    code: 'network_error',
    detail: `No response from ${new URL(request.url).origin}${reason ? ` (${reason})` : ''}.`,
    cause,
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
          // Aborted by the caller or the deadline: never retried. Network errors are, when safe.
          if (controller.signal.aborted) throw controller.signal.reason;
          if (!canRetry) throw networkError(request, err);
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

/** What one client instance remembers between calls. */
export interface ClientState {
  /** The newest read-your-writes bookmark the API sent (`Memoria-Bookmark`), sent back on every request. */
  bookmark: string | null;
}

/** Sends the client's bookmark with every attempt and keeps the one each response carries. */
export function bookmarked(inner: Fetch, state: ClientState): Fetch {
  return async (request) => {
    if (state.bookmark) request.headers.set(BOOKMARK_HEADER, state.bookmark);
    const response = await inner(request);
    const bookmark = response.headers.get(BOOKMARK_HEADER);
    if (bookmark) state.bookmark = bookmark;
    return response;
  };
}

/**
 * After a 401, asks `getToken` once more (with `forceRefresh`) and repeats the call with the new
 * token. A 401 means the API did nothing, so any request may be repeated.
 */
export function refreshOn401(
  inner: Fetch,
  getToken: ((context: { forceRefresh: boolean }) => string | Promise<string>) | undefined,
): Fetch {
  if (!getToken) return inner;
  return async (request) => {
    const response = await inner(request.clone());
    if (response.status !== 401) return response;
    await response.body?.cancel();
    request.headers.set('authorization', `Bearer ${await getToken({ forceRefresh: true })}`);
    return inner(request);
  };
}
