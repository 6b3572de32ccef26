import { describe, expect, it } from 'vitest';
import { call } from './helpers/http';

describe('app skeleton', () => {
  it('answers an unknown route with a 404 problem', async () => {
    const res = await call('/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = await res.json<Record<string, unknown>>();
    expect(body).toMatchObject({ status: 404, code: 'not_found', title: 'Not Found' });
    expect(body.request_id).toBe(res.headers.get('x-request-id'));
  });

  it('answers a wrong method with 405 and an Allow header', async () => {
    const res = await call('/health', { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toContain('GET');
    expect(await res.json()).toMatchObject({ status: 405, code: 'method_not_allowed' });
  });

  it('echoes a well-formed X-Request-Id and replaces a hostile one', async () => {
    const ok = await call('/health', { headers: { 'x-request-id': 'trace-123' } });
    expect(ok.headers.get('x-request-id')).toBe('trace-123');
    const bad = await call('/health', { headers: { 'x-request-id': 'x'.repeat(300) } });
    expect(bad.headers.get('x-request-id')).toMatch(/^req_[0-9A-Z]{26}$/);
  });

  it('reports health with the database reachable', async () => {
    const res = await call('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', database: 'ok' });
  });

  it('serves a valid OpenAPI 3.1 document', async () => {
    const res = await call('/openapi.json');
    expect(res.status).toBe(200);
    const doc = await res.json<{
      openapi: string;
      info: { title: string };
      paths: Record<string, unknown>;
      components: { securitySchemes: Record<string, unknown> };
    }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Memoria API');
    expect(doc.paths['/health']).toBeDefined();
    expect(doc.paths['/v1/me']).toBeDefined();
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('serves the docs page with same-origin scripts only and no remote fonts', async () => {
    const res = await call('/docs');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<title>Memoria API reference</title>');
    const srcs = [...html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]);
    expect(srcs).toEqual(['/docs/scalar.js']);
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1|memoria)[^"'\s]*\.(js|css|woff2?)/);
    expect(html).toContain('"withDefaultFonts": false');
  });

  it('rejects a non-JSON body with 415 and malformed JSON with 400', async () => {
    const wrongType = await call('/v1/me', {
      method: 'POST',
      body: 'a=b',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(wrongType.status).toBe(415);
    expect(await wrongType.json()).toMatchObject({ code: 'unsupported_media_type' });
  });
});
