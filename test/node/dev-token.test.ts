// `npm run token` mints a token that the Worker's own verification accepts under the local dev
// configuration the same script writes to .dev.vars (what `npm start` serves with).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { authConfig, scopesOf, verifyAccessToken } from '../../src/auth/verify';
import type { Env } from '../../src/env';

const root = fileURLToPath(new URL('../..', import.meta.url));
const token = (...args: string[]) =>
  execFileSync(process.execPath, [join(root, 'scripts', 'token.mjs'), ...args], { cwd: root, encoding: 'utf8' }).trim();

function devEnv(): Env {
  const vars = Object.fromEntries(
    readFileSync(join(root, '.dev.vars'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_0-9]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  // wrangler.toml [vars] supply the domain; .dev.vars overrides issuer, audience and keys.
  return { DB: undefined as never, AUTH0_DOMAIN: 'memoria.local', ...vars };
}

describe('npm run token', () => {
  it('mints a token for the given subject, scopes, ttl and email that the dev configuration verifies', async () => {
    const jwt = token(
      '--sub',
      'auth0|script-user',
      '--scope',
      'read:memories write:memories',
      '--ttl',
      '30m',
      '--email',
      'dev@example.com',
    );
    const verified = await verifyAccessToken(jwt, authConfig(devEnv()));
    expect(verified).toMatchObject({
      sub: 'auth0|script-user',
      email: 'dev@example.com',
      iss: 'https://memoria.local/',
      aud: 'https://api.memoria.dev',
    });
    expect([...scopesOf(verified)]).toEqual(['read:memories', 'write:memories']);
    expect(verified.exp! - verified.iat!).toBe(1800);
  });

  it('defaults to the demo owner with every scope for one hour', async () => {
    const claims = decodeJwt(token());
    expect(claims).toMatchObject({ sub: 'auth0|memoria-demo-owner' });
    expect(String(claims.scope).split(' ')).toHaveLength(7);
    expect(claims.exp! - claims.iat!).toBe(3600);
    await expect(verifyAccessToken(token(), authConfig(devEnv()))).resolves.toBeTruthy();
  });

  it('rejects a malformed --ttl', () => {
    expect(() =>
      execFileSync(process.execPath, [join(root, 'scripts', 'token.mjs'), '--ttl', 'soon'], {
        cwd: root,
        stdio: 'pipe',
      }),
    ).toThrow(/bad --ttl/);
  });
});
