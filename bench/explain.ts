// Query plans of the app's own statements on a generated dataset, as workerd's SQLite sees them:
//
//   npx tsx bench/explain.ts [--dataset 1m] [--sql]   (--sql: print each statement in full)
//
// Builds each hot endpoint's statements with the real repository functions (src/db/*.ts) for the
// measured tenant's owner, inlines the bound parameters, and runs EXPLAIN QUERY PLAN (nothing is
// executed) through `wrangler d1 execute --local`. A plan line "SCAN m" (no index) on memories is
// the sign of a statement whose cost grows with every tenant's data.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { listAuditLogsStatement } from '../src/db/audit';
import {
  getMemoryStatement,
  listMemoriesStatement,
  patchMemoryStatements,
  searchMemoriesStatement,
  softDeleteStatements,
} from '../src/db/memories';
import { contentPart, plainKeywordQuery } from '../src/lib/search-text';
import { root } from './common';

const { values: args } = parseArgs({
  options: { dataset: { type: 'string', default: '1m' }, sql: { type: 'boolean', default: false } },
});
const dir = join(root, '.bench', args.dataset!);
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const { owner_sub: sub, tenant_id: tenantId, visible_ids: ids, common_word: common } = manifest.measured;

/** A stand-in D1 that only records what would be sent. */
interface Captured {
  sql: string;
  params: unknown[];
}
const capture = {
  prepare: (sql: string) => {
    const s: Captured & { bind: (...p: unknown[]) => Captured } = {
      sql,
      params: [],
      bind: (...p: unknown[]) => {
        s.params = p;
        return s;
      },
    };
    return s;
  },
} as unknown as D1Database;

const literal = (v: unknown) =>
  v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${String(v).replace(/'/g, "''")}'`;
/** Inlines ?N (highest first, so ?12 is not read as ?1 followed by 2). */
const inline = ({ sql, params }: Captured) =>
  params.reduceRight<string>((text, v, i) => text.replaceAll(`?${i + 1}`, literal(v)), sql);

function plan(sql: string): string[] {
  const out = execFileSync(
    join(root, 'node_modules', '.bin', 'wrangler'),
    ['d1', 'execute', 'DB', '--local', '--persist-to', dir, '--json', '--command', `EXPLAIN QUERY PLAN ${sql}`],
    {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const [first] = JSON.parse(out.slice(out.indexOf('['))) as { results: { detail: string }[] }[];
  return first!.results.map((r) => r.detail);
}

const w = {
  sub,
  tenantId,
  now: Date.now(),
  meta: { requestId: 'req_explain', ip: null, userAgent: null },
  idempotency: null,
};
const cases: [string, D1PreparedStatement][] = [
  ['get', getMemoryStatement(capture, sub, ids[0], {})],
  ['list', listMemoriesStatement(capture, sub, {}, { order: 'desc', limit: 20 })],
  ['list, tag filter', listMemoriesStatement(capture, sub, { tag: ['work'] }, { order: 'desc', limit: 20 })],
  [
    'search',
    searchMemoriesStatement(capture, sub, {}, { tenantId, query: plainKeywordQuery(tenantId, common)!, limit: 20 }),
  ],
  ...patchMemoryStatements(
    capture,
    { id: ids[0] },
    w,
    { content: 'x' },
    { contentPart: contentPart(tenantId, 'x') },
  ).map((s, i) => [`patch #${i + 1}`, s] as [string, D1PreparedStatement]),
  ...softDeleteStatements(capture, { id: ids[0] }, w).map(
    (s, i) => [`delete #${i + 1}`, s] as [string, D1PreparedStatement],
  ),
  ['audit-logs list', listAuditLogsStatement(capture, sub, {}, 20)],
];
// subjects-* datasets: the subject filters must walk the subject's index, never the tenant's rows.
const subject = manifest.measured.probe_subject as string | undefined;
if (subject)
  cases.push(
    ['list, one subject', listMemoriesStatement(capture, sub, { subject_id: [subject] }, { order: 'desc', limit: 20 })],
    [
      'list, two subjects',
      listMemoriesStatement(capture, sub, { subject_id: [subject, 'subject-1'] }, { order: 'desc', limit: 20 }),
    ],
    [
      'search, one subject',
      searchMemoriesStatement(
        capture,
        sub,
        { subject_id: [subject] },
        { tenantId, query: plainKeywordQuery(tenantId, common)!, limit: 20 },
      ),
    ],
  );
for (const [name, stmt] of cases) {
  const sql = inline(stmt as unknown as Captured);
  // Without --sql: the statement after the caller CTE, shortened.
  const oneLine = sql.replace(/\s+/g, ' ');
  const body = oneLine.slice(oneLine.indexOf('deleted_at IS NULL) ') + 20);
  console.log(`\n## ${name}\n${args.sql ? oneLine : body.length > 300 ? `${body.slice(0, 300)} …` : body}`);
  for (const line of plan(sql)) console.log(`  ${line}`);
}
