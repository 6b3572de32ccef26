// The README's quick start, as a newcomer runs it: `npm start` (scripts/start.mjs) applies the
// migrations, seeds the demo tenant, prints a token and serves the API; the printed token works
// for reads and writes; a restart keeps the data. Runs against its own local D1 (MEMORIA_STATE) on
// free ports, so a developer's own .wrangler/state is untouched.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, root, type Served, serve, wrangler, env as wranglerEnv } from './harness';

const state = mkdtempSync(join(tmpdir(), 'memoria-quick-start-'));
const env = { ...wranglerEnv, MEMORIA_STATE: state };
/** A response body as JSON (fetch types it `unknown`; these tests assert its shape). */
const json = async (res: Response): Promise<any> => res.json();
let server: Served | undefined;

async function npmStart() {
  const [port, inspector] = [await freePort(), await freePort()];
  server = await serve('npm start', process.execPath, [join(root, 'scripts', 'start.mjs')], {
    env: { ...env, PORT: String(port), INSPECTOR_PORT: String(inspector) },
    baseUrl: `http://127.0.0.1:${port}`,
    timeoutMs: 120_000,
  });
  return server;
}

async function stop() {
  await server?.stop();
  server = undefined;
}

afterAll(async () => {
  await stop();
  rmSync(state, { recursive: true, force: true });
});

describe('README quick start (npm start)', { timeout: 240_000 }, () => {
  let token = '';
  let memoryId = '';
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${server!.baseUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
    });

  it('serves /health, /docs and /openapi.json and prints a token the API accepts', async () => {
    // A local database seeded by an earlier start.mjs, whose demo ids were 24 characters long
    // (the search index refused them): this start must replace that tenant.
    const run = promisify(execFile);
    await run(wrangler, ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', state], { cwd: root, env });
    const old = `00000000000000000000DEM0`;
    await run(
      wrangler,
      [
        'd1',
        'execute',
        'DB',
        '--local',
        '--persist-to',
        state,
        '--command',
        `INSERT INTO tenants (id, name, plan, created_at, updated_at) VALUES ('ten_${old}', 'Demo tenant', 'free', 1, 1);` +
          `INSERT INTO users (id, tenant_id, auth0_id, email, name, role, kind, created_at, updated_at) VALUES ('usr_${old}', 'ten_${old}', 'auth0|memoria-demo-owner', 'owner@demo.memoria.local', 'Demo Owner', 'owner', 'person', 1, 1);`,
      ],
      { cwd: root, env },
    );

    const { baseUrl, logs } = await npmStart();
    expect(logs()).toContain(`docs:      ${baseUrl}/docs`);
    token = readFileSync(join(root, '.dev', 'token.txt'), 'utf8').trim();
    expect(logs()).toContain(token);

    expect(await json(await fetch(`${baseUrl}/health`))).toEqual({ status: 'ok', database: 'ok' });
    // One build, and nothing fetched from the network (this machine is offline but for npm).
    expect(logs().match(/Starting local server/g)).toHaveLength(1);
    expect(logs()).not.toMatch(/restarting build|ENOTFOUND|getaddrinfo|Unable to fetch/);
    const docs = await fetch(`${baseUrl}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toContain('text/html');
    expect((await json(await fetch(`${baseUrl}/openapi.json`))).openapi).toBe('3.1.0');

    const me = await call('/v1/me');
    expect(me.status).toBe(200);
    const body = await json(me);
    expect(body.tenant).toMatchObject({ id: 'ten_0000000000000000000000DEM0', name: 'Demo tenant' });
    expect(body.user.role).toBe('owner');
  });

  it('seeds the rows the docs\' path id examples name, so their first "Try it" finds them', async () => {
    const spec = await json(await fetch(`${server!.baseUrl}/openapi.json`));
    const idExample = (path: string) =>
      spec.paths[path].get.parameters.find((p: { in: string; name: string }) => p.in === 'path' && p.name === 'id')
        .example;
    for (const path of ['/v1/memories/{id}', '/v1/users/{id}', '/v1/audit-logs/{id}']) {
      const id = idExample(path);
      const res = await call(path.replace('{id}', id));
      expect(res.status, path).toBe(200);
      expect((await json(res)).id).toBe(id);
    }
    // The seeded memory is indexed like any other.
    const found = await json(await call('/v1/memories/search?q=dark+mode'));
    expect(found.data.map((hit: { id: string }) => hit.id)).toContain(idExample('/v1/memories/{id}'));
  });

  it('lets the demo owner create and find a memory', async () => {
    const created = await call('/v1/memories', {
      method: 'POST',
      body: JSON.stringify({ content: 'Quick start: the aubergine parmigiana recipe', tags: ['demo'] }),
    });
    expect(created.status).toBe(201);
    memoryId = (await json(created)).id;
    const found = await json(await call('/v1/memories/search?q=aubergine'));
    expect(found.data.map((hit: { id: string }) => hit.id)).toEqual([memoryId]);
  });

  it('runs the maintenance cron on request, as the README says (GET /__scheduled)', async () => {
    // wrangler's own /cdn-cgi/handler/scheduled answers "exception" for a Worker with [assets]: it
    // goes to the asset router, which has no scheduled handler.
    const res = await fetch(`${server!.baseUrl}/__scheduled`);
    expect(res.status).toBe(200);
    for (const started = Date.now(); !server!.logs().includes('"event":"maintenance"'); ) {
      if (Date.now() - started > 10_000) throw new Error(`no maintenance log line:\n${server!.logs()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(server!.logs()).toMatch(/"event":"maintenance".*"complete":true/);
  });

  it('keeps the data across a restart and does not seed twice', async () => {
    await stop();
    await npmStart();
    const again = await call(`/v1/memories/${memoryId}`);
    expect(again.status).toBe(200);
    expect((await json(again)).content).toBe('Quick start: the aubergine parmigiana recipe');
    const users = await json(await call('/v1/users'));
    expect(users.data).toHaveLength(1);
  });
});
