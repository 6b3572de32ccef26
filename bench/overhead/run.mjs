// npm run bench:overhead — what Memoria's request path costs on top of D1 (NOT part of CI).
// One `wrangler dev` serving bench/overhead/worker.ts: the real app plus a bare Hono route doing
// the same single D1 SELECT. autocannon alternates between GET /v1/memories/{id} and the bare
// route (same server, same connections, same duration, rounds interleaved so machine noise hits
// both), then a CPU profile of the API route is taken through workerd's inspector (the V8
// Profiler domain over the DevTools protocol) and summarised by function and by source file.
// Writes the numbers to bench/RESULTS.md.
//
// Options (env): OVERHEAD_CONNECTIONS (16), OVERHEAD_SECONDS per round (10), OVERHEAD_ROUNDS (3),
// OVERHEAD_PORT (8831), OVERHEAD_INSPECTOR_PORT (9331).
// Needs Node's WebSocket: run through npm (the script passes --experimental-websocket on Node 20).

import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { root } from '../../scripts/dev-auth.mjs';
import { prepareAssets } from '../../scripts/prepare-assets.mjs';

const CONNECTIONS = Number(process.env.OVERHEAD_CONNECTIONS ?? 16);
const SECONDS = Number(process.env.OVERHEAD_SECONDS ?? 10);
const ROUNDS = Number(process.env.OVERHEAD_ROUNDS ?? 3);
const PORT = Number(process.env.OVERHEAD_PORT ?? 8831);
const INSPECTOR = Number(process.env.OVERHEAD_INSPECTOR_PORT ?? 9331);
const base = `http://127.0.0.1:${PORT}`;
const wrangler = join(root, 'node_modules', '.bin', 'wrangler');
const persist = mkdtempSync(join(tmpdir(), 'memoria-overhead-'));
const wenv = { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' };
const d1 = (...args) =>
  execFileSync(wrangler, ['d1', ...args, '--local', '--persist-to', persist], { cwd: root, env: wenv }).toString();

// 1. A fresh D1 with one tenant and its owner; a key pair the Worker trusts.
prepareAssets();
d1('migrations', 'apply', 'DB');
const now = Date.now();
const sub = `auth0|overhead-${now}`;
d1(
  'execute',
  'DB',
  '--command',
  `INSERT INTO tenants (id, name, plan, created_at, updated_at) VALUES ('ten_0000000000000000000000OVHD', 'Overhead', 'team', ${now}, ${now});` +
    `INSERT INTO users (id, tenant_id, auth0_id, email, role, kind, created_at, updated_at) VALUES ('usr_0000000000000000000000OVHD', 'ten_0000000000000000000000OVHD', '${sub}', 'overhead@example.com', 'owner', 'person', ${now}, ${now});`,
);
const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
const kid = `overhead-${randomBytes(4).toString('hex')}`;
const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] });
const token = await new SignJWT({ scope: 'read:memories write:memories' })
  .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
  .setSubject(sub)
  .setIssuer('https://overhead.memoria.local/')
  .setAudience('https://api.memoria.overhead')
  .setIssuedAt()
  .setExpirationTime('2h')
  .sign(privateKey);

// 2. The server (its per-request log lines go to a file, as Workers Logs would take them).
mkdirSync(join(root, '.bench'), { recursive: true });
const serverLog = join(root, '.bench', 'overhead-server.log');
const server = spawn(
  wrangler,
  [
    'dev',
    'bench/overhead/worker.ts',
    '--ip',
    '127.0.0.1',
    '--port',
    String(PORT),
    '--inspector-port',
    String(INSPECTOR),
    '--persist-to',
    persist,
    '--show-interactive-dev-session=false',
    '--log-level',
    'warn',
    ...[
      `AUTH0_JWKS:${jwks}`,
      'AUTH0_ISSUER:https://overhead.memoria.local/',
      'AUTH0_AUDIENCE:https://api.memoria.overhead',
      `CURSOR_SECRET:${randomBytes(32).toString('hex')}`,
    ].flatMap((v) => ['--var', v]),
  ],
  { cwd: root, env: wenv, stdio: ['ignore', openSync(serverLog, 'w'), openSync(serverLog, 'a')], detached: true },
);
const stop = () => {
  try {
    process.kill(-server.pid, 'SIGTERM');
  } catch {}
};
process.on('exit', stop);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${base}/health`)).ok) break;
  } catch {}
  if (i > 240) throw new Error(`the server did not start; see ${serverLog}`);
  await new Promise((r) => setTimeout(r, 500));
}

// 3. One memory, read by both routes.
const auth = { authorization: `Bearer ${token}` };
const created = await fetch(`${base}/v1/memories`, {
  method: 'POST',
  headers: { ...auth, 'content-type': 'application/json' },
  body: JSON.stringify({ content: 'prefers dark roast coffee on tuesdays', tags: ['coffee'], importance: 5 }),
});
if (created.status !== 201) throw new Error(`seeding failed: ${created.status} ${await created.text()}`);
const { id } = await created.json();
const routes = {
  api: { path: `/v1/memories/${id}`, headers: auth },
  bare: { path: `/bare/memories/${id}`, headers: {} },
};
for (const r of Object.values(routes)) {
  const res = await fetch(base + r.path, { headers: r.headers });
  if (res.status !== 200) throw new Error(`${r.path}: ${res.status}`);
}

const load = (route, seconds) =>
  autocannon({ url: base + route.path, headers: route.headers, connections: CONNECTIONS, duration: seconds });

// 4. Throughput, interleaved rounds after a warm-up of each.
await load(routes.bare, 3);
await load(routes.api, 3);
const rounds = [];
for (let i = 0; i < ROUNDS; i++) {
  for (const name of i % 2 === 0 ? ['bare', 'api'] : ['api', 'bare']) {
    const r = await load(routes[name], SECONDS);
    rounds.push({
      name,
      rps: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      non2xx: r.non2xx,
      errors: r.errors,
    });
    console.log(
      `round ${i + 1} ${name}: ${r.requests.average.toFixed(1)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms`,
    );
  }
}
const mean = (name, key) => {
  const xs = rounds.filter((r) => r.name === name).map((r) => r[key]);
  return xs.reduce((a, b) => a + b, 0) / xs.length;
};
const ratio = mean('api', 'rps') / mean('bare', 'rps');
const spread = (name) => {
  const xs = rounds.filter((r) => r.name === name).map((r) => r.rps);
  return `${((100 * (Math.max(...xs) - Math.min(...xs))) / Math.min(...xs)).toFixed(0)}%`;
};
console.log(`ratio api/bare: ${ratio.toFixed(3)}`);

// 5. A CPU profile of the API route, taken inside workerd through its inspector.
async function profile(route, seconds) {
  const targets = await (await fetch(`http://127.0.0.1:${INSPECTOR}/json`)).json();
  // The inspector proxy accepts only local DevTools origins.
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl, { headers: { origin: 'http://127.0.0.1' } });
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let seq = 0;
  const pending = new Map();
  ws.onmessage = (e) => {
    const msg = JSON.parse(String(e.data));
    if (msg.id && pending.has(msg.id)) pending.get(msg.id)(msg);
  };
  // A Worker reload (a source file saved during the run) drops the session: fail, never hang.
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const msgId = ++seq;
      const timer = setTimeout(() => reject(new Error(`inspector: no answer to ${method}`)), 300_000);
      pending.set(msgId, (msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
      ws.send(JSON.stringify({ id: msgId, method, params }));
    });
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: 100 });
  await send('Profiler.start');
  const r = await load(route, seconds);
  const { result } = await send('Profiler.stop');
  ws.close();
  return { profile: result.profile, rps: r.requests.average };
}
const prof = await profile(routes.api, SECONDS);
writeFileSync(join(root, '.bench', 'overhead-api.cpuprofile'), JSON.stringify(prof.profile));
stop();

// Self time per function and per source file (the bundle keeps module paths in function URLs
// only as one file, so files are told apart by the function's own name and line).
const { nodes, samples, timeDeltas } = prof.profile;
const byId = new Map(nodes.map((n) => [n.id, n]));
const self = new Map();
for (let i = 0; i < samples.length; i++) self.set(samples[i], (self.get(samples[i]) ?? 0) + (timeDeltas[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const idle = new Set(['(idle)', '(program)', '(garbage collector)']);
const fnKey = (n) =>
  `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
const byFn = new Map();
for (const [nodeId, us] of self) {
  const n = byId.get(nodeId);
  const key = idle.has(n.callFrame.functionName) ? n.callFrame.functionName : fnKey(n);
  byFn.set(key, (byFn.get(key) ?? 0) + us);
}
// Inclusive time of the app's own middleware and steps, found by function name in the bundle.
const parent = new Map();
for (const n of nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const inclusive = (pattern) => {
  let us = 0;
  for (const [nodeId, t] of self) {
    for (let at = nodeId; at !== undefined; at = parent.get(at)) {
      if (pattern.test(byId.get(at).callFrame.functionName)) {
        us += t;
        break;
      }
    }
  }
  return us;
};
const pct = (us) => `${((100 * us) / total).toFixed(1)}%`;
const top = [...byFn.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20);
const busy = total - [...idle].reduce((a, k) => a + (byFn.get(k) ?? 0), 0);
const steps = [
  ['token verification (jwtVerify, cached)', /^(verifyAccessToken|jwtVerify)$/],
  ['auth middleware (requireAuth)', /^requireAuth$|^authMiddleware/],
  ['rate limit middleware', /^rateLimit$|^take$/],
  ['D1 calls (batch, instrument, resilience)', /^(batchAsCaller|attempt)$/],
  ['request log', /^logRequest$/],
  ['zod request validation', /^(safeParse|safeParseAsync|_safeParseAsync|parseAsync)$/],
  ['JSON response (toMemory + c.json)', /^(toMemory|json)$/],
];
for (const [label, re] of steps) console.log(`${label}: ${pct(inclusive(re))} of samples`);
console.log(top.map(([k, us]) => `${pct(us).padStart(6)}  ${k}`).join('\n'));

// 6. Report.
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim();
const section = `<!-- overhead:start (written by bench/overhead/run.mjs) -->
## Request-path overhead: GET /v1/memories/{id} vs a bare Hono route

Command: \`npm run bench:overhead\`. One \`wrangler dev\` (local workerd + SQLite D1) serving
\`bench/overhead/worker.ts\`: the real app plus \`GET /bare/memories/:id\`, a bare Hono route doing
one D1 \`SELECT\` of the same row. autocannon, ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of
${SECONDS} s per route after a warm-up. Run ${new Date().toISOString()} at commit ${commit} on ${cpus().length} cores
(${cpus()[0]?.model ?? 'unknown'}, load average ${loadavg()[0].toFixed(1)} at the end), Node ${process.version}.

| route | req/s (mean of rounds) | p50 / p99 ms |
|---|---|---|
| bare Hono + one D1 SELECT | ${mean('bare', 'rps').toFixed(1)} | ${mean('bare', 'p50').toFixed(0)} / ${mean('bare', 'p99').toFixed(0)} |
| GET /v1/memories/{id} | ${mean('api', 'rps').toFixed(1)} | ${mean('api', 'p50').toFixed(0)} / ${mean('api', 'p99').toFixed(0)} |

**Ratio: ${ratio.toFixed(2)}×** (rounds: ${rounds.map((r) => `${r.name} ${r.rps.toFixed(0)}`).join(', ')}; non-2xx ${rounds.reduce((a, r) => a + r.non2xx, 0)}, errors ${rounds.reduce((a, r) => a + r.errors, 0)}).

Rounds of the same route differ by up to ${spread('bare')} (bare) and ${spread('api')} (API) on
this machine: compare ratios only between runs at a similar load.

Where the API route's time goes: a CPU profile taken inside workerd through its inspector
(\`Profiler.start\`/\`stop\` over the DevTools protocol on \`wrangler dev --inspector-port\`) during
${SECONDS} s of load (${prof.rps.toFixed(0)} req/s while profiling). The Worker's JavaScript was busy for
${pct(busy)} of the samples; the rest is idle time waiting on D1 and the network, which the
isolate does not see. Under \`wrangler dev\` every console.log also travels to wrangler over the
same inspector connection (that is how it prints Worker logs), so the request log costs more here
than under Workers Logs. Share of all samples, inclusive of callees:

${steps.map(([label, re]) => `- ${label}: ${pct(inclusive(re))}`).join('\n')}

Top functions by self time:

| self | function |
|---|---|
${top.map(([k, us]) => `| ${pct(us)} | \`${k.replace(/\|/g, '\\|')}\` |`).join('\n')}
<!-- overhead:end -->`;
const resultsPath = join(root, 'bench', 'RESULTS.md');
let md = existsSync(resultsPath) ? readFileSync(resultsPath, 'utf8') : '# Benchmark results\n';
md = /<!-- overhead:start[\s\S]*?<!-- overhead:end -->/.test(md)
  ? md.replace(/<!-- overhead:start[\s\S]*?<!-- overhead:end -->/, section)
  : `${md.trimEnd()}\n\n${section}\n`;
writeFileSync(resultsPath, md);
// The table as the repository's formatter lays it out, so `npm run lint` stays green.
execFileSync(join(root, 'node_modules', '.bin', 'biome'), ['format', '--write', resultsPath], { cwd: root });
rmSync(persist, { recursive: true, force: true });
console.log(`wrote ${resultsPath}`);
process.exit(0);
