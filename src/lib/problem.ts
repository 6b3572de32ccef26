import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { MAX_BODY_BYTES } from './limits';

/** Stable, documented error titles by HTTP status. */
const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export interface FieldError {
  path: string;
  message: string;
}

/** An error the API reports to the client as RFC 9457 problem+json. Throw it from anywhere. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
  }
}

/** The bounds the Problem schema documents; problemBody enforces them so no response exceeds them. */
const LIMITS = { detail: 2000, errors: 100, path: 500, message: 1000 };

export const ProblemSchema = z
  .object({
    type: z.string().max(200).openapi({ format: 'uri', example: 'https://memoria.dev/problems/not_found' }),
    title: z.string().max(100).openapi({ example: 'Not Found' }),
    status: z.number().int().min(400).max(599).openapi({ example: 404 }),
    detail: z.string().max(LIMITS.detail).openapi({ example: 'Memory mem_01J9Z3Q4W5E6R7T8Y9V0A1B2C3 was not found.' }),
    code: z
      .string()
      .max(64)
      .regex(/^[a-z][a-z0-9_]*$/)
      .openapi({ example: 'not_found', description: 'Stable snake_case error code.' }),
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

export function problemBody(
  status: number,
  code: string,
  detail: string,
  requestId: string,
  errors?: FieldError[],
): Problem {
  return {
    type: `https://memoria.dev/problems/${code}`,
    title: TITLES[status] ?? 'Error',
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
  const body = problemBody(err.status, err.code, err.detail, c.get('requestId') ?? 'unknown', err.extra.errors);
  return new Response(JSON.stringify(body), {
    status: err.status,
    headers: { 'content-type': 'application/problem+json', ...err.extra.headers },
  });
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed request: invalid JSON, query or path parameter.',
  401: 'Missing or invalid access token.',
  403: 'The token lacks a required scope, or the caller lacks the role.',
  404: "No such resource in the caller's tenant.",
  409: 'Conflicts with the current state.',
  410: 'No longer available.',
  412: 'If-Match did not match the current ETag.',
  413: `Request body larger than ${MAX_BODY_BYTES} bytes.`,
  415: 'Request body must be application/json (application/x-ndjson for POST /v1/import).',
  422: 'The body failed validation.',
  429: 'Rate limit exceeded; retry after the Retry-After delay.',
  500: 'Unexpected server error; quote the request id when reporting it.',
  503: 'Temporarily unavailable; retry after the Retry-After delay.',
};

/** A response header as a plain OpenAPI header object (merged with the common ones in lib/route.ts). */
const header = (
  description: string,
  example: string,
  schema: { maxLength: number; pattern?: string },
  required = true,
) => ({
  description,
  required,
  schema: { type: 'string' as const, ...schema },
  example,
});
const retryAfter = header('Seconds to wait before retrying.', '30', { maxLength: 10, pattern: '^\\d+$' });
const challenge = (example: string, required: boolean) =>
  header(
    'The Bearer challenge (RFC 6750): `error` says why, `scope` which scopes the operation needs.',
    example,
    { maxLength: 300 },
    required,
  );

/** Headers a problem of that status carries: when to come back (429, 503), the Bearer challenge (401; 403 for a missing scope). */
const PROBLEM_HEADERS: Record<number, Record<string, ReturnType<typeof header>>> = {
  401: { 'WWW-Authenticate': challenge('Bearer realm="memoria", error="invalid_token"', true) },
  403: {
    'WWW-Authenticate': challenge('Bearer realm="memoria", error="insufficient_scope", scope="write:memories"', false),
  },
  429: { 'Retry-After': retryAfter },
  503: { 'Retry-After': retryAfter },
};

/**
 * OpenAPI `responses` entries for the problem statuses a route can return
 * (429 and 503 declare `Retry-After`, 401 and 403 `WWW-Authenticate`).
 */
export function problemResponses(...statuses: number[]) {
  const out: Record<
    number,
    {
      description: string;
      headers?: (typeof PROBLEM_HEADERS)[number];
      content: { 'application/problem+json': { schema: typeof ProblemSchema } };
    }
  > = {};
  for (const s of statuses) {
    out[s] = {
      description: DESCRIPTIONS[s] ?? TITLES[s] ?? 'Error',
      ...(PROBLEM_HEADERS[s] ? { headers: PROBLEM_HEADERS[s] } : {}),
      content: { 'application/problem+json': { schema: ProblemSchema } },
    };
  }
  return out;
}
