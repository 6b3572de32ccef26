import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { applyAccepted, breakingChanges, defaultBaseRef, loadBase, majorChanged } from '../../scripts/breaking-changes';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'memoria-breaking-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small, self-contained spec (fixtures must not move when the real routes change). */
function baseSpec(): Record<string, any> {
  return {
    openapi: '3.1.0',
    info: { title: 'Fixture', version: '0.1.0' },
    paths: {
      '/health': { get: { operationId: 'getHealth', responses: { 200: { description: 'ok' } } } },
      '/v1/me': {
        get: {
          operationId: 'getMe',
          responses: {
            200: {
              description: 'ok',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Me' } } },
            },
          },
        },
      },
      '/v1/notes': {
        post: {
          operationId: 'createNote',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/NoteInput' } } },
          },
          responses: {
            201: {
              description: 'ok',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Me' } } },
            },
          },
        },
      },
    },
    components: {
      schemas: {
        Me: {
          type: 'object',
          properties: {
            user: {
              type: 'object',
              properties: { id: { type: 'string' }, email: { type: 'string' } },
              required: ['id', 'email'],
            },
            scopes: { type: 'array', items: { type: 'string' } },
          },
          required: ['user', 'scopes'],
        },
        NoteInput: {
          type: 'object',
          properties: {
            text: { type: 'string' },
            meta: { type: 'object', properties: { source: { type: 'string' } } },
          },
          required: ['text'],
        },
      },
    },
  };
}

/** A crafted breaking change: one removed operation, one removed response field, two new required request fields. */
function breakingHead(version = '0.1.0') {
  const doc = baseSpec();
  doc.info.version = version;
  delete doc.paths['/health'];
  delete doc.components.schemas.Me.properties.user.properties.email;
  doc.components.schemas.NoteInput.required.push('importance');
  doc.components.schemas.NoteInput.properties.importance = { type: 'integer' };
  doc.paths['/v1/notes'].post.parameters = [
    { name: 'dry_run', in: 'query', required: true, schema: { type: 'boolean' } },
  ];
  return doc;
}

function cli(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      join(root, 'node_modules', '.bin', 'tsx'),
      [join(root, 'scripts', 'breaking-changes.ts'), ...args],
      { cwd: root },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

describe('breaking-change check', { timeout: 60_000 }, () => {
  it('reports removed operations, removed response fields and new required request fields', () => {
    expect(breakingChanges(baseSpec(), breakingHead()).sort()).toEqual(
      [
        'removed operation GET /health (getHealth)',
        'GET /v1/me: removed response field user.email (200 application/json)',
        'POST /v1/notes: removed response field user.email (201 application/json)',
        'POST /v1/notes: new required request field body.importance',
        'POST /v1/notes: new required request field query parameter dry_run',
      ].sort(),
    );
  });

  it('accepts additive changes: new operations, new response fields, new optional request fields', () => {
    const head = baseSpec();
    head.paths['/v1/extra'] = { get: { operationId: 'getExtra', responses: { 200: { description: 'ok' } } } };
    head.components.schemas.Me.properties.extra = { type: 'string' };
    head.components.schemas.NoteInput.properties.color = { type: 'string' };
    // A required field inside an optional object only binds clients that send the object… who
    // did not have to before, so it is not reported; a new required top-level field would be.
    expect(breakingChanges(baseSpec(), head)).toEqual([]);
    expect(breakingChanges(baseSpec(), baseSpec())).toEqual([]);
  });

  it('reports a request body object that newly refuses unknown fields, and accepts only listed changes with a reason', () => {
    const head = baseSpec();
    head.components.schemas.NoteInput.additionalProperties = false;
    const changes = breakingChanges(baseSpec(), head);
    expect(changes).toEqual(['POST /v1/notes: body now refuses unknown fields']);
    // a new strict object (a new operation or field) breaks nobody
    const added = baseSpec();
    added.paths['/v1/extra'] = {
      post: {
        operationId: 'postExtra',
        requestBody: {
          content: {
            'application/json': {
              schema: { type: 'object', additionalProperties: false, properties: { a: { type: 'string' } } },
            },
          },
        },
        responses: { 200: { description: 'ok' } },
      },
    };
    expect(breakingChanges(baseSpec(), added)).toEqual([]);

    const reason = 'unknown fields were silently dropped';
    expect(applyAccepted(changes, [{ change: changes[0]!, reason }])).toEqual({
      accepted: [{ change: changes[0], reason }],
      rest: [],
    });
    expect(
      applyAccepted(changes, [{ change: 'POST /v1/other: body now refuses unknown fields', reason }]).rest,
    ).toEqual(changes);
    expect(() => applyAccepted(changes, [{ change: changes[0]!, reason: ' ' }])).toThrow(/without a reason/);
  });

  it('fails (exit 1) on a breaking change unless the major version changed', async () => {
    writeFileSync(join(dir, 'base.json'), JSON.stringify(baseSpec()));
    writeFileSync(join(dir, 'minor.json'), JSON.stringify(breakingHead('0.2.0')));
    writeFileSync(join(dir, 'major.json'), JSON.stringify(breakingHead('1.0.0')));
    const minor = await cli(['--base', join(dir, 'base.json'), '--head', join(dir, 'minor.json')]);
    expect(minor.code).toBe(1);
    expect(minor.output).toContain('removed operation GET /health');
    expect(minor.output).toContain('new required request field body.importance');
    const major = await cli(['--base', join(dir, 'base.json'), '--head', join(dir, 'major.json')]);
    expect(major.code, major.output).toBe(0);
    expect(major.output).toContain('The major version changed');
    const same = await cli(['--base', join(dir, 'base.json'), '--head', join(dir, 'base.json')]);
    expect(same.code).toBe(0);
    expect(same.output).toContain('none against');
    expect(majorChanged({ info: { version: '1.4.0' } }, { info: { version: '1.5.0' } })).toBe(false);
  });

  it('compares with the latest v* tag, else HEAD~, reading api/openapi.json at that ref', () => {
    const repo = join(dir, 'repo');
    mkdirSync(join(repo, 'api'), { recursive: true });
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo, stdio: 'pipe' });
    git('init', '-q');
    const commit = (doc: unknown, message: string) => {
      writeFileSync(join(repo, 'api', 'openapi.json'), JSON.stringify(doc));
      git('add', '.');
      git('commit', '-q', '-m', message);
    };
    commit(baseSpec(), 'first');
    commit(breakingHead(), 'second');
    expect(defaultBaseRef(repo)).toBe('HEAD~');
    expect(breakingChanges(loadBase('HEAD~', repo).doc, breakingHead())).toHaveLength(5); // HEAD~ = first
    git('tag', 'v0.1.0', 'HEAD~');
    git('tag', 'not-a-release', 'HEAD');
    commit({ ...baseSpec(), info: { title: 'Fixture', version: '0.1.1' } }, 'third');
    expect(defaultBaseRef(repo)).toBe('v0.1.0');
    expect(breakingChanges(loadBase(defaultBaseRef(repo), repo).doc, breakingHead())).toHaveLength(5); // v0.1.0 = first
    expect(breakingChanges(loadBase('HEAD~', repo).doc, breakingHead())).toEqual([]); // HEAD~ = second
  });
});
