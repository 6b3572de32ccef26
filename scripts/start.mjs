// npm start: applies migrations to the persisted local D1, seeds a demo tenant, owner and memory, writes a
// development token to .dev/token.txt and serves the API with wrangler dev.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { demoSeedSql } from './demo-seed.mjs';
import { DEMO, mintDevToken, root } from './dev-auth.mjs';
import { prepareAssets } from './prepare-assets.mjs';

const port = process.env.PORT ?? '8787';
const host = process.env.HOST ?? '127.0.0.1';
const persist = process.env.MEMORIA_STATE ?? join(root, '.wrangler', 'state');
const wrangler = join(root, 'node_modules', '.bin', 'wrangler');
// Quiet and offline-safe: no telemetry, and no download of the `Request.cf` sample (the Worker does
// not read request.cf; offline that download prints `getaddrinfo ENOTFOUND` on every start).
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' };
const run = (args) =>
  execFileSync(wrangler, args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...env, CI: 'true' },
  });

prepareAssets();
const token = await mintDevToken({ ttlSeconds: 7 * 24 * 3600 }); // also writes .dev.vars
run(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist]);

// The demo tenant, its owner and one memory, under the fixed ids the docs' examples use.
run(['d1', 'execute', 'DB', '--local', '--persist-to', persist, '--command', demoSeedSql()]);

mkdirSync(join(root, '.dev'), { recursive: true });
const tokenFile = join(root, '.dev', 'token.txt');
writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
const base = `http://${host}:${port}`;
console.log(`
Memoria is starting on ${base}
  docs:      ${base}/docs
  spec:      ${base}/openapi.json
  dev token: ${tokenFile} (owner of "${DEMO.tenant}", all scopes, valid 7 days)

  curl -H "Authorization: Bearer $(cat .dev/token.txt)" ${base}/v1/me

${token}
`);

const inspector = process.env.INSPECTOR_PORT ? ['--inspector-port', process.env.INSPECTOR_PORT] : [];
const child = spawn(
  wrangler,
  [
    'dev',
    '--ip',
    host,
    '--port',
    port,
    ...inspector,
    '--persist-to',
    persist,
    '--show-interactive-dev-session=false',
    '--test-scheduled',
  ],
  {
    cwd: root,
    env,
    stdio: 'inherit',
  },
);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
