// Keyword search cost on a big tenant: rows read for a word in 30% of its memories, a rare word,
// and a question mixing both, at growing tenant sizes (the candidate window keeps them bounded).
//
//   npx tsx bench/keyword.ts [--sizes 10000,100000] [--queries 10]
//
// Runs the real statement (db/memories.ts searchMemoriesStatement, 20 hits) against wrangler's
// local D1 (getPlatformProxy over a database migrated by `wrangler d1 migrations apply --local`).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getPlatformProxy } from 'wrangler';
import { searchMemoriesStatement } from '../src/db/memories';
import { newId } from '../src/lib/ids';
import { plainKeywordQuery, searchDoc } from '../src/lib/search-text';
import { root } from './common';

const { values: args } = parseArgs({
  options: { sizes: { type: 'string', default: '10000,100000' }, queries: { type: 'string', default: '10' } },
});
const sizes = args.sizes.split(',').map(Number);
const QUERIES = Number(args.queries);

const dir = mkdtempSync(join(tmpdir(), 'memoria-keyword-'));
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
const tenantId = newId('ten', now);
const sub = 'auth0|bench-keyword';
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
let stored = 0;
async function fillTo(n: number) {
  while (stored < n) {
    const chunk = Array.from({ length: Math.min(500, n - stored) }, (_, k) => {
      const i = stored + k;
      const words = [...FILLER.slice(i % 5, (i % 5) + 8), `item${i}`];
      if (i % 10 < 3) words.push('customer'); // 30% of memories
      if (i % 5000 === 17) words.push('zeppelin'); // rare
      const content = words.join(' ');
      return { id: newId('mem'), c: content, d: searchDoc(tenantId, content) };
    });
    await db
      .prepare(
        `INSERT INTO memories (id, tenant_id, content, access_scope, search_doc, created_at, updated_at)
         SELECT json_extract(j.value, '$.id'), ?1, json_extract(j.value, '$.c'), 'global', json_extract(j.value, '$.d'), ?2, ?2
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
  for (const q of ['customer', 'zeppelin', 'what does the customer say about the zeppelin?']) {
    const query = plainKeywordQuery(tenantId, q)!;
    const ms: number[] = [];
    let rowsRead = 0;
    let hits = 0;
    for (let i = 0; i < QUERIES + 1; i++) {
      const t0 = performance.now();
      const res = await searchMemoriesStatement(db, sub, {}, { tenantId, query, limit: 20 }).all();
      if (i === 0) continue;
      ms.push(performance.now() - t0);
      rowsRead = res.meta.rows_read;
      hits = res.results.length;
    }
    lines.push(
      `| ${size.toLocaleString('en')} | ${q} | ${hits} | ${rowsRead.toLocaleString('en')} | ${pct(ms, 0.5).toFixed(0)} |`,
    );
    console.error(lines.at(-1));
  }
}
await proxy.dispose();
rmSync(dir, { recursive: true, force: true });
console.log('| memories in the tenant | query | hits (limit 20, +1) | rows read | p50 ms |');
console.log('|---|---|---|---|---|');
for (const l of lines) console.log(l);
