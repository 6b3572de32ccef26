// npm run bench:capacity — bytes per memory in D1, with and without stored embeddings (NOT CI).
// Generates the 10k dataset (bench/generate.ts: the app's own rows, FTS index, audit rows), then
// on copies of its SQLite file fills memories.embedding with a JSON vector per memory (the column
// the API stores `embedding` in) of 384 and 768 dimensions, each value printed like a float32
// (9 decimals), VACUUMs, and divides the file size by the number of memories.
// Needs the sqlite3 CLI, like bench/generate.ts.

import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../scripts/dev-auth.mjs';

const dir = join(root, '.bench', '10k');
execFileSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'bench', 'generate.ts'), '--dataset', '10k'], {
  cwd: root,
  stdio: 'inherit',
});
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const file = readdirSync(dir, { recursive: true })
  .map(String)
  .find((f) => f.endsWith('.sqlite'));
if (!file) throw new Error(`no .sqlite file under ${dir}`);
const sql = (db, statement) => execFileSync('sqlite3', [db, statement], { encoding: 'utf8' }).trim();
const size = (db) => Number(sql(db, 'SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()'));

const rows = [];
for (const dims of [0, 384, 768]) {
  const copy = join(dir, `capacity-${dims}.sqlite`);
  copyFileSync(join(dir, file), copy);
  if (dims > 0) {
    sql(
      copy,
      `UPDATE memories SET embedding = (
         WITH RECURSIVE d(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM d WHERE i < ${dims})
         SELECT json_group_array(round((abs(random()) % 2000000000) / 1000000000.0 - 1, 9)) FROM d
         WHERE memories.id IS NOT NULL -- correlated: a new vector per row
       )`,
    );
  }
  sql(copy, 'VACUUM');
  const bytes = size(copy);
  rows.push({ dims, bytes, perMemory: bytes / manifest.total_memories });
  rmSync(copy);
}
const memoriesIn10GB = (perMemory) => Math.floor(10e9 / perMemory);
console.log(`${manifest.total_memories} memories (${manifest.stats.audit_logs} audit rows, FTS index)`);
for (const r of rows) {
  console.log(
    `embedding ${r.dims ? `${r.dims}-d JSON` : 'none'}: ${(r.bytes / 2 ** 20).toFixed(1)} MiB, ${r.perMemory.toFixed(0)} bytes/memory, ${memoriesIn10GB(r.perMemory).toLocaleString('en')} memories per 10 GB`,
  );
}
