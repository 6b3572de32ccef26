import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The migrations must apply with wrangler itself, not only with the test helper.
const root = join(import.meta.dirname, '..', '..');
const persist = mkdtempSync(join(tmpdir(), 'memoria-migrations-'));
const wrangler = (...args: string[]) =>
  execFileSync(join(root, 'node_modules', '.bin', 'wrangler'), args, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

afterAll(() => rmSync(persist, { recursive: true, force: true }));

describe('migrations with wrangler d1 migrations apply --local', () => {
  const files = readdirSync(join(root, 'migrations'))
    .filter((f) => f.endsWith('.sql'))
    .sort();

  it('applies every migration file', () => {
    const out = wrangler('d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist);
    for (const f of files) expect(out).toMatch(new RegExp(`${f}\\s*│\\s*✅`));
  }, 120_000);

  it('a second apply is a no-op', () => {
    const out = wrangler('d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist);
    expect(out).toMatch(/No migrations to apply/);
  }, 120_000);

  it('each file run again by hand changes nothing (IF NOT EXISTS guards)', () => {
    const schema = () =>
      JSON.parse(
        wrangler(
          'd1',
          'execute',
          'DB',
          '--local',
          '--persist-to',
          persist,
          '--json',
          '--command',
          "SELECT type, name, sql FROM sqlite_master WHERE type IN ('table','trigger','index') ORDER BY type, name",
        ),
      )[0].results;
    const before = schema();
    expect(before.length).toBeGreaterThan(20);
    for (const f of files) {
      try {
        wrangler('d1', 'execute', 'DB', '--local', '--persist-to', persist, '--file', join('migrations', f));
      } catch (err) {
        // SQLite has no ADD COLUMN IF NOT EXISTS: a file that adds columns refuses a second run
        // with "duplicate column name" (and must change nothing, checked below).
        const e = err as { stdout?: string; stderr?: string };
        const addsColumns = /ALTER TABLE \w+ ADD COLUMN/i.test(readFileSync(join(root, 'migrations', f), 'utf8'));
        if (!addsColumns || !/duplicate column name/i.test(`${e.stdout ?? ''}${e.stderr ?? ''}`)) throw err;
      }
    }
    expect(schema()).toEqual(before);
  }, 180_000);

  it('uses LF line endings only (wrangler --remote has failed on CRLF)', async () => {
    const { readFileSync } = await import('node:fs');
    for (const f of files) expect(readFileSync(join(root, 'migrations', f), 'utf8')).not.toContain('\r');
  });
});
