// @memoria/client as a user gets it: `npm pack` in clients/ (its prepack builds dist/), installed
// into an empty project (its dependencies from the npm cache, the registry only for a miss), a
// sample type-checked there under moduleResolution node16 and bundler with strict and
// exactOptionalPropertyTypes, compiled, and run with plain Node against the real Worker.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root, startWorker, type Worker } from './harness';

const tsc = join(root, 'node_modules', '.bin', 'tsc');
const tmp = mkdtempSync(join(tmpdir(), 'memoria-client-pack-'));
const project = join(tmp, 'app');
let worker: Worker;

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; output: string; stdout: string }> {
  return new Promise((resolve) =>
    execFile(cmd, args, { cwd, env: { ...process.env, npm_config_update_notifier: 'false' } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, output: stdout + stderr, stdout }),
    ),
  );
}

// What a new integration writes first: provision, write, recall, and handle a typed error.
const SAMPLE = `import { createMemoriaClient, MemoriaError, type Memory, type MemoriaErrorCode } from '@memoria/client';

const [baseUrl, token] = process.argv.slice(2) as [string, string];
const client = createMemoriaClient({ baseUrl, token, timeoutMs: 20_000 });

await client.tenant.create({ name: 'Packed Inc', email: 'owner@packed.test' });
const { data: created, etag } = await client.memories.create({ content: 'Packed clients recall aubergines.', tags: ['pack'] });
const batch = await client.memories.createBatch([{ content: 'second' }, { content: 'third', importance: 9 }]);
const hits = await client.memories.search({ q: 'aubergines', limit: 5 });
const everything: Memory[] = await client.memories.list({ tag: ['pack'] }).toArray();
let code: MemoriaErrorCode | undefined;
try {
  await client.memories.get('mem_01J9Z3Q4W5E6R7T8Y9V0A1B2C3');
} catch (err) {
  if (err instanceof MemoriaError) code = err.code;
}
console.log(JSON.stringify({ id: created.id, etag, batch: batch.map((m) => m.etag), hits: hits.map((h) => h.id), listed: everything.length, code }));
`;

// Declared here so a type error in the sample cannot hide behind a missing type.
const WRONG = `import { createMemoriaClient } from '@memoria/client';
const client = createMemoriaClient({ baseUrl: 'http://x', token: 't' });
await client.memories.create({ content: 'x', importance: undefined });
`;

function tsconfig(moduleResolution: 'node16' | 'bundler', files: string[]) {
  return JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: moduleResolution === 'node16' ? 'node16' : 'ESNext',
      moduleResolution,
      lib: ['ES2022', 'DOM', 'DOM.Iterable'],
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: false,
      typeRoots: [join(root, 'node_modules', '@types')],
      types: ['node'],
      outDir: 'out',
    },
    files,
  });
}

beforeAll(async () => {
  worker = await startWorker();
}, 180_000);
afterAll(async () => {
  await worker?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the packed @memoria/client', { timeout: 240_000 }, () => {
  it('packs (prepack builds dist/), installs into an empty project, type-checks and runs', async () => {
    const pack = await run('npm', ['pack', '--pack-destination', tmp, '--json'], join(root, 'clients'));
    expect(pack.code, pack.output).toBe(0);
    const [{ filename, files }] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
    const paths = files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'LICENSE', 'README.md']));

    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    const install = await run(
      'npm',
      ['install', join(tmp, filename), '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'],
      project,
    );
    expect(install.code, install.output).toBe(0);
    // Its runtime dependencies came with it: nothing resolves from the repository's node_modules.
    expect(readdirSync(join(project, 'node_modules'))).toEqual(expect.arrayContaining(['@memoria', 'openapi-fetch']));

    writeFileSync(join(project, 'sample.ts'), SAMPLE);
    writeFileSync(join(project, 'wrong.ts'), WRONG);
    for (const resolution of ['node16', 'bundler'] as const)
      writeFileSync(join(project, `tsconfig.${resolution}.json`), tsconfig(resolution, ['sample.ts']));
    writeFileSync(join(project, 'tsconfig.wrong.json'), tsconfig('bundler', ['wrong.ts']));
    // node16 compiles the sample to out/ (and type-checks it); bundler only type-checks.
    const node16 = await run(tsc, ['-p', 'tsconfig.node16.json'], project);
    expect(node16.code, `node16: ${node16.output}`).toBe(0);
    const bundler = await run(tsc, ['-p', 'tsconfig.bundler.json', '--noEmit'], project);
    expect(bundler.code, `bundler: ${bundler.output}`).toBe(0);
    const wrong = await run(tsc, ['-p', 'tsconfig.wrong.json', '--noEmit'], project);
    expect(wrong.output).toContain('exactOptionalPropertyTypes');

    const token = await worker.token(`auth0|pack-${randomUUID()}`);
    const sample = await run(process.execPath, [join(project, 'out', 'sample.js'), worker.baseUrl, token], project);
    expect(sample.code, sample.output).toBe(0);
    const result = JSON.parse(sample.stdout.trim());
    expect(result.id).toMatch(/^mem_/);
    expect(result.etag).toBe(`"${result.id}-v1"`);
    expect(result.batch).toHaveLength(2);
    for (const etag of result.batch) expect(etag).toMatch(/^"mem_[0-9A-Z]{26}-v1"$/);
    expect(result.hits).toEqual([result.id]);
    expect(result.listed).toBe(1);
    expect(result.code).toBe('not_found');
  });
});
