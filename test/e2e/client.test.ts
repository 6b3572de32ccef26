// The public client (@memoria/client, imported from its source) against the real Worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoriaClient, MemoriaError } from '../../clients/src/index';
import { startWorker, type Worker } from './harness';

let worker: Worker;
beforeAll(async () => {
  worker = await startWorker();
}, 180_000);
afterAll(async () => {
  await worker?.stop();
});

describe('client against the real Worker', { timeout: 60_000 }, () => {
  it('authenticates with a token and reads the caller', async () => {
    const { sub, tenantId } = await worker.seedTenant('Acme');
    const client = createMemoriaClient({ baseUrl: worker.baseUrl, token: await worker.token(sub) });
    const me = await client.me();
    expect(me.tenant).toMatchObject({ id: tenantId, name: 'Acme' });
    expect(me.user.role).toBe('owner');
  });

  it('types an API error: a bad token is MemoriaError invalid_token with the request id', async () => {
    const client = createMemoriaClient({ baseUrl: worker.baseUrl, token: 'not-a-jwt' });
    const err = await client.me().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MemoriaError);
    const e = err as MemoriaError;
    expect(e).toMatchObject({ status: 401, code: 'invalid_token' });
    expect(e.requestId).toMatch(/^req_/);
    expect(e.response?.headers.get('x-request-id')).toBe(e.requestId);
  });
});
