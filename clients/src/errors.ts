import type { components } from './schema.js';

/** An RFC 9457 problem as the API sends it (`application/problem+json`). */
export type Problem = components['schemas']['Problem'];
export type FieldError = NonNullable<Problem['errors']>[number];

/**
 * A request the API answered with an error (4xx/5xx), or a call that timed out (`code: 'timeout'`,
 * `status: 0`). `code` is the API's stable snake_case code: branch on it, not on `detail`.
 */
export class MemoriaError extends Error {
  override readonly name = 'MemoriaError';
  readonly status: number;
  readonly code: string;
  /** Quote it when reporting a problem (also the response's `X-Request-Id`). */
  readonly requestId: string | null;
  readonly detail: string;
  /** Validation errors: one entry per invalid field (`path` like `json.content`). */
  readonly errors: FieldError[];
  readonly problem: Problem | null;
  readonly response: Response | null;

  constructor(init: {
    status: number;
    code: string;
    detail: string;
    requestId?: string | null;
    errors?: FieldError[];
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
    this.problem = init.problem ?? null;
    this.response = init.response ?? null;
  }

  /** Builds the error from an error response and its parsed body (a Problem, or anything else). */
  static from(response: Response, body: unknown): MemoriaError {
    const problem = isProblem(body) ? body : null;
    return new MemoriaError({
      status: response.status,
      code: problem?.code ?? `http_${response.status}`,
      detail: problem?.detail ?? (response.statusText || `HTTP ${response.status}`),
      requestId: problem?.request_id ?? response.headers.get('x-request-id'),
      errors: problem?.errors ?? [],
      problem,
      response,
    });
  }
}

function isProblem(body: unknown): body is Problem {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as Problem).code === 'string' &&
    typeof (body as Problem).status === 'number'
  );
}
