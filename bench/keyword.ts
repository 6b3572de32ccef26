// Keyword search cost on a big tenant: rows read for a word in 30% of its memories, a rare word,
// and a question mixing both, at growing tenant sizes (the candidate window keeps them bounded);
// and the same word filtered by one subject (end user): the first 100 memories belong to
// `subject-probe`, every later one to one of 10,000 subjects (`subject-<i mod 10000>`; `subject-100` is one of them).
//
//   npx tsx bench/keyword.ts [--sizes 10000,100000] [--queries 10] [--keep <dir>]
//
// --keep <dir>: seed into <dir> and leave it there; a later run with the same --keep reuses the
// rows already stored (seeding 1M memories takes minutes).

// Runs the real statement (db/memories.ts searchMemoriesStatement, 20 hits) against wrangler's
// local D1 (getPlatformProxy over a database migrated by `wrangler d1 migrations apply --local`).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getPlatformProxy } from 'wrangler';
import { type MemoryFilters, searchMemoriesStatement } from '../src/db/memories';
import { newId } from '../src/lib/ids';
import { plainKeywordQuery, searchDoc } from '../src/lib/search-text';
import { root } from './common';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    queries: { type: 'string', default: '10' },
    keep: { type: 'string' },
  },
});
const sizes = args.sizes.split(',').map(Number);
const QUERIES = Number(args.queries);

const reuse = args.keep !== undefined && existsSync(join(args.keep, 'v3'));
const dir = args.keep ?? mkdtempSync(join(tmpdir(), 'memoria-keyword-'));
mkdirSync(dir, { recursive: true });
execFileSync(
  join(root, 'node_modules', '.bin', 'wrangler'),
  ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', dir],
  {
    cwd: root,
    stdio: 'ignore',
    env: { ...process.env, CI: '1' },
  },
);
const proxy = await getPlatformProxy<{ DB: D1Database }>({
  configPath: join(root, 'wrangler.toml'),
  persist: { path: join(dir, 'v3') },
});
const db = proxy.env.DB;
const now = Date.now();
const sub = 'auth0|bench-keyword';
const existing = await db
  .prepare('SELECT t.id, t.memory_count FROM tenants t JOIN users u ON u.tenant_id = t.id WHERE u.auth0_id = ?1')
  .bind(sub)
  .first<{ id: string; memory_count: number }>();
const tenantId = existing?.id ?? newId('ten', now);
if (!existing)
  await db.batch([
    db
      .prepare("INSERT INTO tenants (id, name, plan, created_at, updated_at) VALUES (?1, 'bench', 'team', ?2, ?2)")
      .bind(tenantId, now),
    db
      .prepare(
        "INSERT INTO users (id, tenant_id, auth0_id, email, role, created_at, updated_at) VALUES (?1, ?2, ?3, 'bench@example.com', 'owner', ?4, ?4)",
      )
      .bind(newId('usr', now), tenantId, sub, now),
  ]);

const FILLER = 'note about the weekly planning meeting with several follow up items and owners'.split(' ');
let stored = reuse ? (existing?.memory_count ?? 0) : 0;
async function fillTo(n: number) {
  while (stored < n) {
    const chunk = Array.from({ length: Math.min(500, n - stored) }, (_, k) => {
      const i = stored + k;
      const words = [...FILLER.slice(i % 5, (i % 5) + 8), `item${i}`];
      if (i % 10 < 3) words.push('customer'); // 30% of memories
      if (i % 5000 === 17) words.push('zeppelin'); // rare
      const content = words.join(' ');
      const s = i < 100 ? 'subject-probe' : `subject-${i % 10_000}`;
      return { id: newId('mem'), c: content, d: searchDoc(tenantId, content), s };
    });
    await db
      .prepare(
        `INSERT INTO memories (id, tenant_id, content, access_scope, search_doc, subject_id, created_at, updated_at)
         SELECT json_extract(j.value, '$.id'), ?1, json_extract(j.value, '$.c'), 'global', json_extract(j.value, '$.d'),
                json_extract(j.value, '$.s'), ?2, ?2
         FROM json_each(?3) j`,
      )
      .bind(tenantId, now, JSON.stringify(chunk))
      .run();
    stored += chunk.length;
  }
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const lines: string[] = [];
for (const size of sizes) {
  await fillTo(size);
  const cases: [label: string, q: string, f: MemoryFilters][] = [
    ['', 'customer', {}],
    ['', 'zeppelin', {}],
    ['', 'what does the customer say about the zeppelin?', {}],
    ['subject-probe (100 memories)', 'customer', { subject_id: ['subject-probe'] }],
    [`subject-100 (${Math.floor((size - 101) / 10_000) + 1} memories)`, 'customer', { subject_id: ['subject-100'] }],
  ];
  for (const [label, q, f] of cases) {
    const query = plainKeywordQuery(tenantId, q)!;
    const ms: number[] = [];
    let rowsRead = 0;
    let hits = 0;
    for (let i = 0; i < QUERIES + 1; i++) {
      const t0 = performance.now();
      const res = await searchMemoriesStatement(db, sub, f, { tenantId, query, limit: 20 }).all();
      if (i === 0) continue;
      ms.push(performance.now() - t0);
      rowsRead = res.meta.rows_read;
      hits = res.results.length;
    }
    lines.push(
      `| ${size.toLocaleString('en')} | ${label || 'none'} | ${q} | ${hits} | ${rowsRead.toLocaleString('en')} | ${pct(ms, 0.5).toFixed(0)} |`,
    );
    console.error(lines.at(-1));
  }
}
await proxy.dispose();
if (args.keep === undefined) rmSync(dir, { recursive: true, force: true });
console.log('| memories in the tenant | subject filter | query | hits (limit 20, +1) | rows read | p50 ms |');
console.log('|---|---|---|---|---|---|');
for (const l of lines) console.log(l);
