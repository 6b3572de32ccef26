// Per-endpoint benchmark (issue 4, DESIGN.md "Performance budget").
//
//   npm run bench                      # both datasets (generated on first use), 200 requests each
//   npm run bench -- --datasets 10k --requests 50
//   npm run bench -- --only PATCH,DELETE       # endpoints whose name contains one of these
//
// For each dataset: copy the generated D1 state (so every run starts from the same data), start
// `wrangler dev` on it with a throw-away signing key, and send each endpoint `--warmup` unmeasured
// then `--requests` sequential requests as the measured tenant's owner. Per endpoint it reports D1
// round trips, rows read and rows written (from the Server-Timing header the app sets on every
// response) and p50/p95 latency; then compares rows_read across datasets (budget: flat within
// 10%). Also reports the Worker bundle size from `wrangler deploy --dry-run`.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { ALL_SCOPES } from '../src/auth/scopes';
import { root } from './common';

const { values: args } = parseArgs({
  options: {
    datasets: { type: 'string', default: '10k,1m' },
    requests: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '20' },
    port: { type: 'string', default: '8881' },
    'inspector-port': { type: 'string', default: '8889' },
    regenerate: { type: 'boolean', default: false },
    only: { type: 'string' },
    'max-seconds': { type: 'string', default: '30' },
  },
});
const N = Number(args.requests);
const WARMUP = Number(args.warmup);
const MAX_MS = Number(args['max-seconds']) * 1000;
const PORT = Number(args.port);
const BASE_URL = `http://127.0.0.1:${PORT}`;
const wrangler = join(root, 'node_modules', '.bin', 'wrangler');
const benchDir = join(root, '.bench');

interface Manifest {
  dataset: string;
  seconds: number;
  db_bytes: number;
  total_memories: number;
  other_tenants: number;
  per_tenant: number;
  measured: {
    tenant_id: string;
    owner_sub: string;
    member_sub: string;
    memory_ids: string[];
    visible_ids: string[];
    common_word: string;
    rare_word: string;
    /** subjects-* datasets: the measured tenant's memories are spread over this many subject_ids. */
    subjects?: number;
    probe_subject?: string | null;
  };
}

// ---------- dataset + server ----------
function ensureDataset(name: string): Manifest {
  const dir = join(benchDir, name);
  if (args.regenerate || !existsSync(join(dir, 'manifest.json'))) {
    execFileSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'bench', 'generate.ts'), '--dataset', name], {
      cwd: root,
      stdio: 'inherit',
    });
  }
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
}

interface Auth {
  vars: string[];
  token: (sub: string) => Promise<string>;
}
async function devAuth(): Promise<Auth> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `bench-${randomBytes(4).toString('hex')}`;
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] };
  const issuer = 'https://bench.memoria.local/';
  const audience = 'https://api.memoria.bench';
  return {
    vars: [
      `AUTH0_JWKS:${JSON.stringify(jwks)}`,
      `AUTH0_ISSUER:${issuer}`,
      `AUTH0_AUDIENCE:${audience}`,
      `CURSOR_SECRET:${randomBytes(32).toString('hex')}`,
    ],
    token: (sub) =>
      new SignJWT({ scope: ALL_SCOPES.join(' ') })
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
        .setSubject(sub)
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime('2h')
        .sign(privateKey),
  };
}

async function startServer(persistDir: string, auth: Auth, log: string): Promise<ChildProcess> {
  const out = (await import('node:fs')).openSync(log, 'w');
  const child = spawn(
    wrangler,
    [
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(PORT),
      '--inspector-port',
      args['inspector-port']!,
      '--persist-to',
      persistDir,
      '--show-interactive-dev-session=false',
      '--log-level',
      'warn',
      ...auth.vars.flatMap((v) => ['--var', v]),
    ],
    {
      cwd: root,
      stdio: ['ignore', out, out],
      detached: true,
      env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' },
    },
  );
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}); see ${log}`);
    try {
      if ((await fetch(`${BASE_URL}/health`)).ok) return child;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`wrangler dev did not answer /health within 120 s; see ${log}`);
}

function stopServer(child: ChildProcess) {
  // Our own process group (detached above): wrangler and the workerd it started.
  if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
}

// ---------- measuring ----------
interface Sample {
  status: number;
  headers: Headers;
  ms: number;
  roundTrips: number;
  rowsRead: number;
  rowsWritten: number;
  body: any;
}
async function send(method: string, path: string, token: string | null, body?: unknown): Promise<Sample> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const t0 = performance.now();
  const res = await fetch(BASE_URL + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  const m = /round_trips=(\d+) rows_read=(\d+) rows_written=(\d+)/.exec(res.headers.get('server-timing') ?? '');
  let parsed: any = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  return {
    status: res.status,
    headers: res.headers,
    ms,
    roundTrips: m ? Number(m[1]) : NaN,
    rowsRead: m ? Number(m[2]) : NaN,
    rowsWritten: m ? Number(m[3]) : NaN,
    body: parsed,
  };
}

/** The app's catch-all: the route does not exist (yet). */
const missingRoute = (s: Sample) =>
  (s.status === 404 && /^No route for/.test(s.body?.detail ?? '')) || s.status === 405;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};

export interface EndpointResult {
  name: string;
  read: boolean;
  status: string;
  skipped?: string;
  n: number;
  statuses: Record<string, number>;
  round_trips: { p50: number; max: number };
  rows_read: { p50: number; min: number; max: number };
  rows_written: { p50: number; max: number };
  latency_ms: { p50: number; p95: number };
  note?: string;
}

interface Scenario {
  name: string;
  /** A read: the budget says it writes nothing. */
  read: boolean;
  ok: number[];
  request: (i: number) => { method: string; path: string; body?: unknown; auth?: boolean };
  after?: (s: Sample, i: number) => void;
}

let rateLimited = 0;

async function measure(sc: Scenario, token: string): Promise<EndpointResult> {
  const samples: Sample[] = [];
  const statuses: Record<string, number> = {};
  let measuring = 0;
  let cut = '';
  for (let i = 0; i < WARMUP + N; i++) {
    // A pathologically slow endpoint (e.g. a full table scan) gets fewer samples, and says so.
    if (i === WARMUP) measuring = performance.now();
    if (samples.length >= 20 && performance.now() - measuring > MAX_MS) {
      cut = `stopped after ${samples.length} requests (over ${MAX_MS / 1000} s)`;
      break;
    }
    const r = sc.request(i);
    let s = await send(r.method, r.path, r.auth === false ? null : token, r.body);
    // The per-tenant rate limit (plan table) is not what we measure: wait it out and resend.
    for (let tries = 0; s.status === 429 && tries < 5; tries++) {
      rateLimited++;
      await new Promise((resolve) => setTimeout(resolve, 1000 * Number(s.headers.get('retry-after') ?? 1)));
      s = await send(r.method, r.path, r.auth === false ? null : token, r.body);
    }
    if (i === 0 && missingRoute(s)) {
      return {
        name: sc.name,
        read: sc.read,
        status: 'missing',
        skipped: `route not implemented (${s.status})`,
        n: 0,
        statuses: {},
        round_trips: { p50: NaN, max: NaN },
        rows_read: { p50: NaN, min: NaN, max: NaN },
        rows_written: { p50: NaN, max: NaN },
        latency_ms: { p50: NaN, p95: NaN },
      };
    }
    sc.after?.(s, i);
    if (i >= WARMUP) {
      samples.push(s);
      statuses[s.status] = (statuses[s.status] ?? 0) + 1;
    }
  }
  const bad = samples.filter((s) => !sc.ok.includes(s.status));
  const col = (k: 'roundTrips' | 'rowsRead' | 'rowsWritten' | 'ms') => samples.map((s) => s[k]);
  return {
    name: sc.name,
    read: sc.read,
    status: bad.length ? 'unexpected-status' : 'ok',
    note:
      [cut, bad.length ? `${bad.length} unexpected: ${JSON.stringify(bad[0]!.body).slice(0, 300)}` : '']
        .filter(Boolean)
        .join('; ') || undefined,
    n: samples.length,
    statuses,
    round_trips: { p50: pct(col('roundTrips'), 50), max: Math.max(...col('roundTrips')) },
    rows_read: { p50: pct(col('rowsRead'), 50), min: Math.min(...col('rowsRead')), max: Math.max(...col('rowsRead')) },
    rows_written: { p50: pct(col('rowsWritten'), 50), max: Math.max(...col('rowsWritten')) },
    latency_ms: { p50: round(pct(col('ms'), 50)), p95: round(pct(col('ms'), 95)) },
  };
}
const round = (x: number) => Math.round(x * 100) / 100;

// ---------- the endpoints ----------
async function scenarios(m: Manifest, token: string): Promise<Scenario[]> {
  const visible = m.measured.visible_ids;
  const created: string[] = [];
  const idOf = (b: any): string | undefined => b?.id ?? b?.data?.id;
  // A target per iteration for writes: the memories POST created, else the tenant's own.
  const target = (i: number) => (created.length > i ? created[i]! : visible[i % visible.length]!);
  const memoryBody = (i: number) => ({
    content: `Bench memory ${i}: the ${m.measured.common_word} about the quarterly roadmap moved to friday afternoon.`,
    tags: ['bench', i % 2 ? 'work' : 'personal'],
    metadata: { bench: true, i },
    importance: 1 + (i % 10),
    access_scope: 'private',
  });

  // A later list page: follow next_cursor 10 times (keyset, so the depth must not cost more).
  let listCursor: string | null = null;
  for (let page = 0, cursor: string | null = null; page < 10; page++) {
    const s = await send('GET', `/v1/memories?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, token);
    if (s.status !== 200 || !s.body?.next_cursor) break;
    cursor = listCursor = s.body.next_cursor;
  }
  const search = (word: string) => `/v1/memories/search?q=${encodeURIComponent(word)}&limit=20`;
  const searchPage2 = await send('GET', search(m.measured.common_word), token);
  const searchCursor: string | null = searchPage2.status === 200 ? (searchPage2.body?.next_cursor ?? null) : null;
  const audits = await send('GET', '/v1/audit-logs?limit=100', token);
  const auditIds: string[] = audits.status === 200 ? audits.body.data.map((a: { id: string }) => a.id) : [];
  const users = await send('GET', '/v1/users?limit=100', token);
  const userIds: string[] = users.status === 200 ? users.body.data.map((u: { id: string }) => u.id) : [];
  const member =
    users.status === 200 ? users.body.data.find((u: { role: string }) => u.role === 'member')?.id : undefined;
  const sessions: string[] = [];
  const session = (i: number) => sessions[i % Math.max(1, sessions.length)] ?? 'missing';
  const today = new Date().toISOString().slice(0, 10);
  const monthAgo = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);

  const get = (name: string, path: (i: number) => string, auth = true): Scenario => ({
    name,
    read: true,
    ok: [200],
    request: (i) => ({ method: 'GET', path: path(i), auth }),
  });
  return [
    // Reads first, on the pristine dataset.
    get('GET /health (no auth)', () => '/health', false),
    get('GET /v1/me', () => '/v1/me'),
    get('GET /v1/memories/{id}', (i) => `/v1/memories/${visible[i % visible.length]}`),
    get('GET /v1/memories (list, page 1)', () => '/v1/memories?limit=20'),
    ...(listCursor
      ? [
          get(
            'GET /v1/memories (list, page 11 via cursor)',
            () => `/v1/memories?limit=20&cursor=${encodeURIComponent(listCursor!)}`,
          ),
        ]
      : []),
    get('GET /v1/memories?tag=work (filtered list)', () => '/v1/memories?limit=20&tag=work'),
    get(`GET /v1/memories/search?q=${m.measured.common_word} (common word)`, () => search(m.measured.common_word)),
    ...(searchCursor
      ? [
          get(
            `GET /v1/memories/search?q=${m.measured.common_word} (page 2 via cursor)`,
            () => `${search(m.measured.common_word)}&cursor=${encodeURIComponent(searchCursor)}`,
          ),
        ]
      : []),
    get(`GET /v1/memories/search?q=${m.measured.rare_word} (rare word)`, () => search(m.measured.rare_word)),
    ...(m.measured.probe_subject
      ? [
          get(
            'GET /v1/memories?subject_id=… (one subject, page 1)',
            () => `/v1/memories?limit=20&subject_id=${encodeURIComponent(m.measured.probe_subject!)}`,
          ),
          get(
            `GET /v1/memories/search?q=${m.measured.common_word}&subject_id=… (one subject)`,
            () => `${search(m.measured.common_word)}&subject_id=${encodeURIComponent(m.measured.probe_subject!)}`,
          ),
        ]
      : []),
    get('GET /v1/audit-logs', () => '/v1/audit-logs?limit=20'),
    // Filters that match nothing: each reads what its index bounds, not the tenant's whole log.
    get('GET /v1/audit-logs?action= (no match)', () => '/v1/audit-logs?action=memory.never'),
    get(
      'GET /v1/audit-logs?resource_id= (no match)',
      () => '/v1/audit-logs?resource_id=mem_00000000000000000000000000',
    ),
    get('GET /v1/audit-logs?user_id= (no match)', () => '/v1/audit-logs?user_id=usr_00000000000000000000000000'),
    ...(auditIds.length
      ? [get('GET /v1/audit-logs/{id}', (i) => `/v1/audit-logs/${auditIds[i % auditIds.length]}`)]
      : []),
    get('GET /v1/tenant', () => '/v1/tenant'),
    get('GET /v1/users', () => '/v1/users?limit=20'),
    ...(userIds.length ? [get('GET /v1/users/{id}', (i) => `/v1/users/${userIds[i % userIds.length]}`)] : []),
    get('GET /v1/subscription', () => '/v1/subscription'),
    get('GET /v1/usage (30 days)', () => `/v1/usage?from=${monthAgo}&to=${today}`),
    get('GET /v1/sessions', () => '/v1/sessions?limit=20'),
    // Writes, each on its own memory.
    {
      name: 'POST /v1/memories',
      read: false,
      ok: [201],
      request: (i) => ({ method: 'POST', path: '/v1/memories', body: memoryBody(i) }),
      after: (s) => {
        const id = idOf(s.body);
        if (s.status === 201 && id) created.push(id);
      },
    },
    {
      name: 'PATCH /v1/memories/{id}',
      read: false,
      ok: [200],
      request: (i) => ({
        method: 'PATCH',
        path: `/v1/memories/${target(i)}`,
        body: { content: `Updated bench memory ${i} after the ${m.measured.common_word}.`, importance: 7 },
      }),
    },
    {
      name: 'POST /v1/memories/{id}/tags',
      read: false,
      ok: [200],
      request: (i) => ({ method: 'POST', path: `/v1/memories/${target(i)}/tags`, body: { tags: ['bench-tag'] } }),
    },
    {
      name: 'DELETE /v1/memories/{id}/tags/{tag}',
      read: false,
      ok: [200, 204],
      request: (i) => ({ method: 'DELETE', path: `/v1/memories/${target(i)}/tags/bench-tag` }),
    },
    {
      name: 'DELETE /v1/memories/{id} (soft)',
      read: false,
      ok: [204],
      request: (i) => ({ method: 'DELETE', path: `/v1/memories/${target(i)}` }),
    },
    {
      name: 'POST /v1/memories/{id}/restore',
      read: false,
      ok: [200],
      request: (i) => ({ method: 'POST', path: `/v1/memories/${target(i)}/restore` }),
    },
    {
      name: 'DELETE /v1/memories/{id}?permanent=true (purge)',
      read: false,
      ok: [204],
      request: (i) => ({ method: 'DELETE', path: `/v1/memories/${target(i)}?permanent=true` }),
    },
    {
      name: 'POST /v1/sessions',
      read: false,
      ok: [201],
      request: (i) => ({
        method: 'POST',
        path: '/v1/sessions',
        body: { mcp_client_id: `bench-client-${i}`, metadata: { i } },
      }),
      after: (s) => {
        if (s.status === 201 && s.body?.id) sessions.push(s.body.id);
      },
    },
    {
      name: 'POST /v1/sessions/{id}/heartbeat',
      read: false,
      ok: [200],
      request: (i) => ({ method: 'POST', path: `/v1/sessions/${session(i)}/heartbeat` }),
    },
    {
      name: 'DELETE /v1/sessions/{id}',
      read: false,
      ok: [204],
      request: (i) => ({ method: 'DELETE', path: `/v1/sessions/${session(i)}` }),
    },
    {
      name: 'PATCH /v1/tenant',
      read: false,
      ok: [200],
      request: (i) => ({ method: 'PATCH', path: '/v1/tenant', body: { name: `Bench tenant ${i}` } }),
    },
    ...(member
      ? [
          {
            name: 'PATCH /v1/users/{id}',
            read: false,
            ok: [200],
            request: (i: number) => ({
              method: 'PATCH',
              path: `/v1/users/${member}`,
              body: { name: `Bench member ${i}` },
            }),
          },
        ]
      : []),
    {
      name: 'POST /v1/memories/batch (10 items)',
      read: false,
      ok: [201],
      request: (i) => ({
        method: 'POST',
        path: '/v1/memories/batch',
        body: { memories: Array.from({ length: 10 }, (_, j) => memoryBody(100_000 + i * 10 + j)) },
      }),
    },
  ];
}

// ---------- bundle ----------
function bundleSize(): { total_kib: number; gzip_kib: number } | { error: string } {
  const out = join(tmpdir(), `memoria-bench-dryrun-${process.pid}`);
  try {
    const text = execFileSync(wrangler, ['deploy', '--dry-run', '--outdir', out], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: 'true' },
    });
    const m = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(text);
    return m ? { total_kib: Number(m[1]), gzip_kib: Number(m[2]) } : { error: text.slice(-500) };
  } catch (err) {
    return { error: String(err).slice(0, 500) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

// ---------- report ----------
const fmt = (x: number) => (Number.isNaN(x) ? '–' : String(x));
function datasetTable(name: string, m: Manifest, rs: EndpointResult[]): string {
  const lines = [
    `### ${name}: ${m.total_memories.toLocaleString('en')} memories (${m.other_tenants.toLocaleString('en')} other tenants × ${m.per_tenant} + the measured tenant's 1,000)`,
    '',
    '| endpoint | n | statuses | round trips p50 (max) | rows_read p50 [min–max] | rows_written p50 (max) | latency p50 / p95 ms |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rs) {
    if (r.skipped) {
      lines.push(`| ${r.name} | – | ${r.skipped} | | | | |`);
      continue;
    }
    lines.push(
      `| ${r.name}${r.note ? ` (${r.note})` : ''} | ${r.n} | ${Object.entries(r.statuses)
        .map(([k, v]) => `${k}×${v}`)
        .join(' ')} | ${fmt(r.round_trips.p50)} (${fmt(r.round_trips.max)}) | ` +
        `${fmt(r.rows_read.p50)} [${fmt(r.rows_read.min)}–${fmt(r.rows_read.max)}] | ${fmt(r.rows_written.p50)} (${fmt(r.rows_written.max)}) | ${fmt(r.latency_ms.p50)} / ${fmt(r.latency_ms.p95)} |`,
    );
  }
  return lines.join('\n');
}

function comparison(all: { name: string; results: EndpointResult[] }[]): string {
  if (all.length < 2) return '';
  const [a, b] = [all[0]!, all[all.length - 1]!];
  const lines = [
    `### Budget check: ${a.name} → ${b.name}`,
    '',
    `| endpoint | round trips | rows_written | rows_read ${a.name} | rows_read ${b.name} | ratio | p50 ms ${a.name} → ${b.name} | budget |`,
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const ra of a.results) {
    const rb = b.results.find((r) => r.name === ra.name);
    if (!rb || ra.skipped || rb.skipped) {
      lines.push(`| ${ra.name} | | | | | | | skipped: ${ra.skipped ?? rb?.skipped ?? 'not measured'} |`);
      continue;
    }
    const ratio =
      ra.rows_read.p50 === 0 ? (rb.rows_read.p50 === 0 ? 1 : Infinity) : rb.rows_read.p50 / ra.rows_read.p50;
    const problems: string[] = [];
    const isHealth = ra.name.startsWith('GET /health');
    if (!isHealth && Math.max(ra.round_trips.max, rb.round_trips.max) !== 1) problems.push('round trips ≠ 1');
    if (ra.read && Math.max(ra.rows_written.max, rb.rows_written.max) > 0) problems.push('read writes');
    if (ratio > 1.1) problems.push(`rows_read ×${ratio.toFixed(2)}`);
    if (ra.status !== 'ok' || rb.status !== 'ok') problems.push('unexpected statuses');
    lines.push(
      `| ${ra.name} | ${ra.round_trips.max} / ${rb.round_trips.max} | ${ra.rows_written.p50} / ${rb.rows_written.p50} | ${ra.rows_read.p50} | ${rb.rows_read.p50} | ${ratio.toFixed(2)} | ` +
        `${ra.latency_ms.p50} → ${rb.latency_ms.p50} | ${problems.length ? `✗ ${problems.join(', ')}` : '✓'} |`,
    );
  }
  return lines.join('\n');
}

async function main() {
  const names = args
    .datasets!.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const machine = {
    nproc: cpus().length,
    cpu: cpus()[0]?.model,
    node: process.version,
    wrangler: `wrangler ${execFileSync(wrangler, ['--version'], { encoding: 'utf8' }).trim()}`,
    loadavg_start: loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
  };
  const auth = await devAuth();
  const all: { name: string; manifest: Manifest; results: EndpointResult[] }[] = [];
  for (const name of names) {
    const manifest = ensureDataset(name);
    // Every run starts from the generated data: the writes below must not leak into the next run.
    const work = join(benchDir, `${name}.run`);
    rmSync(work, { recursive: true, force: true });
    cpSync(join(benchDir, name), work, { recursive: true });
    mkdirSync(benchDir, { recursive: true });
    process.stderr.write(`\n== ${name}: starting wrangler dev on :${PORT}\n`);
    const server = await startServer(work, auth, join(benchDir, `wrangler-${name}.log`));
    const results: EndpointResult[] = [];
    try {
      const token = await auth.token(manifest.measured.owner_sub);
      const me = await send('GET', '/v1/me', token);
      if (me.status !== 200)
        throw new Error(`GET /v1/me as the measured owner → ${me.status} ${JSON.stringify(me.body)}`);
      for (const sc of await scenarios(manifest, token)) {
        if (args.only && !args.only.split(',').some((part) => sc.name.includes(part))) continue;
        const r = await measure(sc, token);
        results.push(r);
        process.stderr.write(
          `${r.name.padEnd(58)} ${r.skipped ?? `rt=${r.round_trips.p50} read=${r.rows_read.p50} written=${r.rows_written.p50} p50=${r.latency_ms.p50}ms p95=${r.latency_ms.p95}ms ${r.status}`}\n`,
        );
        if (r.note) process.stderr.write(`    ${r.note}\n`);
      }
    } finally {
      stopServer(server);
      await new Promise((r) => setTimeout(r, 1000));
      rmSync(work, { recursive: true, force: true });
    }
    all.push({ name, manifest, results });
  }
  const bundle = bundleSize();
  const report = {
    at: new Date().toISOString(),
    machine: {
      ...machine,
      loadavg_end: loadavg()
        .map((x) => x.toFixed(2))
        .join(' '),
    },
    requests: N,
    warmup: WARMUP,
    rate_limited_retries: rateLimited,
    bundle,
    datasets: all.map(({ name, manifest, results }) => ({
      name,
      total_memories: manifest.total_memories,
      generate_seconds: manifest.seconds,
      db_mib: Math.round(manifest.db_bytes / 2 ** 20),
      results,
    })),
  };
  const stamp = report.at.replace(/[:.]/g, '-');
  writeFileSync(join(benchDir, `results-${stamp}.json`), JSON.stringify(report, null, 2));
  const md = [
    `Run ${report.at} — ${machine.nproc} × ${machine.cpu}, Node ${machine.node}, ${machine.wrangler}, load ${report.machine.loadavg_start} → ${report.machine.loadavg_end}; ${WARMUP} warm-up + ${N} measured sequential requests per endpoint` +
      (rateLimited
        ? ` (${rateLimited} requests got 429 from the rate limit and were resent after Retry-After, unmeasured).`
        : '.'),
    '',
    ...all.map(
      ({ name, manifest, results }) =>
        `${datasetTable(name, manifest, results)}\n\nGenerated in ${manifest.seconds.toFixed(0)} s, ${Math.round(manifest.db_bytes / 2 ** 20)} MiB SQLite.\n`,
    ),
    comparison(all),
    '',
    'error' in bundle
      ? `Bundle: dry-run failed: ${bundle.error}`
      : `Worker bundle (wrangler deploy --dry-run): ${bundle.total_kib} KiB, gzip ${bundle.gzip_kib} KiB.`,
  ].join('\n');
  writeFileSync(join(benchDir, `results-${stamp}.md`), `${md}\n`);
  console.log(md);
}

await main();
