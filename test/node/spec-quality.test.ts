import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SPEC_PATH } from '../../scripts/spec';
import { ERRORS } from '../../src/lib/problem';
import { operations, specProblems } from './spec-rules';

const spec = () => JSON.parse(readFileSync(SPEC_PATH, 'utf8'));

describe('spec quality (the house rules over api/openapi.json)', () => {
  it('every operation follows the rules', () => {
    // Each entry names the operation and the fix; see test/node/spec-rules.ts.
    expect(specProblems(spec())).toEqual([]);
  });

  it('documents every operation the app serves', () => {
    expect(operations(spec()).length).toBeGreaterThan(1);
  });

  it('catches an operation that breaks them', () => {
    const doc = spec();
    const me = doc.paths['/v1/me'].get;
    me.operationId = 'get_me';
    delete me.summary;
    me.tags = ['Nope'];
    me.security = [{ bearerAuth: ['read:everything'] }];
    delete me.responses['429'];
    me.responses['404'] = { description: 'x', content: { 'application/json': { schema: { type: 'object' } } } };
    me.responses['200'].content['application/json'].schema = { type: 'object', properties: { a: { type: 'string' } } };
    doc.paths['/v1/other'] = { get: { ...doc.paths['/health'].get, operationId: 'getHealth', security: [] } };
    doc.paths['/v1/other'].get.operationId = 'getMe';
    doc.paths['/v1/other'].get.security = [];
    doc.components.securitySchemes.bearerAuth.description = 'A token.';
    delete doc.info.description;

    const problems = specProblems(doc);
    const has = (text: string) =>
      expect(
        problems.some((p) => p.includes(text)),
        `expected a problem about: ${text}\n${problems.join('\n')}`,
      ).toBe(true);
    has('operationId "get_me" is not camelCase');
    has('GET /v1/me: missing summary');
    has('tag "Nope" is not declared');
    has('unknown scope "read:everything"');
    has('GET /v1/me: missing 429 response');
    has('GET /v1/me → 404: errors must be application/problem+json');
    has('GET /v1/me → 200: application/json schema must be a named component');
    has('GET /v1/other: needs bearerAuth security');
    has('description must document the Auth0 setup');
    has('info: missing description');
  });

  it('catches duplicate operation ids and responses without examples', () => {
    const doc = spec();
    doc.paths['/v1/copy'] = { get: structuredClone(doc.paths['/v1/me'].get) };
    doc.components.schemas.Bare = { type: 'object', properties: { n: { type: 'integer' } } };
    doc.paths['/v1/copy'].get.responses['200'].content['application/json'].schema = {
      $ref: '#/components/schemas/Bare',
    };
    const problems = specProblems(doc);
    expect(problems).toContain('GET /v1/copy: operationId "getMe" is also used by GET /v1/me');
    expect(problems).toContain(
      'GET /v1/copy → 200: application/json needs an example (on the schema, or on every property)',
    );
  });

  it('catches undeclared body-rule statuses, undeclared headers and undescribed parameters', () => {
    const doc = spec();
    const restore = doc.paths['/v1/memories/{id}/restore'].post;
    delete restore.responses['413'];
    delete restore.responses['415'];
    delete doc.components.responses.InvalidToken.headers['WWW-Authenticate'];
    delete restore.responses['200'].headers['Idempotent-Replayed'];
    delete doc.paths['/v1/memories/{id}'].delete.responses['413'];
    delete doc.paths['/v1/memories/{id}'].delete.parameters.find((p: { name: string }) => p.name === 'permanent')
      .description;
    const problems = specProblems(doc);
    expect(problems).toContain('POST /v1/memories/{id}/restore: missing 413 response');
    expect(problems).toContain('POST /v1/memories/{id}/restore: missing 415 response');
    expect(problems).toContain('DELETE /v1/memories/{id}: missing 413 response');
    expect(problems).toContain('DELETE /v1/memories/{id}: parameter permanent has no description');
    expect(problems).toContain('POST /v1/memories/{id}/restore → 401: must declare the WWW-Authenticate header');
    expect(problems).toContain(
      'POST /v1/memories/{id}/restore → 200: must declare the Idempotent-Replayed header (it takes Idempotency-Key)',
    );
  });

  it('catches a paginated list without limit/cursor', () => {
    const doc = spec();
    const list = doc.paths['/v1/memories'].get;
    list.parameters = list.parameters.filter((p: { $ref?: string }) => p.$ref !== '#/components/parameters/Cursor');
    expect(specProblems(doc)).toContain(
      'GET /v1/memories: a paginated list must take the `cursor` query parameter (PageQuerySchema)',
    );
  });

  it('catches a problem response whose codes are unknown, of another status, or missing', () => {
    const doc = spec();
    const responses = doc.paths['/v1/memories/{id}'].get.responses;
    const narrowed = (codes: string[]) => ({
      description: 'x',
      content: {
        'application/problem+json': {
          schema: {
            allOf: [
              { $ref: '#/components/schemas/Problem' },
              { type: 'object', properties: { code: { type: 'string', enum: codes } } },
            ],
          },
        },
      },
    });
    responses['404'] = narrowed(['not_found', 'no_such_code']);
    responses['409'] = narrowed(['not_found']);
    responses['412'] = narrowed([]);
    responses['410'] = { description: 'x', content: { 'application/problem+json': { schema: { type: 'object' } } } };
    const problems = specProblems(doc);
    expect(problems).toContain('GET /v1/memories/{id} → 404: code "no_such_code" is not in ProblemCode');
    expect(problems).toContain('GET /v1/memories/{id} → 409: code "not_found" is a 404, not a 409');
    expect(problems).toContain('GET /v1/memories/{id} → 412: must list the codes it can carry (problemResponses)');
    expect(problems).toContain('GET /v1/memories/{id} → 410: errors must use the Problem schema');
  });

  it('publishes the ERRORS table as the ProblemCode enum', () => {
    expect(spec().components.schemas.ProblemCode.enum).toEqual(Object.keys(ERRORS));
    expect(spec().components.schemas.Problem.properties.code).toEqual({ $ref: '#/components/schemas/ProblemCode' });
  });

  it('stays small: headers, shared responses, parameters and the ETag are declared once and referenced', () => {
    // Inlined, the ~1,400 response headers made the document 824 KB for 41 operations: 20 KiB each.
    // Declared once and referenced, an operation costs about 7.3 KiB (its own schemas included), so
    // the budget grows with the API, and any return of repetition breaks it.
    const doc = spec();
    expect(statSync(SPEC_PATH).size / operations(doc).length).toBeLessThan(7.5 * 1024);
    expect(Object.keys(doc.components.headers)).toEqual(expect.arrayContaining(['X-Request-Id', 'RateLimit', 'ETag']));
    expect(doc.paths['/v1/me'].get.responses['401']).toEqual({ $ref: '#/components/responses/InvalidToken' });
    const inline = operations(doc).flatMap(({ op }) =>
      (op.parameters ?? [])
        .filter((p: { in?: string }) => p.in && p.in !== 'path')
        .map((p: unknown) => JSON.stringify(p)),
    );
    expect(inline.filter((p, i) => inline.indexOf(p) !== i)).toEqual([]);
    const twice = inline
      .map((p) => JSON.parse(p))
      .filter((p) => p.description && p.schema?.description === p.description);
    expect(twice).toEqual([]);
  });

  it('catches a local server listed first, an empty webhooks, NDJSON as JSON and parameters without examples', () => {
    const doc = spec();
    doc.servers.reverse();
    doc.webhooks = {};
    doc.paths['/v1/export'].get.responses['200'].content['application/x-ndjson'].schema = {
      $ref: '#/components/schemas/ExportLine',
    };
    const limit = doc.components.parameters.Limit;
    limit.schema.example = limit.example;
    delete limit.example;
    doc.components.parameters.Cursor.example = 'abc';
    delete doc.components.schemas.CreateMemory.example;
    delete doc.paths['/v1/memories/{id}'].get.responses['304'];
    const problems = specProblems(doc);
    expect(problems).toContain('GET /v1/memories/{id}: takes If-None-Match: must declare 304');
    expect(problems).toContain(
      'servers: the first server must be production, templated: https://{host} with a default host',
    );
    expect(problems).toContain('servers: the local development server must come last');
    expect(problems).toContain('webhooks: empty: leave it out');
    expect(problems).toContain(
      'GET /v1/export → 200: application/x-ndjson is text: a string (format binary) naming its line schema ExportLine',
    );
    expect(problems).toContain(
      'GET /v1/memories: parameter limit: the example belongs on the parameter, not in its schema',
    );
    expect(problems).toContain('GET /v1/memories: parameter limit has no example (parameter-level `example`)');
    expect(problems).toContain('GET /v1/memories: parameter cursor is per request: no fixed example');
    expect(problems).toContain('POST /v1/memories: requestBody needs a whole example (the docs page sends it as is)');
  });
});
