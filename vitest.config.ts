import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { exportJWK, generateKeyPair } from 'jose';
import { defineConfig } from 'vitest/config';
// @ts-expect-error -- plain ESM script without types
import { prepareAssets } from './scripts/prepare-assets.mjs';

prepareAssets();

// A fresh key pair per run: the Worker trusts only its public half (inline JWKS), the tests sign
// with the private half. A second key is NOT in the JWKS (tokens signed by it must be refused).
async function testKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return {
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
  };
}
const trusted = await testKey('test-key-1');
const untrusted = await testKey('test-key-1'); // same kid, different key

const workers = cloudflareTest({
  wrangler: { configPath: './wrangler.toml' },
  miniflare: {
    bindings: {
      TEST_MIGRATIONS: await readD1Migrations(fileURLToPath(new URL('./migrations', import.meta.url))),
      AUTH0_DOMAIN: 'memoria-test.eu.auth0.com',
      AUTH0_AUDIENCE: 'https://api.memoria.test',
      // Explicit, so a developer's .dev.vars (which the plugin also reads) never leaks into tests.
      AUTH0_ISSUER: 'https://memoria-test.eu.auth0.com/',
      AUTH0_JWKS: JSON.stringify({ keys: [trusted.publicJwk] }),
      CURSOR_SECRET: randomBytes(32).toString('hex'),
      TEST_PRIVATE_JWK: JSON.stringify(trusted.privateJwk),
      TEST_PUBLIC_JWK: JSON.stringify(trusted.publicJwk),
      TEST_UNTRUSTED_PRIVATE_JWK: JSON.stringify(untrusted.privateJwk),
      // Reproduce or vary a contract-fuzz run: FUZZ_SEED=123 npx vitest run test/fuzz
      FUZZ_SEED: process.env.FUZZ_SEED ?? '',
    },
  },
});

export default defineConfig({
  test: {
    testTimeout: 30_000,
    // The Worker logs one JSON line per request (src/middleware/request-log.ts): kept out of the
    // test output; test/system/request-log.test.ts reads them through a spy.
    onConsoleLog: (log) => !log.includes('"event":"request"'),
    hookTimeout: 120_000,
    projects: [
      {
        // Inside workerd with real D1 and the real migrations.
        plugins: [workers],
        test: {
          name: 'workers',
          include: ['test/**/*.test.ts'],
          exclude: ['test/node/**', 'test/e2e/**'],
          setupFiles: ['./test/helpers/setup.ts'],
        },
      },
      {
        // In Node: wrangler itself, scripts, and end-to-end tests over real HTTP.
        test: { name: 'node', include: ['test/node/**/*.test.ts', 'test/e2e/**/*.test.ts'], environment: 'node' },
      },
    ],
  },
});
