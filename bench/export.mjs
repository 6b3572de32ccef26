// Export benchmark: seeds a tenant with N memories (default 100,000) into a local wrangler dev D1,
// streams GET /v1/export and reports time to first byte, total time, bytes, lines, the D1
// queries the export ran (from the Worker's `export_done` log line) and the workerd process's peak
// resident memory while streaming (an upper bound: the local D1's SQLite pages live in the same
// process). Usage:  node bench/export.mjs [--memories 100000] [--port 8871]
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mintDevToken, root } from '../scripts/dev-auth.mjs';
import { prepareAssets } from '../scripts/prepare-assets.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const N = Number(arg('memories', 100_000));
const port = Number(arg('port', 8871));
const persist = join(root, '.wrangler', 'bench-export');
const wrangler = join(root, 'node_modules', '.bin', 'wrangler');
const run = (args) =>
  execFileSync(wrangler, args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, CI: 'true' },
  });

const TENANT = 'ten_00000000000000000000BENC';
const USER = 'usr_00000000000000000000BENC';
const SUB = 'auth0|memoria-bench-export';

rmSync(persist, { recursive: true, force: true });
prepareAssets();
const token = await mintDevToken({ sub: SUB, ttlSeconds: 3600 }); // also writes .dev.vars (the key wrangler dev trusts)
run(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist]);

// Seed in SQL (one recursive INSERT): ~300-character content, tags, metadata, a 16-number embedding.
const now = Date.now();
const emb = Array.from({ length: 16 }, (_, k) => `round(((i * ${k + 7}) % 1000) / 997.0 - 0.5, 6)`).join(', ');
const seedSql = `
INSERT INTO tenants (id, name, plan, created_at, updated_at) VALUES ('${TENANT}', 'Export bench', 'pro', ${now}, ${now});
INSERT INTO subscriptions (id, tenant_id, plan, status, current_period_start, current_period_end, created_at, updated_at) VALUES ('sub_00000000000000000000BENC', '${TENANT}', 'pro', 'active', ${now}, ${now + 30 * 86400000}, ${now}, ${now});
INSERT INTO users (id, tenant_id, auth0_id, email, role, kind, created_at, updated_at) VALUES ('${USER}', '${TENANT}', '${SUB}', 'bench@example.com', 'owner', 'person', ${now}, ${now});
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${N})
INSERT INTO memories (id, tenant_id, user_id, content, tags, metadata, importance, access_scope, embedding, search_doc, created_at, updated_at, deleted_at)
SELECT 'mem_' || printf('%010d', i) || upper(hex(randomblob(8))), '${TENANT}', '${USER}',
  'Benchmark memory ' || i || ': ' || substr(replace(hex(randomblob(160)), '0', ' '), 1, 280),
  '["bench","t' || (i % 10) || '"]', json_object('i', i, 'group', i % 100), 1 + i % 10, 'private',
  json_array(${emb}), '', ${now} - ${N} + i, ${now} - ${N} + i, CASE WHEN i % 50 = 0 THEN ${now} ELSE NULL END
FROM n;
`;
mkdirSync(persist, { recursive: true });
const seedFile = join(persist, 'seed.sql');
writeFileSync(seedFile, seedSql);
const t = performance.now();
run(['d1', 'execute', 'DB', '--local', '--persist-to', persist, '--file', seedFile]);
console.log(`seeded ${N} memories in ${((performance.now() - t) / 1000).toFixed(1)} s`);

const child = spawn(
  wrangler,
  ['dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', persist, '--show-interactive-dev-session=false'],
  {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: 'true' },
  },
);
let log = '';
child.stdout.on('data', (d) => (log += d));
child.stderr.on('data', (d) => (log += d));
const stop = () => child.kill('SIGTERM');
process.on('exit', stop);

const base = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${base}/health`)).ok) break;
  } catch {}
  if (i > 240) throw new Error(`wrangler dev did not start:\n${log}`);
  await new Promise((r) => setTimeout(r, 500));
}

/** Resident memory (kB) of the processes under our wrangler dev (workerd does the work). */
function descendants(pid) {
  const out = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const kids = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    for (const k of kids) out.push(k, ...descendants(k));
  }
  return out;
}
const rssKb = () =>
  descendants(child.pid).reduce((sum, p) => {
    try {
      const name = readFileSync(`/proc/${p}/comm`, 'utf8').trim();
      if (name !== 'workerd') return sum;
      return sum + Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      return sum;
    }
  }, 0);

async function exportOnce() {
  const before = rssKb();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssKb())), 50);
  const start = performance.now();
  const res = await fetch(`${base}/v1/export`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`export: ${res.status} ${await res.text()}`);
  const ttfb = performance.now() - start;
  let bytes = 0;
  let newlines = 0;
  for await (const chunk of res.body) {
    bytes += chunk.length;
    for (const b of chunk) if (b === 10) newlines++;
  }
  const total = performance.now() - start;
  clearInterval(sampler);
  return { ttfb, total, bytes, lines: newlines, rssBeforeMb: before / 1024, rssPeakMb: Math.max(peak, rssKb()) / 1024 };
}

await exportOnce(); // warm-up (isolate start, SQLite cache)
const r = await exportOnce();
await new Promise((res) => setTimeout(res, 500));
const done = [...log.matchAll(/\{"event":"export_done"[^\n]*\}/g)].map((m) => JSON.parse(m[0])).at(-1);
stop();

const result = {
  memories: N,
  lines: r.lines,
  bytes: r.bytes,
  ttfb_ms: Math.round(r.ttfb),
  total_ms: Math.round(r.total),
  rows_per_s: Math.round((r.lines / r.total) * 1000),
  d1_queries: done?.queries,
  worker_ms: done?.ms,
  workerd_rss_before_mb: Math.round(r.rssBeforeMb),
  workerd_rss_peak_mb: Math.round(r.rssPeakMb),
};
console.log(JSON.stringify(result, null, 2));
process.exit(0);
