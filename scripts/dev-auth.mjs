// The local development identity: a key pair generated on first use into .dev/ (git-ignored).
// The Worker trusts it only through AUTH0_JWKS in .dev.vars; nothing here reaches production.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const keyFile = join(root, '.dev', 'dev-key.json');
const devVars = join(root, '.dev.vars');

export const DEV_AUDIENCE = 'https://api.memoria.dev';
export const DEV_ISSUER = 'https://memoria.local/';
export const DEMO = { sub: 'auth0|memoria-demo-owner', email: 'owner@demo.memoria.local', tenant: 'Demo tenant' };
export const ALL_SCOPES = [
  'read:memories',
  'write:memories',
  'read:sessions',
  'write:sessions',
  'read:audit_logs',
  'manage:users',
  'manage:tenant',
];

/** Loads the dev private key, creating it (and .dev.vars) the first time. */
export async function devKey() {
  if (!existsSync(keyFile)) {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = {
      ...(await exportJWK(privateKey)),
      kid: `dev-${randomBytes(4).toString('hex')}`,
      alg: 'RS256',
      use: 'sig',
    };
    mkdirSync(dirname(keyFile), { recursive: true });
    writeFileSync(keyFile, JSON.stringify(jwk, null, 2), { mode: 0o600 });
  }
  const jwk = JSON.parse(readFileSync(keyFile, 'utf8'));
  writeDevVars(jwk);
  return jwk;
}

function writeDevVars(jwk) {
  const { d, p, q, dp, dq, qi, ...publicJwk } = jwk;
  const existing = existsSync(devVars) ? readFileSync(devVars, 'utf8') : '';
  const cursorSecret = /^CURSOR_SECRET=(.+)$/m.exec(existing)?.[1] ?? randomBytes(32).toString('hex');
  const lines = [
    '# Written by scripts/dev-auth.mjs for local development only (git-ignored).',
    `AUTH0_JWKS=${JSON.stringify({ keys: [publicJwk] })}`,
    `AUTH0_ISSUER=${DEV_ISSUER}`,
    `AUTH0_AUDIENCE=${DEV_AUDIENCE}`,
    `CURSOR_SECRET=${cursorSecret}`,
  ];
  writeFileSync(devVars, `${lines.join('\n')}\n`, { mode: 0o600 });
}

/** Parses "1h", "30m", "45s", "2d" or plain seconds. */
export function parseTtl(ttl) {
  const m = /^(\d+)([smhd]?)$/.exec(String(ttl));
  if (!m) throw new Error(`bad --ttl ${ttl} (use e.g. 30m, 1h, 7d)`);
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2]];
}

export async function mintDevToken({ sub = DEMO.sub, scopes = ALL_SCOPES, ttlSeconds = 24 * 3600, email } = {}) {
  const jwk = await devKey();
  const key = await importJWK(jwk, 'RS256');
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ scope: scopes.join(' '), ...(email ? { email } : {}) })
    .setProtectedHeader({ alg: 'RS256', kid: jwk.kid, typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds);
  return jwt.sign(key);
}
