// The contract's house rules, checked over the published document (api/openapi.json). Each
// problem names the operation and what to fix, so a route that breaks a rule fails CI clearly.
import { METHODS, resolve } from '../../scripts/breaking-changes';
import { ALL_SCOPES } from '../../src/auth/scopes';
import { ERRORS, type ProblemCode } from '../../src/lib/problem';

type Json = Record<string, any>;
/** Operations anyone may call without a token (everything else needs bearerAuth). */
const PUBLIC_OPERATIONS = new Set(['getHealth']);
const CAMEL = /^[a-z][a-zA-Z0-9]*$/;

export interface Operation {
  method: string;
  path: string;
  op: Json;
}

export function operations(doc: Json): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries<Json>(doc.paths ?? {})) {
    for (const method of METHODS) if (item[method]) out.push({ method, path, op: item[method] });
  }
  return out;
}

/** True when the schema, or every property it is built from, carries an example. */
function hasExample(doc: Json, schema: Json | undefined, depth = 0): boolean {
  const s = resolve(doc, schema);
  if (!s || depth > 10) return false;
  if (s.example !== undefined || (Array.isArray(s.examples) && s.examples.length > 0)) return true;
  if (s.enum || s.const !== undefined) return true;
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    if (Array.isArray(s[key])) return s[key].every((sub: Json) => hasExample(doc, sub, depth + 1));
  }
  const types = Array.isArray(s.type) ? s.type : [s.type];
  if (types.includes('array')) return hasExample(doc, s.items, depth + 1);
  if (types.includes('object') && s.properties) {
    return Object.values<Json>(s.properties).every((p) => hasExample(doc, p, depth + 1));
  }
  return false;
}

/** A cursor comes from the previous page and an Idempotency-Key is new per request: no fixed value is valid. */
export const PER_REQUEST_PARAMETERS = new Set(['cursor', 'after', 'Idempotency-Key']);
const NDJSON = 'application/x-ndjson';
/** NDJSON is a stream of lines, not one JSON value: generators must send and read it as text. */
const isNdjsonText = (doc: Json, schema: Json | undefined) => {
  const s = resolve(doc, schema);
  return s?.type === 'string' && s.format === 'binary' && /ExportLine/.test(s.description ?? '');
};

const isComponentRef = (schema: Json | undefined) =>
  typeof schema?.$ref === 'string' && schema.$ref.startsWith('#/components/schemas/');

export function specProblems(doc: Json): string[] {
  const problems: string[] = [];
  const add = (where: string, what: string) => problems.push(`${where}: ${what}`);

  // Document level.
  if (!doc.openapi?.startsWith('3.1')) add('openapi', 'must be 3.1.x');
  for (const key of ['title', 'version', 'description']) if (!doc.info?.[key]) add('info', `missing ${key}`);
  // Generated SDKs default to the first server: production (templated, deployers fill in the
  // host); the local development server, if listed, comes last.
  const servers: Json[] = doc.servers ?? [];
  const first: Json = servers[0] ?? {};
  if (first.url !== 'https://{host}' || !first.variables?.host?.default || !/production/i.test(first.description))
    add('servers', 'the first server must be production, templated: https://{host} with a default host');
  const local = servers.findIndex((s) => /^http:\/\/(127\.0\.0\.1|localhost)/.test(s.url));
  if (local !== -1 && local !== servers.length - 1) add('servers', 'the local development server must come last');
  if (doc.webhooks && Object.keys(doc.webhooks).length === 0) add('webhooks', 'empty: leave it out');
  const bearer = doc.components?.securitySchemes?.bearerAuth;
  if (bearer?.type !== 'http' || bearer?.scheme !== 'bearer' || bearer?.bearerFormat !== 'JWT')
    add('bearerAuth', 'must be an http bearer JWT scheme');
  for (const word of ['Auth0', 'AUTH0_AUDIENCE', 'RS256', 'permissions', ...ALL_SCOPES]) {
    if (!bearer?.description?.includes(word))
      add('bearerAuth', `description must document the Auth0 setup (mentions "${word}")`);
  }
  const tagNames = new Set<string>((doc.tags ?? []).map((t: Json) => t.name));
  for (const t of doc.tags ?? []) if (!t.description) add(`tag ${t.name}`, 'missing description');

  const ids = new Map<string, string>();
  for (const { method, path, op } of operations(doc)) {
    const where = `${method.toUpperCase()} ${path}`;
    const id: string | undefined = op.operationId;
    if (!id) add(where, 'missing operationId');
    else {
      if (!CAMEL.test(id)) add(where, `operationId "${id}" is not camelCase`);
      if (ids.has(id)) add(where, `operationId "${id}" is also used by ${ids.get(id)}`);
      ids.set(id, where);
    }
    if (!op.summary) add(where, 'missing summary');
    if (!Array.isArray(op.tags) || op.tags.length === 0) add(where, 'missing tags');
    for (const tag of op.tags ?? [])
      if (!tagNames.has(tag)) add(where, `tag "${tag}" is not declared in the document's tags (src/lib/openapi.ts)`);

    // Security: declared on every operation; bearerAuth with known scopes unless public.
    const isPublic = PUBLIC_OPERATIONS.has(id ?? '');
    if (!Array.isArray(op.security)) add(where, 'missing security (use securedRoute)');
    else if (isPublic) {
      if (op.security.length !== 0) add(where, 'public operation must declare security: []');
    } else {
      if (op.security.length === 0)
        add(where, 'needs bearerAuth security (use securedRoute); only System probes are public');
      for (const req of op.security) {
        const scopes = req.bearerAuth;
        if (!Array.isArray(scopes)) add(where, 'security requirement must be bearerAuth with a scopes list');
        else for (const s of scopes) if (!ALL_SCOPES.includes(s)) add(where, `unknown scope "${s}"`);
      }
    }

    // Request: bodies are required JSON with a named schema; parameters are described by schemas.
    if (op.requestBody) {
      const body = resolve(doc, op.requestBody)!;
      if (body.required !== true) add(where, 'requestBody must be required: true');
      // JSON, except NDJSON where the format is line-based (POST /v1/import takes the export format).
      const json = body.content?.['application/json'] ?? body.content?.[NDJSON];
      if (!json) add(where, 'requestBody must be application/json (or application/x-ndjson)');
      else if (body.content?.[NDJSON]) {
        // Inline: generators (hey-api) send a body as is only when they see format binary on it directly.
        if (isComponentRef(json.schema) || !isNdjsonText(doc, json.schema))
          add(where, `${NDJSON} body is text: an inline string (format binary) naming its line schema ExportLine`);
      } else if (!isComponentRef(json.schema))
        add(where, "requestBody schema must be a named component (.openapi('Name'))");
      else if (json.example === undefined && resolve(doc, json.schema)?.example === undefined)
        add(where, 'requestBody needs a whole example (the docs page sends it as is)');
    }
    for (const p of op.parameters ?? []) {
      const param = resolve(doc, p)!;
      if (!param.schema) add(where, `parameter ${param.name} has no schema`);
      if (!param.description) add(where, `parameter ${param.name} has no description`);
      if (param.schema?.example !== undefined)
        add(where, `parameter ${param.name}: the example belongs on the parameter, not in its schema`);
      const unchecked = Object.values<Json>(param.examples ?? {}).every((e) => e['x-disabled'] === true);
      if (PER_REQUEST_PARAMETERS.has(param.name)) {
        if (param.example !== undefined || param.examples)
          add(where, `parameter ${param.name} is per request: no fixed example`);
      } else if (param.example === undefined && !(param.examples && !param.required && unchecked))
        add(where, `parameter ${param.name} has no example (parameter-level \`example\`)`);
    }

    // Lists: a `{ data, next_cursor }` page takes `limit` and `cursor` (the client's iterator relies on it).
    const page = resolve(doc, op.responses?.['200']?.content?.['application/json']?.schema);
    if (page?.properties?.data && page.properties.next_cursor) {
      const query = new Set(
        (op.parameters ?? [])
          .map((p: Json) => resolve(doc, p)!)
          .filter((p: Json) => p.in === 'query')
          .map((p: Json) => p.name),
      );
      for (const name of ['limit', 'cursor'])
        if (!query.has(name))
          add(where, `a paginated list must take the \`${name}\` query parameter (PageQuerySchema)`);
    }

    // Responses: a success, every error as a Problem, named schemas with examples.
    const responses: Json = op.responses ?? {};
    const hasIdempotencyKey = (op.parameters ?? []).some(
      (p: Json) => resolve(doc, p)?.in === 'header' && resolve(doc, p)?.name === 'Idempotency-Key',
    );
    const statuses = Object.keys(responses);
    if (!statuses.some((s) => /^2/.test(s))) add(where, 'no 2xx response');
    const conditional = (op.parameters ?? []).some((p: Json) => resolve(doc, p)?.name === 'If-None-Match');
    if (conditional && !responses['304']) add(where, 'takes If-None-Match: must declare 304');
    // The body rules (src/app.ts) apply to every /v1 request: a body over the limit is a 413 on any
    // method that can carry one, a non-JSON body a 415 on any POST/PUT/PATCH, body declared or not.
    const expected = [
      ...(isPublic ? [] : ['401', '403', '429', '500', '503']),
      ...(op.parameters?.length ? ['400'] : []),
      ...(op.requestBody ? ['400', '413', '415', '422'] : []),
      ...(!isPublic && method !== 'get' ? ['413'] : []),
      ...(!isPublic && ['post', 'put', 'patch'].includes(method) ? ['415'] : []),
    ];
    for (const s of [...new Set(expected)]) if (!responses[s]) add(where, `missing ${s} response`);
    for (const [status, r] of Object.entries<Json>(responses)) {
      const res = resolve(doc, r)!;
      const at = `${where} → ${status}`;
      if (!res.description) add(at, 'missing description');
      if (['429', '503'].includes(status) && !res.headers?.['Retry-After'])
        add(at, 'must declare the Retry-After header');
      if (!isPublic && ['401', '403'].includes(status) && !res.headers?.['WWW-Authenticate'])
        add(at, 'must declare the WWW-Authenticate header');
      if (/^2/.test(status) && hasIdempotencyKey && !res.headers?.['Idempotent-Replayed'])
        add(at, 'must declare the Idempotent-Replayed header (it takes Idempotency-Key)');
      if (!res.headers?.['X-Request-Id']) add(at, 'must declare the X-Request-Id header');
      if (!isPublic && /^[24]/.test(status) && !res.headers?.RateLimit)
        add(at, 'must declare the RateLimit headers (securedRoute adds them)');
      const content: Json = res.content ?? {};
      const problem = content['application/problem+json'];
      if (/^[45]/.test(status) && !isPublic && !problem)
        add(at, 'errors must be application/problem+json (use problemResponses)');
      if (problem) for (const p of problemCodeProblems(doc, status, problem.schema)) add(at, p);
      for (const [type, media] of Object.entries<Json>(content)) {
        if (type === 'application/problem+json') continue;
        if (type === NDJSON && !isNdjsonText(doc, media.schema))
          add(at, `${NDJSON} is text: a string (format binary) naming its line schema ExportLine`);
        else if (type === NDJSON && !resolve(doc, media.schema)?.['x-item-schema'])
          add(at, `${NDJSON} needs x-item-schema: each line's schema (the breaking-change check reads it)`);
        if (!isComponentRef(media.schema)) add(at, `${type} schema must be a named component (.openapi('Name'))`);
        else if (media.example === undefined && !media.examples && !hasExample(doc, media.schema)) {
          add(at, `${type} needs an example (on the schema, or on every property)`);
        }
      }
    }
  }
  return problems;
}

/**
 * A problem response is the Problem schema narrowed to the codes it can carry: each one a
 * ProblemCode whose status in the ERRORS table is the response's status.
 */
function problemCodeProblems(doc: Json, status: string, schema: Json | undefined): string[] {
  const [base, narrowed] = schema?.allOf ?? [];
  if (base?.$ref !== '#/components/schemas/Problem') return ['errors must use the Problem schema'];
  const codes: unknown = narrowed?.properties?.code?.enum;
  if (!Array.isArray(codes) || codes.length === 0) return ['must list the codes it can carry (problemResponses)'];
  const known = new Set<string>(resolve(doc, { $ref: '#/components/schemas/ProblemCode' })?.enum ?? []);
  return codes.flatMap((code: string) => {
    if (!known.has(code)) return [`code "${code}" is not in ProblemCode`];
    const expected = ERRORS[code as ProblemCode].status;
    return String(expected) === status ? [] : [`code "${code}" is a ${expected}, not a ${status}`];
  });
}
