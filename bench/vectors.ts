// Semantic search with the embedded d1 engine: ms and rows per query at 1k, 10k and 50k vectors
// of 384 dimensions in one tenant (sets D1_VECTOR_MAX in src/lib/limits.ts).
//
//   npx tsx bench/vectors.ts [--sizes 1000,10000,50000] [--dims 384] [--queries 20]
//
// Runs the real statement (db/memories.ts vectorScanStatement) against wrangler's local D1
// (getPlatformProxy over a database migrated by `wrangler d1 migrations apply --local`), and the
// real ranking (lib/vectors.ts nearest) in Node's V8, as the Worker would. Not measured here: the
// HTTP hop and JSON of the response (the same as for any search of top_k hits).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getPlatformProxy } from 'wrangler';
import { vectorScanStatement } from '../src/db/memories';
import { newId } from '../src/lib/ids';
import { nearest, toFloat32Hex } from '../src/lib/vectors';
import { root } from './common';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,50000' },
    dims: { type: 'string', default: '384' },
    queries: { type: 'string', default: '20' },
  },
});
const sizes = args.sizes.split(',').map(Number);
const DIMS = Number(args.dims);
const QUERIES = Number(args.queries);

const dir = mkdtempSync(join(tmpdir(), 'memoria-vectors-'));
const wrangler = join(root, 'node_modules', '.bin', 'wrangler');
execFileSync(wrangler, ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', dir], {
  cwd: root,
  stdio: 'ignore',
  env: { ...process.env, CI: '1' },
});
const proxy = await getPlatformProxy<{ DB: D1Database }>({
  configPath: join(root, 'wrangler.toml'),
  persist: { path: join(dir, 'v3') },
});
const db = proxy.env.DB;

const now = Date.now();
const tenantId = newId('ten', now);
const sub = 'auth0|bench-vectors';
await db.batch([
  db
    .prepare(
      "INSERT INTO tenants (id, name, plan, embedding_dimensions, created_at, updated_at) VALUES (?1, 'bench', 'team', ?2, ?3, ?3)",
    )
    .bind(tenantId, DIMS, now),
  db
    .prepare(
      "INSERT INTO users (id, tenant_id, auth0_id, email, role, created_at, updated_at) VALUES (?1, ?2, ?3, 'bench@example.com', 'owner', ?4, ?4)",
    )
    .bind(newId('usr', now), tenantId, sub, now),
]);

const random = () => Array.from({ length: DIMS }, () => Math.random() * 2 - 1);
let stored = 0;
async function fillTo(n: number) {
  while (stored < n) {
    const chunk = Array.from({ length: Math.min(250, n - stored) }, () => ({
      id: newId('mem'),
      v: toFloat32Hex(random()),
    }));
    await db
      .prepare(
        `INSERT INTO memories (id, tenant_id, content, access_scope, vector, embedding_status, search_doc, created_at, updated_at)
         SELECT json_extract(j.value, '$.id'), ?1, 'bench memory', 'global', unhex(json_extract(j.value, '$.v')), 'current', '', ?2, ?2
         FROM json_each(?3) j`,
      )
      .bind(tenantId, now, JSON.stringify(chunk))
      .run();
    stored += chunk.length;
  }
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const rows: string[] = [];
for (const size of sizes) {
  await fillTo(size);
  const scan: number[] = [];
  const rank: number[] = [];
  let rowsRead = 0;
  let bytes = 0;
  for (let q = 0; q < QUERIES + 2; q++) {
    const t0 = performance.now();
    const res = await vectorScanStatement(db, sub, {}).all<{ seq: number; v: string }>();
    const t1 = performance.now();
    nearest(random(), res.results, 10);
    const t2 = performance.now();
    if (q < 2) continue; // warm-up
    scan.push(t1 - t0);
    rank.push(t2 - t1);
    rowsRead = res.meta.rows_read;
    bytes = res.results.reduce((s, r) => s + r.v.length, 0);
  }
  const total = scan.map((s, i) => s + rank[i]!);
  rows.push(
    `| ${size.toLocaleString('en')} | ${rowsRead.toLocaleString('en')} | ${(bytes / 1e6).toFixed(1)} MB | ${pct(scan, 0.5).toFixed(0)} | ${pct(rank, 0.5).toFixed(0)} | ${pct(total, 0.5).toFixed(0)} | ${pct(total, 0.95).toFixed(0)} |`,
  );
  console.error(rows.at(-1));
}
await proxy.dispose();
rmSync(dir, { recursive: true, force: true });
console.log(`${DIMS} dimensions, top 10, ${QUERIES} queries per size (after 2 warm-up)\n`);
console.log('| vectors | rows read | hex read | D1 scan p50 ms | rank p50 ms | total p50 ms | total p95 ms |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
