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

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'https://memoria.dev/problems/not_found' }),
    title: z.string().openapi({ example: 'Not Found' }),
    status: z.number().int().openapi({ example: 404 }),
    detail: z.string().openapi({ example: 'Memory mem_01J9Z3Q4W5E6R7T8Y9U0I1O2P3 was not found.' }),
    code: z.string().openapi({ example: 'not_found', description: 'Stable snake_case error code.' }),
    request_id: z.string().openapi({ example: 'req_01J9Z3Q4W5E6R7T8Y9U0I1O2P3' }),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: 'Present on validation errors: one entry per invalid field.' }),
  })
  .openapi('Problem');

export type Problem = z.infer<typeof ProblemSchema>;

export function problemBody(status: number, code: string, detail: string, requestId: string, errors?: FieldError[]): Problem {
  return {
    type: `https://memoria.dev/problems/${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    request_id: requestId,
    ...(errors ? { errors } : {}),
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
  404: 'No such resource in the caller\'s tenant.',
  409: 'Conflicts with the current state.',
  412: 'If-Match did not match the current ETag.',
  413: `Request body larger than ${MAX_BODY_BYTES} bytes.`,
  415: 'Request body must be application/json.',
  422: 'The body failed validation.',
  429: 'Rate limit exceeded.',
  503: 'Temporarily unavailable; retry after the Retry-After delay.',
};

/** OpenAPI `responses` entries for the problem statuses a route can return. */
export function problemResponses(...statuses: number[]) {
  const out: Record<number, { description: string; content: { 'application/problem+json': { schema: typeof ProblemSchema } } }> = {};
  for (const s of statuses) {
    out[s] = { description: DESCRIPTIONS[s] ?? TITLES[s] ?? 'Error', content: { 'application/problem+json': { schema: ProblemSchema } } };
  }
  return out;
}
