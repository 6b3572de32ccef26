// @memoria/client as a package: it builds (ESM + .d.ts) on its own, depends on nothing but
// openapi-fetch (never on the server code), and every example in its README and the product
// README type-checks (strict, exactOptionalPropertyTypes). test/e2e/client-package.test.ts packs,
// installs and runs it.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const clients = join(root, 'clients');
const tsc = join(root, 'node_modules', '.bin', 'tsc');
const tmp = mkdtempSync(join(tmpdir(), 'memoria-client-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(cmd: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) =>
    execFile(cmd, args, { cwd: root }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, output: stdout + stderr }),
    ),
  );
}

/** Type-checks TypeScript sources that import '@memoria/client' (mapped to the package source). */
async function typecheck(name: string, sources: string[]) {
  const dir = join(tmp, name);
  rmSync(dir, { recursive: true, force: true });
  const files = sources.map((src, i) => ({ file: join(dir, `example-${i + 1}.ts`), src }));
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(f.file, f.src);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'ESNext',
        moduleResolution: 'Bundler',
        lib: ['ES2022', 'DOM', 'DOM.Iterable'],
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        noEmit: true,
        skipLibCheck: true,
        typeRoots: [join(root, 'node_modules', '@types')],
        types: ['node'],
        paths: { '@memoria/client': [join(clients, 'src', 'index.ts')] },
      },
      files: files.map((f) => f.file),
    }),
  );
  return run(tsc, ['-p', join(dir, 'tsconfig.json')]);
}

const examplesOf = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const readmeExamples = () => examplesOf(join(clients, 'README.md'));

describe('@memoria/client package', { timeout: 180_000 }, () => {
  it('builds to ESM + .d.ts in clients/dist and loads in Node', async () => {
    const build = await run(tsc, ['-p', join(clients, 'tsconfig.build.json')]);
    expect(build.code, build.output).toBe(0);
    const pkg = JSON.parse(readFileSync(join(clients, 'package.json'), 'utf8'));
    expect(pkg.name).toBe('@memoria/client');
    expect(pkg.type).toBe('module');
    for (const file of [pkg.exports['.'].import, pkg.exports['.'].types])
      expect(existsSync(join(clients, file)), file).toBe(true);
    const mod = await import(pathToFileURL(join(clients, pkg.exports['.'].import)).href);
    expect(Object.keys(mod)).toEqual(
      expect.arrayContaining(['createMemoriaClient', 'MemoriaError', 'paginate', 'unwrap']),
    );
    const client = mod.createMemoriaClient({ baseUrl: 'http://127.0.0.1:1', token: 't' });
    expect(typeof client.memories.list({})[Symbol.asyncIterator]).toBe('function');
  });

  it('depends on openapi-fetch only, never on the server code', () => {
    const pkg = JSON.parse(readFileSync(join(clients, 'package.json'), 'utf8'));
    expect(Object.keys(pkg.dependencies)).toEqual(['openapi-fetch']);
    const specifiers = new Set<string>();
    for (const file of readdirSync(join(clients, 'src'))) {
      for (const m of readFileSync(join(clients, 'src', file), 'utf8').matchAll(
        /(?:^|\s)(?:from|import)\s*\(?\s*'([^']+)'/g,
      ))
        specifiers.add(m[1]!);
    }
    const external = [...specifiers].filter((s) => !s.startsWith('./'));
    expect(external).toEqual(['openapi-fetch']);
  });

  it('every ts example in its README type-checks against the package', async () => {
    const examples = readmeExamples();
    expect(examples.length).toBeGreaterThanOrEqual(4);
    const r = await typecheck('readme', examples);
    expect(r.code, r.output).toBe(0);
  });

  it("the product README's client example type-checks against the package", async () => {
    const examples = examplesOf(join(root, 'README.md'));
    expect(examples).toHaveLength(1);
    const r = await typecheck('root-readme', examples);
    expect(r.code, r.output).toBe(0);
  });

  it('the README check catches a wrong example', async () => {
    const [first] = readmeExamples();
    const broken = first!.replace('me.user.email', 'me.user.mail');
    const r = await typecheck('broken', [broken]);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain("Property 'mail' does not exist");
  });
  it('carries the spec version, one license and one contact', () => {
    const pkg = JSON.parse(readFileSync(join(clients, 'package.json'), 'utf8'));
    const spec = JSON.parse(readFileSync(join(root, 'api', 'openapi.json'), 'utf8'));
    expect(pkg.version).toBe(spec.info.version);
    expect(pkg.license).toBe(spec.info.license.name);
    expect(pkg.author).toContain(spec.info.contact.email);
    expect(readFileSync(join(clients, 'LICENSE'), 'utf8')).toBe(readFileSync(join(root, 'LICENSE'), 'utf8'));
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(new RegExp(`^${spec.info.license.name} License`));
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(spec.info.contact.email);
  });
});
