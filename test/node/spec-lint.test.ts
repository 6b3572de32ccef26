// Both linters over the published spec, with zero errors, and provably offline: the CLIs run with
// scripts/no-network.cjs preloaded, which refuses and records every connection or DNS lookup.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const dir = mkdtempSync(join(tmpdir(), 'memoria-lint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let runs = 0;
/** Runs a command with the network guard; returns exit code, output and the attempts it recorded. */
function offline(cmd: string, args: string[]): Promise<{ code: number; output: string; attempts: string[] }> {
  const log = join(dir, `network-${++runs}.log`);
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      {
        cwd: root,
        env: {
          ...process.env,
          NODE_OPTIONS: `--require ${join(root, 'scripts', 'no-network.cjs')}`,
          NO_NETWORK_LOG: log,
          REDOCLY_TELEMETRY: 'off',
          REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
          NO_COLOR: '1',
        },
        timeout: 120_000,
      },
      (err, stdout, stderr) => {
        const attempts = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: stdout + stderr, attempts });
      },
    );
  });
}

const redocly = (file: string) => offline(bin('redocly'), ['lint', '--config', '.redocly.yaml', file]);
const spectral = (file: string) =>
  offline(bin('spectral'), ['lint', '--ruleset', '.spectral.yaml', '--fail-severity', 'error', file]);

describe('spec lint', { timeout: 120_000 }, () => {
  it('redocly lint (recommended-strict) passes with zero errors, offline', async () => {
    const r = await redocly('api/openapi.json');
    expect(r.code, r.output).toBe(0);
    expect(r.attempts).toEqual([]);
  });

  it('spectral lint (spectral:oas + OWASP) passes with zero errors, offline', async () => {
    const r = await spectral('api/openapi.json');
    expect(r.code, r.output).toBe(0);
    expect(r.attempts).toEqual([]);
  });

  it('both fail on a spec that breaks their rules', async () => {
    const doc = JSON.parse(readFileSync(join(root, 'api', 'openapi.json'), 'utf8'));
    // An unbounded string (OWASP string-limit) and an operation without an operationId (redocly).
    doc.components.schemas.Problem.properties.detail = { type: 'string' };
    delete doc.paths['/v1/me'].get.operationId;
    const file = join(dir, 'broken.json');
    writeFileSync(file, JSON.stringify(doc));
    const [s, r] = await Promise.all([spectral(file), redocly(file)]);
    expect(s.code).not.toBe(0);
    expect(s.output).toContain('owasp:api4:2023-string-limit');
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('operation-operationId');
  });

  it('the network guard really catches a connection attempt', async () => {
    const r = await offline(process.execPath, [
      '-e',
      "fetch('https://registry.npmjs.org/').catch(() => process.exit(3))",
    ]);
    expect(r.code).toBe(3);
    expect(r.attempts.join('\n')).toContain('registry.npmjs.org:443');
  });
});
