import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';

/**
 * Every error the API answers, by its stable `code`: the HTTP status it goes with and its title.
 * `ApiError` takes its status and title from here, and the spec publishes the codes as the
 * `ProblemCode` enum, each problem response listing the codes it can carry (lib/route.ts).
 */
export const ERRORS = {
  malformed_json: { status: 400, title: 'Bad Request' },
  invalid_parameter: { status: 400, title: 'Bad Request' },
  invalid_cursor: { status: 400, title: 'Bad Request' },
  invalid_query: { status: 400, title: 'Bad Request' },
  http_error: { status: 400, title: 'Bad Request' },
  invalid_token: { status: 401, title: 'Unauthorized' },
  insufficient_scope: { status: 403, title: 'Forbidden' },
  insufficient_role: { status: 403, title: 'Forbidden' },
  not_provisioned: { status: 403, title: 'Forbidden' },
  quota_exceeded: { status: 403, title: 'Forbidden' },
  vector_limit_exceeded: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not Found' },
  method_not_allowed: { status: 405, title: 'Method Not Allowed' },
  conflict: { status: 409, title: 'Conflict' },
  already_provisioned: { status: 409, title: 'Conflict' },
  vector_index_not_configured: { status: 409, title: 'Conflict' },
  email_taken: { status: 409, title: 'Conflict' },
  auth0_id_taken: { status: 409, title: 'Conflict' },
  last_owner: { status: 409, title: 'Conflict' },
  memory_deleted: { status: 409, title: 'Conflict' },
  session_expired: { status: 409, title: 'Conflict' },
  tenant_not_deleted: { status: 409, title: 'Conflict' },
  plan_limits_exceeded: { status: 409, title: 'Conflict' },
  version_exhausted: { status: 409, title: 'Conflict' },
  embedding_dimensions_locked: { status: 409, title: 'Conflict' },
  retention_expired: { status: 410, title: 'Gone' },
  cursor_expired: { status: 410, title: 'Gone' },
  precondition_failed: { status: 412, title: 'Precondition Failed' },
  payload_too_large: { status: 413, title: 'Content Too Large' },
  unsupported_media_type: { status: 415, title: 'Unsupported Media Type' },
  validation_failed: { status: 422, title: 'Unprocessable Content' },
  idempotency_key_reused: { status: 422, title: 'Unprocessable Content' },
  import_invalid: { status: 422, title: 'Unprocessable Content' },
  webhook_url_refused: { status: 422, title: 'Unprocessable Content' },
  too_many_tags: { status: 422, title: 'Unprocessable Content' },
  version_not_restorable: { status: 422, title: 'Unprocessable Content' },
  vector_required: { status: 422, title: 'Unprocessable Content' },
  rate_limited: { status: 429, title: 'Too Many Requests' },
  internal_error: { status: 500, title: 'Internal Server Error' },
  embedding_failed: { status: 502, title: 'Bad Gateway' },
  auth_unavailable: { status: 503, title: 'Service Unavailable' },
  auth_not_configured: { status: 503, title: 'Service Unavailable' },
  database_unavailable: { status: 503, title: 'Service Unavailable' },
  cursor_not_configured: { status: 503, title: 'Service Unavailable' },
  embedding_unavailable: { status: 503, title: 'Service Unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof ERRORS;
export const PROBLEM_CODES = Object.keys(ERRORS) as [ProblemCode, ...ProblemCode[]];

export interface FieldError {
  path: string;
  message: string;
}

/** An error the API reports to the client as RFC 9457 problem+json. Throw it from anywhere. */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    this.status = ERRORS[code].status;
  }
}

/**
 * Zod issues as field errors under `prefix`; a strict object names each field it does not know at
 * that field's own path (one rule for JSON bodies and import lines).
 */
export function issueErrors(prefix: string, issues: readonly z.core.$ZodIssue[]): FieldError[] {
  return issues.flatMap((issue) => {
    const path = [prefix, ...issue.path.map(String)];
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({ path: [...path, key].join('.'), message: 'is not a known field' }));
    return [{ path: path.join('.'), message: issue.message }];
  });
}

/**
 * The one formatter of validation failures: a body field makes it a 422 `validation_failed`,
 * anything else (path, query, header) a 400 `invalid_parameter`; the detail names every field.
 */
export function invalidRequest(errors: FieldError[]): ApiError {
  const isBody = errors.some((e) => e.path === 'json' || e.path.startsWith('json.'));
  const what = isBody ? 'The request body is invalid' : 'A request parameter is invalid';
  return new ApiError(
    isBody ? 'validation_failed' : 'invalid_parameter',
    `${what}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`.slice(0, 1000),
    { errors },
  );
}

/** The bounds the Problem schema documents; problemBody enforces them so no response exceeds them. */
const LIMITS = { detail: 2000, errors: 100, path: 500, message: 1000 };

export const ProblemCodeSchema = z.enum(PROBLEM_CODES).openapi('ProblemCode', {
  description: [
    'Every error code the API answers, with its HTTP status. Each problem response of an operation',
    'lists the codes it can carry.',
    '',
    '| code | status |',
    '|---|---|',
    ...PROBLEM_CODES.map((code) => `| \`${code}\` | ${ERRORS[code].status} ${ERRORS[code].title} |`),
  ].join('\n'),
  example: 'not_found',
});

export const ProblemSchema = z
  .object({
    type: z.string().max(200).openapi({ format: 'uri', example: 'https://memoria.dev/problems/not_found' }),
    title: z.string().max(100).openapi({ example: 'Not Found' }),
    status: z.number().int().min(400).max(599).openapi({ example: 404 }),
    detail: z.string().max(LIMITS.detail).openapi({ example: 'Memory mem_01J9Z3Q4W5E6R7T8Y9V0A1B2C3 was not found.' }),
    code: ProblemCodeSchema,
    request_id: z
      .string()
      .max(128)
      .regex(/^[A-Za-z0-9._:-]+$/)
      .openapi({
        example: 'req_01J9Z3Q4W5E6R7T8Y9V0A1B2C3',
        description: 'Also sent as the `X-Request-Id` header; quote it when reporting a problem.',
      }),
    errors: z
      .array(
        z.object({
          path: z.string().max(LIMITS.path).openapi({ example: 'json.content' }),
          message: z
            .string()
            .max(LIMITS.message)
            .openapi({ example: 'Too small: expected string to have >=1 characters' }),
        }),
      )
      .max(LIMITS.errors)
      .optional()
      .openapi({ description: 'Present on validation errors: one entry per invalid field.' }),
  })
  .openapi('Problem', {
    description: 'An RFC 9457 problem: every error response has this shape, as `application/problem+json`.',
    example: {
      type: 'https://memoria.dev/problems/validation_failed',
      title: 'Unprocessable Content',
      status: 422,
      detail: 'The request body is invalid: json.content: Too small: expected string to have >=1 characters',
      code: 'validation_failed',
      request_id: 'req_01J9Z3Q4W5E6R7T8Y9V0A1B2C3',
      errors: [{ path: 'json.content', message: 'Too small: expected string to have >=1 characters' }],
    },
  });

export type Problem = z.infer<typeof ProblemSchema>;

export function problemBody(code: ProblemCode, detail: string, requestId: string, errors?: FieldError[]): Problem {
  const { status, title } = ERRORS[code];
  return {
    type: `https://memoria.dev/problems/${code}`,
    title,
    status,
    detail: detail.slice(0, LIMITS.detail),
    code,
    request_id: requestId,
    ...(errors
      ? {
          errors: errors
            .slice(0, LIMITS.errors)
            .map((e) => ({ path: e.path.slice(0, LIMITS.path), message: e.message.slice(0, LIMITS.message) })),
        }
      : {}),
  };
}

export function problemResponse(c: Context, err: ApiError): Response {
  const body = problemBody(err.code, err.detail, c.get('requestId') ?? 'unknown', err.extra.errors);
  return new Response(JSON.stringify(body), {
    status: err.status,
    headers: { 'content-type': 'application/problem+json', ...err.extra.headers },
  });
}
