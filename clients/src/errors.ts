import type { ProblemCode } from './generated.js';
import type { components } from './schema.js';

/** An RFC 9457 problem as the API sends it (`application/problem+json`). */
export type Problem = components['schemas']['Problem'];
export type FieldError = NonNullable<Problem['errors']>[number];

/**
 * Every `code` a `MemoriaError` can carry: the problem codes the spec declares, `network_error`
 * (no answer: connection refused or dropped, DNS), `timeout` (the call's deadline passed), and
 * `http_<status>` for an error response that is not a problem (a proxy's page, say).
 */
export type MemoriaErrorCode = ProblemCode | 'network_error' | 'timeout' | `http_${number}`;

/**
 * A request the API answered with an error (4xx/5xx), or a call that got no answer
 * (`network_error`, `timeout`; `status` 0). `code` is stable: branch on it, not on `detail`.
 */
export class MemoriaError extends Error {
  override readonly name = 'MemoriaError';
  /** The HTTP status; 0 when no response arrived. */
  readonly status: number;
  readonly code: MemoriaErrorCode;
  /** Quote it when reporting a problem (also the response's `X-Request-Id`). */
  readonly requestId: string | null;
  readonly detail: string;
  /** Validation errors: one entry per invalid field (`path` like `json.content`). */
  readonly errors: FieldError[];
  /** Seconds the API asks you to wait before trying again (`Retry-After` of a 429/503), else null. */
  readonly retryAfter: number | null;
  readonly problem: Problem | null;
  readonly response: Response | null;

  constructor(init: {
    status: number;
    code: MemoriaErrorCode;
    detail: string;
    requestId?: string | null;
    errors?: FieldError[];
    retryAfter?: number | null;
    problem?: Problem | null;
    response?: Response | null;
    cause?: unknown;
  }) {
    super(`${init.status ? `${init.status} ` : ''}${init.code}: ${init.detail}`, { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail;
    this.requestId = init.requestId ?? null;
    this.errors = init.errors ?? [];
    this.retryAfter = init.retryAfter ?? null;
    this.problem = init.problem ?? null;
    this.response = init.response ?? null;
  }

  /** Builds the error from an error response and its parsed body (a Problem, or anything else). */
  static from(response: Response, body: unknown): MemoriaError {
    const problem = isProblem(body) ? body : null;
    const waitMs = retryAfterMs(response);
    return new MemoriaError({
      status: response.status,
      code: (problem?.code as ProblemCode | undefined) ?? `http_${response.status}`,
      detail: problem?.detail ?? (response.statusText || `HTTP ${response.status}`),
      requestId: problem?.request_id ?? response.headers.get('x-request-id'),
      errors: problem?.errors ?? [],
      retryAfter: waitMs === null ? null : Math.ceil(waitMs / 1000),
      problem,
      response,
    });
  }
}

/** Retry-After as ms: delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(response: Response, now = Date.now()): number | null {
  const value = response.headers.get('retry-after');
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

function isProblem(body: unknown): body is Problem {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as Problem).code === 'string' &&
    typeof (body as Problem).status === 'number'
  );
}
