// npm run deploy [-- --env staging|production] [--dry-run]
// One idempotent command from a clone to a running API. Every step first reads what exists and
// changes only what is missing, so a second run (or a run after a failure) converges:
//   1. preflight: Node, wrangler, the Cloudflare login, the settings the Worker needs, Auth0;
//   2. every D1 database bound in wrangler.toml (DB today, shards later) exists, its id recorded;
//   3. every queue and Vectorize index bound exists;
//   4. the migrations are applied to every D1 database (--remote);
//   5. every secret of SECRETS exists (generated, `wrangler secret put`, never printed);
//   6. wrangler deploy, then GET /health on the deployed URL must say "ok".
// --dry-run talks to no Cloudflare API: it prints each step and runs `wrangler deploy --dry-run`,
// which bundles the Worker offline, and reports the bundle size.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { experimental_readRawConfig } from 'wrangler';
import type { Env } from '../src/env';
import { settingProblems } from '../src/routes/system/settings';

/** Every secret the Worker needs, one row each: how it is made and what it is for. */
export const SECRETS: { name: string; purpose: string; generate: () => string }[] = [
  {
    name: 'CURSOR_SECRET',
    purpose: 'HMAC key that signs pagination cursors',
    generate: () => randomBytes(32).toString('hex'),
  },
];

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Everything that leaves the process: wrangler and HTTP. Tests pass a fake. */
export interface Runner {
  wrangler(args: string[], input?: string): Promise<RunResult>;
  fetch(url: string): Promise<{ status: number; json(): Promise<unknown> }>;
}

export interface DeployOptions {
  root: string;
  /** The wrangler.toml to read and to record database ids in. */
  configPath: string;
  env?: string;
  dryRun: boolean;
  runner: Runner;
  log: (line: string) => void;
  nodeVersion?: string;
  /** Waits between smoke-test attempts (tests pass one that does not wait). */
  sleep?: (ms: number) => Promise<void>;
}

export interface DeployOutcome {
  ok: boolean;
  problems: string[];
  url?: string;
  bundle?: { files: number; bytes: number; gzipBytes: number };
}

export class DeployError extends Error {}

const SMOKE_ATTEMPTS = 6;
const SMOKE_WAIT_MS = 5_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const ZERO_ID = /^0{8}-0{4}-0{4}-0{4}-0{12}$/;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/;

interface D1Binding {
  binding: string;
  database_name?: string;
  database_id?: string;
  migrations_dir?: string;
}
interface RawConfig {
  name?: string;
  vars?: Record<string, unknown>;
  d1_databases?: D1Binding[];
  durable_objects?: { bindings?: { name: string }[] };
  queues?: { producers?: { queue: string }[]; consumers?: { queue: string }[] };
  vectorize?: { binding: string; index_name: string }[];
  env?: Record<string, RawConfig>;
}

export function readRawConfig(configPath: string): RawConfig {
  return experimental_readRawConfig({ config: configPath }).rawConfig as RawConfig;
}

export interface DatabasePlan {
  binding: string;
  database_name: string;
  migrations_dir: string;
  /** Unset while the database has not been created (or its id not recorded) yet. */
  id?: string;
}

/**
 * The D1 databases an environment deploys with: one per binding declared at the top level (so a
 * binding added there, e.g. a shard, is created for every environment) plus the environment's
 * own. An environment's database is named `<top-level name>-<env>` unless it declares a name.
 */
export function d1Databases(config: RawConfig, env?: string): DatabasePlan[] {
  const own = env ? (config.env?.[env]?.d1_databases ?? []) : [];
  const bindings = [...(config.d1_databases ?? []).map((d) => d.binding), ...own.map((d) => d.binding)];
  return [...new Set(bindings)].map((binding) => {
    const top = config.d1_databases?.find((d) => d.binding === binding);
    const mine = env ? own.find((d) => d.binding === binding) : top;
    return {
      binding,
      database_name:
        mine?.database_name ?? (top?.database_name ? `${top.database_name}-${env}` : binding.toLowerCase()),
      migrations_dir: mine?.migrations_dir ?? top?.migrations_dir ?? 'migrations',
      id: mine?.database_id && !ZERO_ID.test(mine.database_id) ? mine.database_id : undefined,
    };
  });
}

/**
 * Writes a database id into wrangler.toml: in the binding's `[[d1_databases]]` block (or
 * `[[env.<env>.d1_databases]]`), which is appended when the environment has none yet. Only that
 * block's lines change; comments and everything else stay as they are.
 */
export function recordDatabaseId(toml: string, env: string | undefined, db: DatabasePlan, id: string): string {
  const header = env ? `[[env.${env}.d1_databases]]` : '[[d1_databases]]';
  const lines = toml.split('\n');
  for (let start = 0; start < lines.length; start++) {
    if (lines[start]?.trim() !== header) continue;
    let end = start + 1;
    while (end < lines.length && !/^\s*\[/.test(lines[end] ?? '')) end++;
    const block = lines.slice(start + 1, end);
    if (!block.some((l) => new RegExp(`^\\s*binding\\s*=\\s*"${db.binding}"`).test(l))) continue;
    const at = block.findIndex((l) => /^\s*database_id\s*=/.test(l));
    if (at >= 0) block[at] = `database_id = "${id}"`;
    else block.splice(block.findIndex((l) => /^\s*binding\s*=/.test(l)) + 1, 0, `database_id = "${id}"`);
    return [...lines.slice(0, start + 1), ...block, ...lines.slice(end)].join('\n');
  }
  const block = [
    header,
    `binding = "${db.binding}"`,
    `database_name = "${db.database_name}"`,
    `database_id = "${id}"`,
    `migrations_dir = "${db.migrations_dir}"`,
  ];
  return `${toml.trimEnd()}\n\n# Recorded by npm run deploy -- --env ${env}.\n${block.join('\n')}\n`;
}

/** The Worker's vars for an environment as wrangler resolves them (env vars do not inherit). */
function varsOf(config: RawConfig, env?: string): Record<string, string> {
  const vars = (env ? config.env?.[env]?.vars : config.vars) ?? {};
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, String(v)]));
}

const bytesOf = (dir: string): { files: number; bytes: number; gzipBytes: number } => {
  let files = 0;
  let bytes = 0;
  let gzipBytes = 0;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (!statSync(path).isFile() || name.endsWith('.map') || name.endsWith('.json')) continue;
    const content = readFileSync(path);
    files++;
    bytes += content.length;
    gzipBytes += gzipSync(content).length;
  }
  return { files, bytes, gzipBytes };
};

export async function deploy(opts: DeployOptions): Promise<DeployOutcome> {
  const { runner, log, env, dryRun } = opts;
  const envArgs = env ? ['--env', env] : [];
  const problems: string[] = [];
  let stepNo = 0;
  const step = (title: string) => log(`\n${++stepNo}. ${title}`);
  const would = (args: string[], scoped = true) =>
    log(`   would run: wrangler ${[...args, ...(scoped ? envArgs : [])].join(' ')}`);
  const wrangler = async (args: string[], input?: string) => {
    log(`   $ wrangler ${[...args, ...envArgs].join(' ')}`);
    const result = await runner.wrangler([...args, ...envArgs], input);
    if (result.code !== 0)
      throw new DeployError(
        `wrangler ${args.join(' ')} failed (exit ${result.code}):\n${result.stderr || result.stdout}`,
      );
    return result.stdout;
  };
  // Problems found before anything is changed stop a real run there; a dry run lists them all.
  const fail = (problem: string) => {
    problems.push(problem);
    log(`   ✗ ${problem}`);
    if (!dryRun) throw new DeployError(problem);
  };

  log(`Deploying Memoria${env ? ` (environment ${env})` : ' (top-level environment)'}${dryRun ? ' — dry run' : ''}`);
  try {
    step('Preflight: Node, wrangler, login');
    const node = opts.nodeVersion ?? process.versions.node;
    if (Number(node.split('.')[0]) < 20) fail(`Node ${node} is too old: Memoria needs Node 20 or later.`);
    else log(`   ✓ Node ${node}`);
    const version = (await runner.wrangler(['--version'])).stdout.trim();
    if (!/^4\./.test(version))
      fail(`wrangler ${version || '(not found)'}: Memoria needs wrangler 4 (npm ci installs it).`);
    else log(`   ✓ wrangler ${version}`);
    if (dryRun) would(['whoami', '--json'], false);
    else {
      const who = await runner.wrangler(['whoami', '--json']);
      if (who.code !== 0) fail('Not logged in to Cloudflare: run `npx wrangler login` (or set CLOUDFLARE_API_TOKEN).');
      else log(`   ✓ logged in as ${(JSON.parse(who.stdout) as { email?: string }).email ?? 'an API token'}`);
    }

    step('Settings the Worker needs (wrangler.toml vars and bindings)');
    const config = readRawConfig(opts.configPath);
    if (env && !config.env?.[env]) fail(`wrangler.toml has no [env.${env}] section.`);
    const vars = varsOf(config, env);
    const scope = env ? `[env.${env}.vars]` : '[vars]';
    const bindings = env ? config.env?.[env]?.durable_objects : config.durable_objects;
    // Secrets are checked (and made) in their own step; here they count as present.
    // authConfig logs each refusal for the Worker's logs; here the ✗ lines below say it.
    const logError = console.error;
    console.error = () => {};
    const settings = settingProblems({
      ...vars,
      ...Object.fromEntries(SECRETS.map((s) => [s.name, 'x'.repeat(64)])),
      DB: {} as D1Database,
      RATE_LIMITER: bindings?.bindings?.some((b) => b.name === 'RATE_LIMITER')
        ? ({} as Env['RATE_LIMITER'])
        : undefined,
    });
    console.error = logError;
    if (vars.AUTH0_JWKS) fail(`AUTH0_JWKS is set in ${scope}: it is for local development only; remove it.`);
    for (const s of settings) fail(`${s.setting} (${scope} in wrangler.toml): ${s.problem}`);
    // An index's dimensions and metric are fixed at creation and belong to the embedding model.
    const scoped = env ? (config.env?.[env] ?? {}) : config;
    const indexes = (scoped.vectorize ?? []).map((v) => v.index_name);
    if (indexes.length > 0 && !/^\d+$/.test(vars.VECTORIZE_DIMENSIONS ?? ''))
      fail(
        `VECTORIZE_DIMENSIONS (${scope}): the Vectorize index ${indexes.join(', ')} needs its dimensions to be created.`,
      );
    if (settings.length === 0 && !vars.AUTH0_JWKS) log(`   ✓ AUTH0_DOMAIN, AUTH0_AUDIENCE and the bindings are set`);

    step('Auth0: the issuer publishes its OpenID configuration and a JWKS with an RS256 key');
    const domain = vars.AUTH0_DOMAIN?.trim();
    const issuer = vars.AUTH0_ISSUER?.trim() || (domain ? `https://${domain}/` : '');
    const discovery = `${issuer.replace(/\/?$/, '/')}.well-known/openid-configuration`;
    if (!issuer) log('   (skipped: no AUTH0_DOMAIN or AUTH0_ISSUER)');
    else if (dryRun) log(`   would fetch ${discovery} and its jwks_uri`);
    else {
      const found = await fetchJson(runner, discovery);
      const meta = found as { issuer?: string; jwks_uri?: string } | undefined;
      if (!meta) fail(`${discovery} did not answer with JSON: check AUTH0_DOMAIN (${scope}).`);
      else if (meta.issuer !== issuer)
        fail(
          `The issuer publishes "${meta.issuer}" but tokens will be checked against "${issuer}": fix AUTH0_ISSUER/AUTH0_DOMAIN.`,
        );
      else {
        const jwksUrl = vars.AUTH0_JWKS_URL?.trim() || meta.jwks_uri || '';
        const jwks = (await fetchJson(runner, jwksUrl)) as { keys?: { kty?: string; alg?: string }[] } | undefined;
        const rsa = jwks?.keys?.filter((k) => k.kty === 'RSA' && (k.alg ?? 'RS256') === 'RS256').length ?? 0;
        if (rsa === 0) fail(`${jwksUrl} has no RS256 key: Memoria accepts only RS256 tokens.`);
        else log(`   ✓ ${issuer} (JWKS: ${rsa} RS256 key${rsa > 1 ? 's' : ''})`);
      }
    }

    step('D1 databases (every [[d1_databases]] binding)');
    const databases = d1Databases(config, env);
    let existing: { name: string; uuid: string }[] = [];
    if (dryRun) would(['d1', 'list', '--json'], false);
    else existing = JSON.parse(await runner.wrangler(['d1', 'list', '--json']).then(ok)) as typeof existing;
    for (const db of databases) {
      const found = existing.find((d) => d.name === db.database_name);
      if (db.id && (dryRun || found?.uuid === db.id)) {
        log(`   ✓ ${db.binding}: ${db.database_name} (${db.id})`);
        continue;
      }
      if (dryRun) {
        log(`   ${db.binding}: ${db.database_name} — created if missing, its id recorded in wrangler.toml`);
        would(['d1', 'create', db.database_name, '--update-config=false'], false);
        continue;
      }
      let id = found?.uuid;
      if (!id) {
        // d1 create takes no --env (the name is the environment's own) and must not edit the
        // config itself: the id is recorded below, in the environment's block.
        const create = ['d1', 'create', db.database_name, '--update-config=false'];
        log(`   $ wrangler ${create.join(' ')}`);
        const out = await runner.wrangler(create).then(ok);
        id = UUID.exec(out)?.[0];
        if (!id) throw new DeployError(`wrangler d1 create ${db.database_name} printed no database id:\n${out}`);
        log(`   + created ${db.database_name} (${id})`);
      } else log(`   ✓ ${db.database_name} exists (${id})`);
      writeFileSync(opts.configPath, recordDatabaseId(readFileSync(opts.configPath, 'utf8'), env, db, id));
      const recorded = d1Databases(readRawConfig(opts.configPath), env).find((d) => d.binding === db.binding);
      if (recorded?.id !== id) throw new DeployError(`could not record ${db.binding}'s id in ${opts.configPath}`);
      log(`   + recorded ${db.binding} = ${id} in wrangler.toml (commit it)`);
    }

    step('Queues and Vectorize indexes the enabled features bind');
    const queues = [
      ...new Set([...(scoped.queues?.producers ?? []), ...(scoped.queues?.consumers ?? [])].map((q) => q.queue)),
    ];
    if (queues.length + indexes.length === 0) log('   ✓ none bound');
    for (const queue of queues) {
      if (dryRun) would(['queues', 'create', queue], false);
      else if ((await runner.wrangler(['queues', 'info', queue])).code !== 0) {
        await runner.wrangler(['queues', 'create', queue]).then(ok);
        log(`   + created queue ${queue}`);
      } else log(`   ✓ queue ${queue}`);
    }
    for (const index of indexes) {
      const create = [
        'vectorize',
        'create',
        index,
        '--dimensions',
        vars.VECTORIZE_DIMENSIONS ?? '',
        '--metric',
        vars.VECTORIZE_METRIC ?? 'cosine',
      ];
      if (dryRun) would(create, false);
      else if ((await runner.wrangler(['vectorize', 'get', index])).code !== 0) {
        await runner.wrangler(create).then(ok);
        log(`   + created Vectorize index ${index}`);
      } else log(`   ✓ Vectorize index ${index}`);
    }

    step('Migrations (every D1 database, --remote)');
    for (const db of databases) {
      if (dryRun) would(['d1', 'migrations', 'apply', db.binding, '--remote']);
      else log(indent(await wrangler(['d1', 'migrations', 'apply', db.binding, '--remote'])));
    }

    step(`Secrets (${SECRETS.map((s) => s.name).join(', ')}): generated and stored when missing`);
    let present: string[] = [];
    if (dryRun) would(['secret', 'list', '--format', 'json']);
    else {
      // A Worker that was never deployed has no secrets yet (and secret list fails).
      const listed = await runner.wrangler(['secret', 'list', '--format', 'json', ...envArgs]);
      if (listed.code === 0) present = (JSON.parse(listed.stdout) as { name: string }[]).map((s) => s.name);
    }
    for (const secret of SECRETS) {
      if (present.includes(secret.name)) log(`   ✓ ${secret.name} is set`);
      else if (dryRun) log(`   ${secret.name} (${secret.purpose}) — generated and put if missing`);
      else {
        await wrangler(['secret', 'put', secret.name], secret.generate());
        log(`   + ${secret.name} generated and stored (${secret.purpose}); its value is not shown`);
      }
    }

    step('Deploy');
    let url: string | undefined;
    let bundle: DeployOutcome['bundle'];
    if (dryRun) {
      const outdir = mkdtempSync(join(tmpdir(), 'memoria-deploy-'));
      try {
        await wrangler(['deploy', '--dry-run', '--outdir', outdir]);
        bundle = bytesOf(outdir);
        log(
          `   ✓ bundled offline: ${bundle.files} file(s), ${(bundle.bytes / 1024).toFixed(1)} KiB, ${(bundle.gzipBytes / 1024).toFixed(1)} KiB gzipped (the Workers limit is 3 MiB gzipped on the free plan, 10 MiB on paid plans)`,
        );
      } finally {
        rmSync(outdir, { recursive: true, force: true });
      }
    } else {
      const out = await wrangler(['deploy']);
      url = /https:\/\/[^\s]+\.workers\.dev\b/.exec(out)?.[0];
      log(`   ✓ deployed${url ? ` to ${url}` : ''}`);
    }

    step('Smoke test: GET /health');
    if (dryRun) log('   would fetch <deployed URL>/health and require {"status":"ok"}');
    else if (!url) log('   ! no workers.dev URL in the deploy output (custom routes only): check /health yourself');
    else {
      // A new workers.dev name can take a little while to answer: a few tries before failing.
      let answer = 'no answer';
      for (let attempt = 1; ; attempt++) {
        const res = await runner.fetch(`${url}/health`).catch(() => undefined);
        const body = (await res?.json().catch(() => undefined)) as
          | { status?: string; settings?: { setting: string; problem: string }[] }
          | undefined;
        if (res?.status === 200 && body?.status === 'ok') break;
        const named = body?.settings?.map((s) => `${s.setting}: ${s.problem}`).join('; ');
        if (res) answer = `${res.status} ${body?.status ?? ''}${named ? ` — ${named}` : ''}`;
        // A degraded answer is final: the Worker runs, and says what is missing.
        if (body?.status === 'degraded' || attempt >= SMOKE_ATTEMPTS)
          throw new DeployError(`GET ${url}/health answered ${answer}`);
        await (opts.sleep ?? sleep)(SMOKE_WAIT_MS);
      }
      log(`   ✓ ${url}/health is ok`);
    }
    log(
      dryRun
        ? `\nDry run done${problems.length ? ` — ${problems.length} problem(s) to fix before a real deploy` : ''}.`
        : '\nDeployed.',
    );
    return { ok: problems.length === 0, problems, url, bundle };
  } catch (err) {
    if (!(err instanceof DeployError)) throw err;
    if (!problems.includes(err.message)) log(`   ✗ ${err.message}`);
    log('\nStopped: nothing after this step was changed. Fix the above and run the same command again.');
    return { ok: false, problems: [...new Set([...problems, err.message])] };
  }
}

function ok(result: RunResult): string {
  if (result.code !== 0) throw new DeployError(result.stderr || result.stdout || `exit ${result.code}`);
  return result.stdout;
}

const indent = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => `     ${l}`)
    .join('\n');

async function fetchJson(runner: Runner, url: string): Promise<unknown> {
  try {
    const res = await runner.fetch(url);
    return res.status === 200 ? await res.json() : undefined;
  } catch {
    return undefined;
  }
}

/** The real runner: wrangler from node_modules (no prompts, no telemetry) and the global fetch. */
export function localRunner(root: string): Runner {
  const bin = join(root, 'node_modules', '.bin', 'wrangler');
  return {
    wrangler: (args, input) =>
      new Promise((resolve) => {
        const child = execFile(
          bin,
          args,
          {
            cwd: root,
            env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
            maxBuffer: 64 * 1024 * 1024,
          },
          (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
        child.stdin?.end(input ?? '');
      }),
    fetch: (url) => fetch(url, { signal: AbortSignal.timeout(15_000) }),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const envAt = args.indexOf('--env');
  const env = envAt >= 0 ? args[envAt + 1] : undefined;
  const unknown = args.filter((a, i) => !['--dry-run', '--env'].includes(a) && i !== envAt + 1);
  if ((envAt >= 0 && !/^[A-Za-z0-9_-]{1,64}$/.test(env ?? '')) || unknown.length > 0) {
    console.error('usage: npm run deploy [-- --env <name>] [--dry-run]');
    process.exit(2);
  }
  const root = fileURLToPath(new URL('..', import.meta.url));
  const outcome = await deploy({
    root,
    configPath: join(root, 'wrangler.toml'),
    env,
    dryRun: args.includes('--dry-run'),
    runner: localRunner(root),
    log: (line) => console.log(line),
  });
  // A dry run succeeds when it bundled: the problems it lists are for the real run.
  process.exit(outcome.ok || outcome.bundle ? 0 : 1);
}
