// Starts the real Worker with `wrangler dev` on a free local port, against a fresh local D1 in a
// temp dir (every migration applied by wrangler itself), trusting a key pair generated here.
// Nothing is shared with a developer's .wrangler/state or .dev.vars.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type CryptoKey, exportJWK, generateKeyPair, SignJWT } from 'jose';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const wrangler = join(root, 'node_modules', '.bin', 'wrangler');
const run = promisify(execFile);

export const ISSUER = 'https://memoria-e2e.eu.auth0.com/';
export const AUDIENCE = 'https://api.memoria.e2e';
export const ALL_SCOPES = [
  'read:memories',
  'write:memories',
  'read:sessions',
  'write:sessions',
  'read:audit_logs',
  'manage:users',
  'manage:tenant',
];

/** A port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Worker extends Served {
  /** Mints an access token for `sub`, signed with the key the Worker trusts. */
  token(sub: string, scopes?: string[]): Promise<string>;
  /** Another wrangler dev process (so other isolates) on the same local D1 and settings; stop it before stop(). */
  replica(): Promise<Served>;
}

/** wrangler without prompts, metrics or colours. */
export const env = { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' };

/** `demo`: seed the demo data `npm start` seeds (scripts/demo-seed.mjs) before the server starts. */
export async function startWorker(opts: { demo?: boolean } = {}): Promise<Worker> {
  const dir = mkdtempSync(join(tmpdir(), 'memoria-e2e-'));
  const persist = join(dir, 'state');
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `e2e-${randomBytes(4).toString('hex')}`;
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] });
  // An explicit env file: wrangler then ignores any .dev.vars of the developer.
  const envFile = join(dir, 'e2e.env');
  writeFileSync(
    envFile,
    `${[
      `AUTH0_DOMAIN=memoria-e2e.eu.auth0.com`,
      `AUTH0_ISSUER=${ISSUER}`,
      `AUTH0_AUDIENCE=${AUDIENCE}`,
      `AUTH0_JWKS='${jwks}'`,
      `CURSOR_SECRET=${randomBytes(32).toString('hex')}`,
      // Webhook tests deliver to a receiver the test starts on this machine.
      'WEBHOOK_ALLOWED_HOSTS=127.0.0.1',
    ].join('\n')}\n`,
  );

  await run(wrangler, ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist], { cwd: root, env });
  if (opts.demo) {
    // @ts-expect-error -- plain ESM script without types
    const { demoSeedSql } = await import('../../scripts/demo-seed.mjs');
    const seed = ['d1', 'execute', 'DB', '--local', '--persist-to', persist, '--command', demoSeedSql()];
    await run(wrangler, seed, { cwd: root, env });
  }

  const start = async () => {
    const [port, inspectorPort] = [await freePort(), await freePort()];
    return serve(
      'wrangler dev',
      wrangler,
      [
        'dev',
        '--ip',
        '127.0.0.1',
        '--port',
        String(port),
        '--inspector-port',
        String(inspectorPort),
        '--persist-to',
        persist,
        '--env-file',
        envFile,
        '--show-interactive-dev-session=false',
        '--log-level',
        'warn',
      ],
      { env, baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 90_000 },
    );
  };
  let server: Served;
  try {
    server = await start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const stop = async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };

  const token = async (sub: string, scopes = ALL_SCOPES) =>
    new SignJWT({ scope: scopes.join(' ') })
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
      .setSubject(sub)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey as CryptoKey);

  return { baseUrl: server.baseUrl, token, logs: server.logs, stop, replica: start };
}

/** A server process started by a test: its base URL, everything it printed, and how to stop it. */
export interface Served {
  baseUrl: string;
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Starts `command` in its own process group and waits until `baseUrl`/health answers 2xx (failing
 * with its output if it exits first or takes over `timeoutMs`). stop() ends the whole group
 * (wrangler and the workerd it starts).
 */
export async function serve(
  what: string,
  command: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; baseUrl: string; timeoutMs: number },
): Promise<Served> {
  let output = '';
  const child: ChildProcess = spawn(command, args, {
    cwd: root,
    env: opts.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const stop = async () => {
    if (child.exitCode !== null || !child.pid) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {}
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  };
  for (const started = Date.now(); ; ) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}):\n${output}`);
    if (
      await fetch(`${opts.baseUrl}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() - started > opts.timeoutMs) {
      await stop();
      throw new Error(`${what} did not serve /health in ${opts.timeoutMs / 1000} s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { baseUrl: opts.baseUrl, logs: () => output, stop };
}
