// Recall-quality benchmark: recall@10 and nDCG@10 of every search mode on a labelled set.
//
//   npm run bench:recall                       # start a local Worker, print the table
//   npm run bench:recall -- --write            # … and put it into bench/RESULTS.md
//   npm run bench:recall -- --details          # … and one line per question
//
// Starts the real Worker (`wrangler dev` on a fresh local D1, test/e2e/harness.ts), provisions a
// tenant, sets its embedding configuration to the committed vectors' 100 dimensions, stores the
// memories of memories.ts with their vectors (vectors.json, see embed.ts), then asks every
// question of questions.ts in each mode, one request at a time. A mode the server does not have
// (404/405/422 on its first question) is reported as not available, so the same harness runs
// before and after the search API grows.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { root, startWorker } from '../../test/e2e/harness';
import { memories } from './memories';
import { mean, ndcgAt, recallAt } from './metrics';
import { questions, type RecallQuestion } from './questions';
import { cosineRanking, reciprocalRankFusion } from './rank';
import { loadVectors } from './vectors';

const K = 10;
const { values: args } = parseArgs({
  options: {
    write: { type: 'boolean', default: false },
    details: { type: 'boolean', default: false },
    /** Where the server's code came from, for the report (default: git HEAD of this checkout). */
    source: { type: 'string' },
  },
});

const vectors = loadVectors();

interface Mode {
  name: string;
  /** What the row measures, for the report. */
  what: string;
  /** The ranked memory ids (dataset ids), or the status of a response that says the mode is missing. */
  ask(q: RecallQuestion): Promise<string[] | { unavailable: string }>;
}

interface Outcome {
  mode: Mode;
  unavailable?: string;
  perQuestion: { id: string; recall: number; ndcg: number; firstRelevant: number | null; ranked: string[] }[];
}

async function main() {
  const worker = await startWorker();
  try {
    const token = await worker.token(`auth0|recall-bench-${randomUUID()}`);
    const notes: string[] = [];
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${worker.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    };
    const must = async (method: string, path: string, body?: unknown) => {
      const r = await call(method, path, body);
      if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(r.json)}`);
      return r.json;
    };
    const problem = (r: { status: number; json: Record<string, unknown> }) =>
      `${r.status} ${String(r.json.detail ?? r.json.title ?? '').slice(0, 160)}`;

    await must('POST', '/v1/tenants', { name: 'Recall Bench', email: 'owner@recall.bench' });
    // The team plan, so the free plan's 120 requests/minute never throttles the run.
    await must('PUT', '/v1/subscription', { plan: 'team' });
    const config = await call('PATCH', '/v1/tenant', {
      embedding: { dimensions: vectors.dimensions, model: vectors.model },
    });
    notes.push(
      config.status < 300
        ? `tenant embedding configuration set (${vectors.dimensions} dimensions, ${vectors.model})`
        : `\`PATCH /v1/tenant {embedding}\` → ${problem(config)}`,
    );

    // Store the memories (100 per batch; `data` comes back in request order) and map ids.
    const serverToDataset = new Map<string, string>();
    let withVectors = true;
    for (let i = 0; i < memories.length; i += 100) {
      const chunk = memories.slice(i, i + 100);
      const items = (vec: boolean) =>
        chunk.map((m) => ({ content: m.content, ...(vec ? { embedding: vectors.memories[m.id] } : {}) }));
      let r = await call('POST', '/v1/memories/batch', { memories: items(withVectors) });
      if (r.status === 422 && withVectors) {
        notes.push(`memories stored WITHOUT vectors: the batch with \`embedding\` → ${problem(r)}`);
        withVectors = false;
        r = await call('POST', '/v1/memories/batch', { memories: items(false) });
      }
      if (r.status !== 201) throw new Error(`POST /v1/memories/batch → ${problem(r)}`);
      const data = r.json.data as { id: string }[];
      data.forEach((created, j) => {
        serverToDataset.set(created.id, chunk[j]!.id);
      });
    }
    if (withVectors) notes.push(`${memories.length} memories stored with their vectors`);

    const idsOf = (json: Record<string, unknown>) =>
      (json.data as { id?: string; memory?: { id: string } }[]).map((hit) => {
        const id = hit.memory?.id ?? hit.id;
        const mapped = id && serverToDataset.get(id);
        if (!mapped) throw new Error(`a hit that is not a stored memory: ${JSON.stringify(hit).slice(0, 200)}`);
        return mapped;
      });
    const missing = (r: { status: number; json: Record<string, unknown> }) =>
      r.status === 404 || r.status === 405 || r.status === 422 ? { unavailable: problem(r) } : null;
    const get =
      (params: Record<string, string>, limit = K) =>
      async (q: RecallQuestion) => {
        const r = await call(
          'GET',
          `/v1/memories/search?${new URLSearchParams({ q: q.question, ...params, limit: String(limit) })}`,
        );
        if (r.status !== 200) return missing(r) ?? Promise.reject(new Error(`GET search → ${problem(r)}`));
        return idsOf(r.json);
      };
    const post = (mode: string) => async (q: RecallQuestion) => {
      const r = await call('POST', '/v1/memories/search', {
        query: q.question,
        vector: vectors.questions[q.id],
        mode,
        top_k: K,
      });
      if (r.status !== 200) return missing(r) ?? Promise.reject(new Error(`POST search ${mode} → ${problem(r)}`));
      return idsOf(r.json);
    };
    const modes: Mode[] = [
      {
        name: 'GET match=all',
        what: '`GET /v1/memories/search?q=…&match=all&limit=10`, every word required: keyword search before this change (main’s default until then)',
        ask: get({ match: 'all' }),
      },
      {
        name: 'GET match=any',
        what: '`GET /v1/memories/search?q=…&match=any&limit=10`: any word, ranked by BM25',
        ask: get({ match: 'any' }),
      },
      {
        name: 'GET (defaults)',
        what: '`GET /v1/memories/search?q=…&limit=10`: whatever `match` defaults to',
        ask: get({}),
      },
      {
        name: 'POST keyword',
        what: '`POST /v1/memories/search {query, vector, mode: "keyword", top_k: 10}`: keyword search after this change',
        ask: post('keyword'),
      },
      {
        name: 'POST semantic',
        what: '`POST /v1/memories/search` with `mode: "semantic"`: the server’s vector search over the stored vectors',
        ask: post('semantic'),
      },
      {
        name: 'POST hybrid',
        what: '`POST /v1/memories/search` with `mode: "hybrid"`: the server’s fusion of the keyword and vector rankings',
        ask: post('hybrid'),
      },
      {
        name: 'cosine in the harness',
        what: 'exact cosine ranking of the same vectors, computed by the harness without the server: the most semantic search can get from them',
        ask: async (q) => cosineRanking(vectors.questions[q.id]!, vectors.memories).slice(0, K),
      },
      {
        name: 'RRF in the harness',
        what: 'Reciprocal Rank Fusion (k = 60), computed by the harness, of `GET match=any` (top 100) and the cosine ranking (top 100)',
        ask: async (q) => {
          const keyword = await get({ match: 'any' }, 100)(q);
          if (!Array.isArray(keyword)) return keyword;
          const semantic = cosineRanking(vectors.questions[q.id]!, vectors.memories).slice(0, 100);
          return reciprocalRankFusion([keyword, semantic]).slice(0, K);
        },
      },
    ];

    const outcomes: Outcome[] = [];
    for (const mode of modes) {
      const outcome: Outcome = { mode, perQuestion: [] };
      for (const q of questions) {
        const ranked = await mode.ask(q);
        if (!Array.isArray(ranked)) {
          if (outcome.perQuestion.length > 0)
            throw new Error(`${mode.name} answered earlier questions but not ${q.id}: ${ranked.unavailable}`);
          outcome.unavailable = ranked.unavailable;
          break;
        }
        if (ranked.length > K) throw new Error(`${mode.name} returned ${ranked.length} hits for top ${K}`);
        const first = ranked.findIndex((id) => (q.relevant[id] ?? 0) > 0);
        outcome.perQuestion.push({
          id: q.id,
          recall: recallAt(ranked, q.relevant, K),
          ndcg: ndcgAt(ranked, q.relevant, K),
          firstRelevant: first < 0 ? null : first + 1,
          ranked,
        });
      }
      outcomes.push(outcome);
      console.error(`${mode.name}: ${outcome.unavailable ? `not available (${outcome.unavailable})` : 'done'}`);
    }

    // The server against the harness's own computation of the same ranking.
    for (const [server, reference] of [
      ['POST semantic', 'cosine in the harness'],
      ['POST hybrid', 'RRF in the harness'],
    ] as const) {
      const [a, b] = [server, reference].map((name) => outcomes.find((o) => o.mode.name === name));
      if (!a || !b || a.unavailable || b.unavailable) continue;
      const same = a.perQuestion.filter((p, i) => p.ranked.join() === b.perQuestion[i]!.ranked.join()).length;
      notes.push(
        `${server} returned exactly the top ${K} of the ${reference} for ${same} of ${questions.length} questions`,
      );
    }
    const report = render(outcomes, notes);
    console.log(report);
    if (args.details) console.log(details(outcomes));
    if (args.write) writeResults(report);
  } finally {
    await worker.stop();
  }
}

function sourceOf(): string {
  if (args.source) return args.source;
  const git = (...a: string[]) => execFileSync('git', a, { cwd: root, encoding: 'utf8' }).trim();
  // RESULTS.md itself is what --write changes: it does not make the measured code dirty.
  const dirty = git('status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench/RESULTS.md')
    ? ' plus uncommitted changes'
    : '';
  return `${git('rev-parse', '--abbrev-ref', 'HEAD')} ${git('rev-parse', '--short', 'HEAD')}${dirty}`;
}

const pct = (x: number) => x.toFixed(3);

function render(outcomes: Outcome[], notes: string[]): string {
  const rows = outcomes.map(({ mode, unavailable, perQuestion }) => {
    if (unavailable) return `| ${mode.name} | not available: ${unavailable.replaceAll('|', '/')} | | | |`;
    const zero = perQuestion.filter((p) => p.recall === 0).length;
    const first = perQuestion.filter((p) => p.firstRelevant === 1).length;
    return `| ${mode.name} | ${pct(mean(perQuestion.map((p) => p.recall)))} | ${pct(mean(perQuestion.map((p) => p.ndcg)))} | ${first} | ${zero} |`;
  });
  return [
    `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${sourceOf()}: ${memories.length} memories, ${questions.length} questions, ${vectors.model} vectors (${vectors.dimensions} dimensions). ${notes.join('; ')}.`,
    '',
    `| request | recall@${K} | nDCG@${K} | questions whose first hit is relevant | questions with no relevant hit |`,
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    ...outcomes.map(({ mode }) => `- ${mode.name}: ${mode.what}.`),
  ].join('\n');
}

function details(outcomes: Outcome[]): string {
  const available = outcomes.filter((o) => !o.unavailable);
  const lines = [`\nrank of the first relevant memory (- = none in the top ${K})`];
  lines.push(['question'.padEnd(26), ...available.map((o) => o.mode.name.slice(0, 14).padStart(15))].join(''));
  questions.forEach((q, i) => {
    lines.push(
      [q.id.padEnd(26), ...available.map((o) => String(o.perQuestion[i]?.firstRelevant ?? '-').padStart(15))].join(''),
    );
  });
  return lines.join('\n');
}

const START = '<!-- recall:run:start (bench/recall/run.ts --write) -->';
const END = '<!-- recall:run:end -->';

function writeResults(report: string) {
  const file = join(root, 'bench', 'RESULTS.md');
  const text = readFileSync(file, 'utf8');
  const [from, to] = [text.indexOf(START), text.indexOf(END)];
  if (from < 0 || to < from) throw new Error(`${file} has no ${START} … ${END} block`);
  writeFileSync(file, `${text.slice(0, from + START.length)}\n${report}\n${text.slice(to)}`);
  // The repository's formatter pads markdown tables; `npm run lint` checks it.
  execFileSync(join(root, 'node_modules', '.bin', 'biome'), ['format', '--write', file], {
    cwd: root,
    stdio: 'ignore',
  });
  console.error(`wrote ${file}`);
}

await main();
