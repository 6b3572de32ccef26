import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { isBlockedAddress } from '../../src/lib/webhook-address';
import { urlRefusal } from '../../src/webhooks/url-guard';
import { call } from '../helpers/http';
import { expectProblem, world } from '../memories/helpers';
import { CLOSED_URL, createWebhook } from './helpers';

const noAllowList = { WEBHOOK_ALLOWED_HOSTS: '' };
const resolvesTo =
  (...addresses: string[]) =>
  async () =>
    addresses;

describe('webhook URL guard', () => {
  it.each([
    ['127.0.0.1'],
    ['127.8.9.10'],
    ['10.1.2.3'],
    ['172.16.0.1'],
    ['172.31.255.255'],
    ['192.168.1.1'],
    ['100.64.0.1'],
    ['100.127.255.254'],
    ['169.254.169.254'],
    ['0.0.0.0'],
    ['255.255.255.255'],
    ['::1'],
    ['::'],
    ['fe80::1'],
    ['fd00:ec2::254'],
    ['fc00::1'],
    ['::ffff:127.0.0.1'],
    ['::ffff:a9fe:a9fe'],
    ['64:ff9b::10.0.0.1'],
  ])('%s is a blocked address', (ip) => {
    expect(isBlockedAddress(ip)).toBe(true);
  });

  it.each([
    ['93.184.216.34'],
    ['1.1.1.1'],
    ['172.32.0.1'],
    ['100.128.0.1'],
    ['2606:4700:4700::1111'],
    ['::ffff:8.8.8.8'],
  ])('%s is a public address', (ip) => {
    expect(isBlockedAddress(ip)).toBe(false);
  });

  it('is null for a name', () => {
    expect(isBlockedAddress('hooks.example.com')).toBeNull();
  });

  it.each([
    ['http://93.184.216.34/hook', 'must use https'],
    ['https://127.0.0.1/hook', 'is a loopback, private, link-local, CGNAT or metadata address'],
    ['https://2130706433/hook', 'is a loopback, private, link-local, CGNAT or metadata address'], // 127.0.0.1 as one number
    ['https://0x7f.1/hook', 'is a loopback, private, link-local, CGNAT or metadata address'],
    ['https://[::1]/hook', 'is a loopback, private, link-local, CGNAT or metadata address'],
    ['https://[::ffff:169.254.169.254]/', 'is a loopback, private, link-local, CGNAT or metadata address'],
    ['https://localhost/hook', 'names the local machine'],
    ['https://api.localhost/hook', 'names the local machine'],
    ['https://user:pw@93.184.216.34/', 'must not carry credentials'],
  ])('refuses %s (%s)', async (url, reason) => {
    expect(await urlRefusal(url, noAllowList, resolvesTo('93.184.216.34'))).toBe(reason);
  });

  it('refuses a name that resolves to a private address, or to nothing', async () => {
    const url = 'https://hooks.example.com/x';
    expect(await urlRefusal(url, noAllowList, resolvesTo('93.184.216.34', '10.0.0.7'))).toMatch(/^resolves to/);
    expect(await urlRefusal(url, noAllowList, resolvesTo('fd12::1'))).toMatch(/^resolves to/);
    expect(await urlRefusal(url, noAllowList, resolvesTo())).toBe('could not be resolved');
    const failing = async () => {
      throw new Error('SERVFAIL');
    };
    expect(await urlRefusal(url, noAllowList, failing)).toBe('could not be resolved');
    expect(await urlRefusal(url, noAllowList, resolvesTo('93.184.216.34', '2606:4700::1'))).toBeNull();
  });

  it('exempts exactly the hosts of WEBHOOK_ALLOWED_HOSTS', async () => {
    const allow = { WEBHOOK_ALLOWED_HOSTS: ' 127.0.0.1 , [::1]' };
    expect(await urlRefusal('http://127.0.0.1:8080/hook', allow, resolvesTo())).toBeNull();
    expect(await urlRefusal('http://[::1]:8080/hook', allow, resolvesTo())).toBeNull();
    expect(await urlRefusal('http://127.0.0.2/hook', allow, resolvesTo())).toBe('must use https');
    expect(await urlRefusal('http://127.0.0.1/hook', noAllowList, resolvesTo())).toBe('must use https');
  });
});

describe('SSRF refusals at the API', () => {
  it.each([
    ['http://93.184.216.34/hook'],
    ['https://10.0.0.1/hook'],
    ['https://169.254.169.254/latest/meta-data'],
    ['https://[fd00:ec2::254]/'],
    ['https://localhost/hook'],
    ['http://127.0.0.2:9/hook'],
  ])('POST /v1/webhooks refuses %s with 422 webhook_url_refused and writes nothing', async (url) => {
    const w = await world();
    const body = await expectProblem(
      await call('/v1/webhooks', { method: 'POST', token: w.tokens.owner, json: { url } }),
      422,
      'webhook_url_refused',
    );
    expect(body.errors?.[0]?.path).toBe('json.url');
    const n = await env.DB.prepare('SELECT count(*) AS n FROM webhook_endpoints WHERE tenant_id = ?1')
      .bind(w.a.tenant.id)
      .first<{ n: number }>();
    expect(n!.n).toBe(0);
  });

  it('PATCH refuses a private URL and leaves the endpoint as it was', async () => {
    const w = await world();
    const hook = await createWebhook(w.tokens.owner);
    await expectProblem(
      await call(`/v1/webhooks/${hook.id}`, {
        method: 'PATCH',
        token: w.tokens.owner,
        json: { url: 'https://192.168.0.10/x', description: 'changed' },
      }),
      422,
      'webhook_url_refused',
    );
    const got = (await (await call(`/v1/webhooks/${hook.id}`, { token: w.tokens.owner })).json()) as Record<
      string,
      unknown
    >;
    expect(got).toMatchObject({ url: CLOSED_URL, description: null });
  });

  it('a non-http scheme is a validation failure', async () => {
    const w = await world();
    await expectProblem(
      await call('/v1/webhooks', { method: 'POST', token: w.tokens.owner, json: { url: 'file:///etc/passwd' } }),
      422,
      'validation_failed',
    );
  });
});
