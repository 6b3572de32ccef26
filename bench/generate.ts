// Benchmark data generator: N tenants × M memories written straight into the local D1 SQLite file
// that `wrangler dev --persist-to <dir>` serves (1M rows through HTTP would take hours).
//
//   npx tsx bench/generate.ts --dataset 10k   (or 1m, or --tenants N --per-tenant M) [--dir <persist dir>]
//
// Needs the `sqlite3` CLI (Debian: apt-get install sqlite3); CI never runs the benchmark.
//
// Rows are what the app writes: ids from src/lib/ids.ts's ULID scheme, search_doc from searchDoc()
// (src/lib/search-text.ts), memories_fts and tenants.memory_count filled by the migrations'
// triggers (we insert into memories only), a subscription and users per tenant, and one audit row
// per tenant and per memory. One "measured" tenant is identical in every dataset (same ids,
// content and timestamps, from a fixed seed); only the other tenants change.
import { execFileSync, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ulid } from '../src/lib/ids';
import { searchDoc } from '../src/lib/search-text';
import { BENCH, d1File, root } from './common';

const DATASETS: Record<string, { tenants: number; perTenant: number; measured?: number; subjects?: number }> = {
  // The measured tenant's 1,000 memories plus the others: 10,000 and 1,000,000 in total.
  '10k': { tenants: 18, perTenant: 500 },
  '1m': { tenants: 1_998, perTenant: 500 },
  // One big tenant whose memories are spread over end users (subject_id), 100 per subject.
  'subjects-100k': { tenants: 0, perTenant: 0, measured: 100_000, subjects: 1_000 },
  'subjects-1m': { tenants: 0, perTenant: 0, measured: 1_000_000, subjects: 10_000 },
};

const { values: args } = parseArgs({
  options: {
    dataset: { type: 'string' },
    tenants: { type: 'string' },
    'per-tenant': { type: 'string' },
    dir: { type: 'string' },
    audit: { type: 'boolean', default: true },
    measured: { type: 'string' },
    subjects: { type: 'string' },
  },
});
const preset = args.dataset ? DATASETS[args.dataset] : undefined;
if (args.dataset && !preset) throw new Error(`unknown --dataset ${args.dataset} (${Object.keys(DATASETS).join(', ')})`);
const OTHER_TENANTS = Number(args.tenants ?? preset?.tenants ?? 18);
const PER_TENANT = Number(args['per-tenant'] ?? preset?.perTenant ?? 500);
/** The measured tenant's memories, and over how many subjects they are spread (0: no subject_id). */
const MEASURED = Number(args.measured ?? preset?.measured ?? BENCH.measuredMemories);
const SUBJECTS = Number(args.subjects ?? preset?.subjects ?? 0);
const name = args.dataset ?? `${OTHER_TENANTS}x${PER_TENANT}`;
const dir = args.dir ?? join(root, '.bench', name);

// ---------- deterministic randomness ----------
/** mulberry32: a small seeded PRNG, so the measured tenant is byte-identical across datasets. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** A ULID from src/lib/ids.ts's scheme with the random part drawn from `r` (reproducible ids). */
const seededId = (prefix: string, ms: number, r: Rand) => {
  let rand = '';
  for (let i = 0; i < 16; i++) rand += CROCKFORD[Math.floor(r() * 32)];
  return `${prefix}_${ulid(ms).slice(0, 10)}${rand}`;
};
const randomId = (prefix: string, ms: number) => `${prefix}_${ulid(ms)}`;

// ---------- text ----------
// Words every tenant uses (Zipf-weighted), a long tail of synthetic words, and the two search
// probes: COMMON appears in ~30% of memories, RARE in ~0.3% (so ~3 of the measured tenant's).
const COMMON_WORDS = (
  'user prefers likes wants needs uses asked said mentioned project team customer order invoice ' +
  'report deadline budget release feature bug fix deploy server database email call week month ' +
  'today tomorrow morning afternoon evening friday monday coffee lunch travel flight hotel berlin ' +
  'london paris tokyo design review plan roadmap quarter goal note follow up account password ' +
  'reminder birthday family dog cat book music running yoga diet vegetarian allergy doctor ' +
  'dentist school kids garden car insurance bank tax contract lawyer office remote hybrid ' +
  'laptop phone slack calendar notion github python typescript rust kubernetes cloud api ' +
  'dashboard metrics onboarding support ticket refund pricing discount subscription trial ' +
  'renewal feedback survey interview candidate hiring salary vacation holiday weekend the a ' +
  'and of to in for on with at from by about after before during new old important urgent'
).split(' ');
const COMMON = 'meeting';
const RARE = 'zanzibar';
const SYLLABLES = 'ka lo mi re tu san vel dor pin qua shi bre nox fal gur hep ist jor kel mun'.split(' ');
const TAIL_WORDS = Array.from({ length: 20_000 }, (_, i) => {
  const r = rng(1000 + i);
  return Array.from({ length: int(r, 2, 4) }, () => pick(r, SYLLABLES)).join('') + (i % 10);
});
const TAGS =
  'work personal preference health travel finance family project meeting todo idea food music sport learning'.split(
    ' ',
  );
const SOURCES = ['chat', 'import', 'api', 'mcp', null] as const;
// Zipf over COMMON_WORDS: rank k has weight 1/(k+1).
const zipfCdf = (() => {
  const w = COMMON_WORDS.map((_, k) => 1 / (k + 1));
  const total = w.reduce((s, x) => s + x, 0);
  let acc = 0;
  return w.map((x) => (acc += x / total));
})();
function zipfWord(r: Rand): string {
  const u = r();
  let lo = 0;
  let hi = zipfCdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (zipfCdf[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return COMMON_WORDS[lo]!;
}
function content(r: Rand): string {
  const words: string[] = [];
  const n = int(r, 8, 40);
  for (let i = 0; i < n; i++) words.push(r() < 0.85 ? zipfWord(r) : pick(r, TAIL_WORDS));
  if (r() < 0.3) words.splice(int(r, 0, words.length), 0, COMMON);
  if (r() < 0.003) words.splice(int(r, 0, words.length), 0, RARE);
  const text = words.join(' ');
  return `${text[0]!.toUpperCase() + text.slice(1)}.`;
}

// ---------- rows ----------
const q = (v: string | number | null) =>
  v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${v.replace(/'/g, "''")}'`;
const BASE = Date.UTC(2025, 10, 1); // memories span one year from here
const SPAN = 365 * 24 * 3600 * 1000;

interface Tenant {
  id: string;
  plan: 'free' | 'team';
  users: { id: string; sub: string; role: 'owner' | 'member' }[];
  created: number;
}
function tenant(r: Rand | null, label: string, plan: Tenant['plan'], created: number): Tenant {
  const id = (p: string) => (r ? seededId(p, created, r) : randomId(p, created));
  return {
    id: id('ten'),
    plan,
    created,
    users: [
      { id: id('usr'), sub: `auth0|bench-${label}-owner`, role: 'owner' },
      { id: id('usr'), sub: `auth0|bench-${label}-member`, role: 'member' },
    ],
  };
}
function tenantSql(t: Tenant, label: string, r: Rand | null): string {
  const c = t.created;
  const sub = r ? seededId('sub', c, r) : randomId('sub', c);
  const aud = r ? seededId('aud', c, r) : randomId('aud', c);
  const owner = t.users[0]!;
  return [
    `INSERT INTO tenants (id, name, plan, created_at, updated_at) VALUES (${q(t.id)}, ${q(`Bench ${label}`)}, ${q(t.plan)}, ${c}, ${c});`,
    `INSERT INTO subscriptions (id, tenant_id, plan, status, current_period_start, current_period_end, created_at, updated_at) VALUES (${q(sub)}, ${q(t.id)}, ${q(t.plan)}, 'active', ${c}, ${BASE + 2 * SPAN}, ${c}, ${c});`,
    ...t.users.map(
      (u) =>
        `INSERT INTO users (id, tenant_id, auth0_id, email, name, role, kind, created_at, updated_at) VALUES (${q(u.id)}, ${q(t.id)}, ${q(u.sub)}, ${q(`${u.role}@${label}.bench.local`)}, ${q(`${label} ${u.role}`)}, ${q(u.role)}, 'person', ${c}, ${c});`,
    ),
    `INSERT INTO audit_logs (id, tenant_id, user_id, action, resource_type, resource_id, old_values, new_values, ip, user_agent, request_id, created_at) VALUES (${q(aud)}, ${q(t.id)}, ${q(owner.id)}, 'tenant.create', 'tenant', ${q(t.id)}, NULL, ${q(JSON.stringify({ name: `Bench ${label}`, plan: t.plan, owner: owner.id }))}, '127.0.0.1', 'bench-generate', ${q(`req_${ulid(c)}`)}, ${c});`,
  ].join('\n');
}

const MEMORY_COLS =
  'id, tenant_id, user_id, session_id, content, tags, metadata, importance, access_scope, source, subject_id, embedding, search_doc, version, created_at, updated_at, deleted_at';
/** The k-th measured memory's end user: round-robin over SUBJECTS. */
const subjectOf = (k: number) => (SUBJECTS > 0 ? `subject-${k % SUBJECTS}` : null);
const AUDIT_COLS =
  'id, tenant_id, user_id, action, resource_type, resource_id, old_values, new_values, ip, user_agent, request_id, created_at';

/** One memory (and its create audit row) as SQL value tuples. */
function memoryRows(t: Tenant, r: Rand, createdAt: number, seeded: boolean, n: number, subject: string | null = null) {
  const author = r() < 0.8 ? t.users[0]! : t.users[1]!;
  const text = content(r);
  const tags = [...new Set(Array.from({ length: int(r, 0, 3) }, () => pick(r, TAGS)))];
  const metadata = { source_app: pick(r, ['crm', 'chat', 'notes']), turn: int(r, 1, 50) };
  const importance = int(r, 1, 10);
  const scope = r() < 0.7 ? 'private' : 'global';
  const source = pick(r, SOURCES);
  // ~2% soft-deleted (the triggers keep them out of memories_fts and memory_count).
  const deletedAt = r() < 0.02 ? createdAt + int(r, 1, 86_400_000) : null;
  const id = seeded ? seededId('mem', createdAt, r) : randomId('mem', createdAt);
  const memory = `(${[
    q(id),
    q(t.id),
    q(author.id),
    'NULL',
    q(text),
    q(JSON.stringify(tags)),
    q(JSON.stringify(metadata)),
    importance,
    q(scope),
    q(source),
    q(subject),
    'NULL',
    q(searchDoc(t.id, text, tags)),
    1,
    createdAt,
    createdAt,
    deletedAt ?? 'NULL',
  ].join(', ')})`;
  const auditId = seeded ? seededId('aud', createdAt, r) : randomId('aud', createdAt);
  // The shape src/db/memories.ts auditValuesOf() writes for memory.create.
  const snapshot = {
    content: text,
    tags,
    metadata,
    importance,
    access_scope: scope,
    source,
    session_id: null,
    embedding_dimensions: null,
  };
  const audit = `(${[
    q(auditId),
    q(t.id),
    q(author.id),
    "'memory.create'",
    "'memory'",
    q(id),
    'NULL',
    q(JSON.stringify(snapshot)),
    "'127.0.0.1'",
    "'bench-generate'",
    q(`req_${ulid(createdAt).slice(0, 10)}${String(n).padStart(16, '0')}`),
    createdAt,
  ].join(', ')})`;
  // What the tenant's owner can see: live, and their own or global.
  const ownerSees = deletedAt === null && (author === t.users[0] || scope === 'global');
  return { memory, audit, id, ownerSees };
}

// ---------- run ----------
function requireSqlite() {
  try {
    execFileSync('sqlite3', ['--version'], { stdio: 'pipe' });
  } catch {
    console.error('bench/generate.ts needs the sqlite3 CLI (Debian/Ubuntu: apt-get install -y sqlite3).');
    process.exit(1);
  }
}

function progress(done: number, total: number, started: number) {
  const s = (Date.now() - started) / 1000;
  const rate = done / Math.max(s, 0.001);
  const width = 30;
  const filled = Math.round((done / total) * width);
  const eta = rate > 0 ? (total - done) / rate : 0;
  process.stderr.write(
    `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${((done / total) * 100).toFixed(1).padStart(5)}% ` +
      `${done.toLocaleString('en')}/${total.toLocaleString('en')} memories  ${Math.round(rate).toLocaleString('en')}/s  ` +
      `elapsed ${s.toFixed(0)}s  eta ${eta.toFixed(0)}s   `,
  );
}

async function main() {
  requireSqlite();
  const started = Date.now();
  rmSync(dir, { recursive: true, force: true });
  execFileSync(
    join(root, 'node_modules', '.bin', 'wrangler'),
    ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', dir],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, CI: 'true' },
    },
  );
  const file = d1File(dir);

  const sqlite = spawn('sqlite3', ['-bail', file], { stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = new Promise<number>((resolve) => sqlite.on('exit', (code) => resolve(code ?? 1)));
  const write = async (sql: string) => {
    if (!sqlite.stdin.write(`${sql}\n`)) await new Promise((resolve) => sqlite.stdin.once('drain', resolve));
  };
  // D1 enforces foreign keys; so do we, so a wrong reference fails here rather than in a request.
  await write('PRAGMA foreign_keys = ON; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144; BEGIN;');

  // The measured tenant: same seed, ids, content and timestamps in every dataset.
  const mr = rng(42);
  const measured = tenant(mr, 'measured', 'team', BASE - 86_400_000);
  await write(tenantSql(measured, 'measured', mr));
  const others: Tenant[] = [];
  const or = rng(7);
  for (let i = 0; i < OTHER_TENANTS; i++) {
    const t = tenant(null, `t${i}`, 'free', BASE - 86_400_000 + i);
    others.push(t);
    await write(tenantSql(t, `t${i}`, null));
  }

  // Interleave: the measured tenant's k-th memory lands at position k·total/M, the others round-robin.
  const total = MEASURED + OTHER_TENANTS * PER_TENANT;
  const memBuf: string[] = [];
  const audBuf: string[] = [];
  const measuredIds: string[] = [];
  const visibleIds: string[] = [];
  const flush = async () => {
    if (memBuf.length) await write(`INSERT INTO memories (${MEMORY_COLS}) VALUES\n${memBuf.join(',\n')};`);
    if (audBuf.length && args.audit)
      await write(`INSERT INTO audit_logs (${AUDIT_COLS}) VALUES\n${audBuf.join(',\n')};`);
    memBuf.length = 0;
    audBuf.length = 0;
  };
  let k = 0;
  let other = 0;
  for (let i = 0; i < total; i++) {
    let row: ReturnType<typeof memoryRows>;
    if (k < MEASURED && i >= Math.floor((k * total) / MEASURED)) {
      row = memoryRows(measured, mr, BASE + Math.floor((k * SPAN) / MEASURED), true, i, subjectOf(k));
      measuredIds.push(row.id);
      if (row.ownerSees) visibleIds.push(row.id);
      k++;
    } else {
      const t = others[other % OTHER_TENANTS]!;
      row = memoryRows(t, or, BASE + Math.floor((i * SPAN) / total), false, i);
      other++;
    }
    memBuf.push(row.memory);
    audBuf.push(row.audit);
    if (memBuf.length === 200) await flush();
    if (i % 5000 === 0) progress(i, total, started);
  }
  await flush();
  await write('COMMIT; PRAGMA wal_checkpoint(TRUNCATE);');
  sqlite.stdin.end();
  const code = await exited;
  progress(total, total, started);
  process.stderr.write('\n');
  if (code !== 0) throw new Error(`sqlite3 exited with ${code}`);

  // Consistency: the triggers filled the FTS index and the live counters.
  const check = (sql: string) => execFileSync('sqlite3', [file, sql], { encoding: 'utf8' }).trim();
  const stats = {
    memories: Number(check('SELECT count(*) FROM memories')),
    live: Number(check('SELECT count(*) FROM memories WHERE deleted_at IS NULL')),
    fts_docs: Number(check('SELECT count(*) FROM memories_fts_docsize')),
    memory_count_sum: Number(check('SELECT sum(memory_count) FROM tenants')),
    tenants: Number(check('SELECT count(*) FROM tenants')),
    users: Number(check('SELECT count(*) FROM users')),
    audit_logs: Number(check('SELECT count(*) FROM audit_logs')),
    measured_live: Number(
      check(`SELECT count(*) FROM memories WHERE tenant_id = ${q(measured.id)} AND deleted_at IS NULL`),
    ),
  };
  if (stats.memories !== total || stats.fts_docs !== stats.live || stats.memory_count_sum !== stats.live) {
    throw new Error(`inconsistent dataset: ${JSON.stringify(stats)}`);
  }
  const seconds = (Date.now() - started) / 1000;
  const bytes = Number(check('SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()'));
  const manifest = {
    dataset: name,
    generated_at: new Date().toISOString(),
    seconds,
    db_bytes: bytes,
    other_tenants: OTHER_TENANTS,
    per_tenant: PER_TENANT,
    total_memories: total,
    stats,
    measured: {
      tenant_id: measured.id,
      owner_sub: measured.users[0]!.sub,
      member_sub: measured.users[1]!.sub,
      memory_ids: measuredIds,
      visible_ids: visibleIds,
      common_word: COMMON,
      rare_word: RARE,
      subjects: SUBJECTS,
      probe_subject: subjectOf(0),
    },
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  console.error(
    `${name}: ${total.toLocaleString('en')} memories, ${(bytes / 2 ** 20).toFixed(0)} MiB, ${seconds.toFixed(1)} s → ${dir}`,
  );
  console.error(JSON.stringify(stats));
}

await main();
