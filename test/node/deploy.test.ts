import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { type DeployOptions, deploy, type Runner, readRawConfig } from '../../scripts/deploy';
import { root, env as wranglerEnv } from '../e2e/harness';

// The step planner against a fake Cloudflare (the real API needs an account): it keeps the state
// a real account would (databases, secrets, deployments) so idempotency is checked across runs.
const ISSUER = 'https://memoria-deploy.eu.auth0.com/';
const MUTATIONS = [
  /^d1 create/,
  /^d1 migrations apply/,
  /^secret put/,
  /^deploy/,
  /^queues create/,
  /^vectorize create/,
];

class FakeCloudflare {
  loggedIn = true;
  databases: { name: string; uuid: string }[] = [];
  queues = new Set<string>();
  indexes = new Map<string, string>(); // name -> "dimensions metric"
  secrets = new Map<string, Set<string>>();
  secretValues: string[] = [];
  calls: string[] = [];
  discoveryIssuer = ISSUER;
  health: unknown = { status: 'ok', database: 'ok' };

  runner: Runner = {
    wrangler: async (args, input) => {
      const line = args.join(' ');
      this.calls.push(line);
      const envAt = args.indexOf('--env');
      const worker = envAt >= 0 ? `memoria-${args[envAt + 1]}` : 'memoria';
      const ok = (stdout = '') => ({ code: 0, stdout, stderr: '' });
      if (line === '--version') return ok('4.86.0\n');
      if (line.startsWith('whoami'))
        return this.loggedIn ? ok('{"email":"ops@example.com"}') : { code: 1, stdout: '', stderr: 'not authenticated' };
      if (line === 'd1 list --json') return ok(JSON.stringify(this.databases));
      if (args[0] === 'd1' && args[1] === 'create') {
        const uuid = `${String(this.databases.length + 1).padStart(8, '0')}-1111-2222-3333-444455556666`;
        this.databases.push({ name: args[2] as string, uuid });
        return ok(`✅ Successfully created DB '${args[2]}'\n{\n  "d1_databases": [{ "database_id": "${uuid}" }]\n}`);
      }
      if (line.startsWith('d1 migrations apply')) return ok('No migrations to apply!');
      const missing = { code: 1, stdout: '', stderr: 'not found' };
      if (args[0] === 'queues' && args[1] === 'info') return this.queues.has(args[2] as string) ? ok() : missing;
      if (args[0] === 'queues' && args[1] === 'create') return ok(void this.queues.add(args[2] as string));
      if (args[0] === 'vectorize' && args[1] === 'get') return this.indexes.has(args[2] as string) ? ok() : missing;
      if (args[0] === 'vectorize' && args[1] === 'create') {
        this.indexes.set(
          args[2] as string,
          `${args[args.indexOf('--dimensions') + 1]} ${args[args.indexOf('--metric') + 1]}`,
        );
        return ok();
      }
      if (line.startsWith('secret list')) {
        const names = this.secrets.get(worker);
        return names
          ? ok(JSON.stringify([...names].map((name) => ({ name, type: 'secret_text' }))))
          : { code: 1, stdout: '', stderr: 'no such worker' };
      }
      if (args[0] === 'secret' && args[1] === 'put') {
        this.secretValues.push(input ?? '');
        this.secrets.set(worker, new Set([...(this.secrets.get(worker) ?? []), args[2] as string]));
        return ok('✨ Success! Uploaded secret');
      }
      if (args[0] === 'deploy')
        return ok(`Uploaded ${worker}\nDeployed ${worker} triggers\n  https://${worker}.ops.workers.dev\n`);
      return { code: 1, stdout: '', stderr: `fake: unexpected wrangler ${line}` };
    },
    fetch: async (url) => {
      this.calls.push(`GET ${url}`);
      const json = (status: number, body: unknown) => ({ status, json: async () => body });
      if (url === `${ISSUER}.well-known/openid-configuration`)
        return json(200, { issuer: this.discoveryIssuer, jwks_uri: `${ISSUER}.well-known/jwks.json` });
      if (url === `${ISSUER}.well-known/jwks.json`)
        return json(200, { keys: [{ kty: 'RSA', alg: 'RS256', kid: 'k1' }] });
      if (url.endsWith('.workers.dev/health')) return json(200, this.health);
      return json(404, {});
    },
  };

  mutations = () => this.calls.filter((c) => MUTATIONS.some((m) => m.test(c)));
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A copy of the repo's wrangler.toml with the staging Auth0 settings filled in, as a deployer would. */
function configCopy(edit: (toml: string) => string = (t) => t) {
  const dir = mkdtempSync(join(tmpdir(), 'memoria-deploy-test-'));
  dirs.push(dir);
  const path = join(dir, 'wrangler.toml');
  const toml = readFileSync(join(root, 'wrangler.toml'), 'utf8').replace(
    /\[env\.staging\.vars\]\nAUTH0_DOMAIN = ""\nAUTH0_AUDIENCE = ""/,
    '[env.staging.vars]\nAUTH0_DOMAIN = "memoria-deploy.eu.auth0.com"\nAUTH0_AUDIENCE = "https://api.memoria.example"',
  );
  writeFileSync(path, edit(toml));
  return path;
}

async function run(cf: FakeCloudflare, configPath: string, opts: Partial<DeployOptions> = {}) {
  const lines: string[] = [];
  const outcome = await deploy({
    root,
    configPath,
    env: 'staging',
    dryRun: false,
    runner: cf.runner,
    log: (l) => lines.push(l),
    sleep: async () => {},
    ...opts,
  });
  return { outcome, log: lines.join('\n') };
}

describe('npm run deploy: the step planner', () => {
  it('creates, records, migrates, stores the secret, deploys and smoke-tests; a second run changes nothing', async () => {
    const cf = new FakeCloudflare();
    const config = configCopy();
    const first = await run(cf, config);
    expect(first.outcome).toMatchObject({ ok: true, problems: [], url: 'https://memoria-staging.ops.workers.dev' });
    expect(cf.mutations()).toEqual([
      'd1 create memoria-staging --update-config=false',
      'd1 migrations apply DB --remote --env staging',
      'secret put CURSOR_SECRET --env staging',
      'deploy --env staging',
    ]);
    // Auth0 was checked before anything changed; /health after the deploy.
    const at = (c: string) => cf.calls.indexOf(c);
    expect(at(`GET ${ISSUER}.well-known/jwks.json`)).toBeLessThan(
      at('d1 create memoria-staging --update-config=false'),
    );
    expect(cf.calls.at(-1)).toBe('GET https://memoria-staging.ops.workers.dev/health');
    // The id is recorded in the environment's own section, which wrangler reads back.
    const recorded = readRawConfig(config) as { env: Record<string, { d1_databases: unknown[] }> };
    expect(recorded.env.staging?.d1_databases).toEqual([
      {
        binding: 'DB',
        database_name: 'memoria-staging',
        database_id: cf.databases[0]?.uuid,
        migrations_dir: 'migrations',
      },
    ]);
    // A random 256-bit secret, never printed.
    expect(cf.secretValues).toHaveLength(1);
    expect(cf.secretValues[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(first.log).not.toContain(cf.secretValues[0]);

    const before = readFileSync(config, 'utf8');
    cf.calls = [];
    const second = await run(cf, config);
    expect(second.outcome.ok).toBe(true);
    expect(cf.mutations()).toEqual(['d1 migrations apply DB --remote --env staging', 'deploy --env staging']);
    expect(readFileSync(config, 'utf8')).toBe(before);
    expect(cf.databases).toHaveLength(1);
    expect(cf.secretValues).toHaveLength(1);
  });

  it('creates and migrates every D1 binding (shards too) and adopts a database that exists but was not recorded', async () => {
    const cf = new FakeCloudflare();
    cf.databases.push({ name: 'memoria-shard-0-staging', uuid: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee' });
    const config = configCopy((t) =>
      t.replace(
        /(migrations_dir = "migrations"\n)/,
        '$1\n[[d1_databases]]\nbinding = "SHARD_0"\ndatabase_name = "memoria-shard-0"\ndatabase_id = "00000000-0000-0000-0000-000000000000"\nmigrations_dir = "migrations"\n',
      ),
    );
    const { outcome } = await run(cf, config);
    expect(outcome.ok).toBe(true);
    expect(cf.mutations()).toEqual([
      'd1 create memoria-staging --update-config=false',
      'd1 migrations apply DB --remote --env staging',
      'd1 migrations apply SHARD_0 --remote --env staging',
      'secret put CURSOR_SECRET --env staging',
      'deploy --env staging',
    ]);
    const staging = (
      readRawConfig(config) as { env: Record<string, { d1_databases: { binding: string; database_id: string }[] }> }
    ).env.staging;
    expect(staging?.d1_databases.map((d) => [d.binding, d.database_id])).toEqual([
      ['DB', cf.databases[1]?.uuid],
      ['SHARD_0', 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee'],
    ]);
  });

  it('creates the queues and Vectorize indexes an environment binds, once', async () => {
    const cf = new FakeCloudflare();
    const config = configCopy((t) =>
      t
        .replace('[env.staging.vars]', '[env.staging.vars]\nVECTORIZE_DIMENSIONS = "768"')
        .concat(
          '\n[[env.staging.queues.producers]]\nbinding = "EVENTS"\nqueue = "memoria-events-staging"\n',
          '\n[[env.staging.vectorize]]\nbinding = "VECTORS"\nindex_name = "memoria-vectors-staging"\n',
        ),
    );
    expect((await run(cf, config)).outcome.ok).toBe(true);
    expect(cf.mutations()).toEqual(
      expect.arrayContaining([
        'queues create memoria-events-staging',
        'vectorize create memoria-vectors-staging --dimensions 768 --metric cosine',
      ]),
    );
    expect(cf.indexes.get('memoria-vectors-staging')).toBe('768 cosine');
    cf.calls = [];
    expect((await run(cf, config)).outcome.ok).toBe(true);
    expect(cf.mutations().filter((c) => /^(queues|vectorize) create/.test(c))).toEqual([]);

    // An index cannot be created without its dimensions: the run stops before any change.
    const fresh = new FakeCloudflare();
    const { outcome } = await run(
      fresh,
      configCopy((t) => t.concat('\n[[env.staging.vectorize]]\nbinding = "VECTORS"\nindex_name = "x"\n')),
    );
    expect(outcome.problems.join()).toMatch(/VECTORIZE_DIMENSIONS/);
    expect(fresh.mutations()).toEqual([]);
  });

  it('records the top-level id in place, changing only that line', async () => {
    const cf = new FakeCloudflare();
    const config = configCopy((t) =>
      t.replace('AUTH0_DOMAIN = "memoria.local"', 'AUTH0_DOMAIN = "memoria-deploy.eu.auth0.com"'),
    );
    const before = readFileSync(config, 'utf8');
    const { outcome } = await run(cf, config, { env: undefined });
    expect(outcome).toMatchObject({ ok: true, url: 'https://memoria.ops.workers.dev' });
    expect(cf.mutations()).toContain('d1 create memoria --update-config=false');
    const after = readFileSync(config, 'utf8');
    expect(after).toBe(before.replace('00000000-0000-0000-0000-000000000000', cf.databases[0]?.uuid as string));
  });

  it.each([
    ['not logged in', (cf: FakeCloudflare) => (cf.loggedIn = false), (t: string) => t, /npx wrangler login/],
    [
      'the issuer publishes another issuer',
      (cf: FakeCloudflare) => (cf.discoveryIssuer = 'https://elsewhere.auth0.com/'),
      (t: string) => t,
      /issuer publishes "https:\/\/elsewhere/,
    ],
    [
      'Auth0 settings left empty',
      () => {},
      (t: string) => t.replace('AUTH0_AUDIENCE = "https://api.memoria.example"', 'AUTH0_AUDIENCE = ""'),
      /AUTH0_AUDIENCE \(\[env\.staging\.vars\] in wrangler\.toml\)/,
    ],
    [
      'an inline development JWKS',
      () => {},
      (t: string) => t.replace('[env.staging.vars]', '[env.staging.vars]\nAUTH0_JWKS = "{}"'),
      /AUTH0_JWKS is set/,
    ],
    [
      'no rate limiter binding',
      () => {},
      (t: string) => t.replace(/\[\[env\.staging\.durable_objects\.bindings\]\]\nname = "RATE_LIMITER"/, '# removed'),
      /RATE_LIMITER/,
    ],
  ])('stops before changing anything when %s', async (_name, arrange, edit, problem) => {
    const cf = new FakeCloudflare();
    arrange(cf);
    const config = configCopy(edit);
    const before = readFileSync(config, 'utf8');
    const { outcome, log } = await run(cf, config);
    expect(outcome.ok).toBe(false);
    expect(outcome.problems.join('\n')).toMatch(problem);
    expect(log).toMatch(/Stopped: nothing after this step was changed/);
    expect(cf.mutations()).toEqual([]);
    expect(readFileSync(config, 'utf8')).toBe(before);
  });

  it('retries /health while the new URL does not answer yet, then passes', async () => {
    const cf = new FakeCloudflare();
    let misses = 2;
    const fetch = cf.runner.fetch;
    cf.runner.fetch = async (url) =>
      url.endsWith('/health') && misses-- > 0 ? { status: 404, json: async () => ({}) } : fetch(url);
    const { outcome } = await run(cf, configCopy());
    expect(outcome.ok).toBe(true);
    expect(cf.calls.filter((c) => c.endsWith('/health'))).toHaveLength(1); // the two misses were not recorded
    expect(misses).toBe(-1);
  });

  it('fails when the deployed /health is degraded, naming the setting', async () => {
    const cf = new FakeCloudflare();
    cf.health = {
      status: 'degraded',
      database: 'ok',
      settings: [{ setting: 'CURSOR_SECRET', problem: 'CURSOR_SECRET is not set' }],
    };
    const { outcome } = await run(cf, configCopy());
    expect(outcome.ok).toBe(false);
    expect(outcome.problems.join()).toMatch(/health answered 200 degraded — CURSOR_SECRET: CURSOR_SECRET is not set/);
  });
});

describe('npm run deploy -- --dry-run (from the repo, offline)', () => {
  it('prints every step, bundles the Worker with wrangler deploy --dry-run and reports its size', async () => {
    const before = readFileSync(join(root, 'wrangler.toml'), 'utf8');
    const { stdout } = await promisify(execFile)(
      join(root, 'node_modules', '.bin', 'tsx'),
      ['scripts/deploy.ts', '--dry-run'],
      {
        cwd: root,
        env: wranglerEnv,
      },
    );
    for (const step of [
      'Preflight',
      'Settings',
      'Auth0',
      'D1 databases',
      'Queues',
      'Migrations',
      'Secrets',
      'Deploy',
      'Smoke test',
    ])
      expect(stdout).toContain(step);
    expect(stdout).toContain('would run: wrangler d1 migrations apply DB --remote');
    expect(stdout).toContain('would run: wrangler whoami --json');
    const size = /bundled offline: (\d+) file\(s\), ([\d.]+) KiB, ([\d.]+) KiB gzipped/.exec(stdout);
    expect(size).not.toBeNull();
    const gzipKiB = Number(size?.[3]);
    expect(gzipKiB).toBeGreaterThan(10);
    expect(gzipKiB).toBeLessThan(3 * 1024); // the free plan's limit
    console.log(`deploy dry run: Worker bundle ${size?.[2]} KiB, ${size?.[3]} KiB gzipped`);
    expect(readFileSync(join(root, 'wrangler.toml'), 'utf8')).toBe(before);
  }, 180_000);
});
