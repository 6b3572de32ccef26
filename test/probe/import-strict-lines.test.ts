// An import line is strict like every JSON body: a field the line's schema does not declare is
// refused, naming the line and the field, in a dry run too; nothing is silently dropped.
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { ImportReportSchema } from '../../src/routes/data/schemas';
import { call, expectProblem, world } from '../memories/helpers';

const memory = (extra: Record<string, unknown>, dataExtra: Record<string, unknown> = {}) =>
  JSON.stringify({
    type: 'memory',
    data: {
      id: 'mem_01J9Z3Q4W5E6R7T8Y9V0A1B2C3',
      user_id: null,
      session_id: null,
      content: 'imported',
      tags: [],
      metadata: {},
      importance: 5,
      access_scope: 'global',
      source: null,
      embedding: null,
      version: 1,
      created_at: '2026-01-05T09:30:00.000Z',
      updated_at: '2026-01-05T09:30:00.000Z',
      deleted_at: null,
      ...dataExtra,
    },
    ...extra,
  });

const importChunk = (token: string, body: string, dryRun: boolean) =>
  call(`/v1/import${dryRun ? '?dry_run=true' : ''}`, {
    method: 'POST',
    token,
    body,
    headers: { 'content-type': 'application/x-ndjson' },
  });

describe('import lines are strict', () => {
  it('an unknown field in a line or its data is refused, naming line and field; nothing is written', async () => {
    const w = await world();
    const header = JSON.stringify({
      format: 'memoria.export',
      version: 1,
      tenant_id: 'ten_x',
      exported_at: '2026-01-05T09:30:00.000Z',
      counts: { users: 0, memories: 1, sessions: 0, audit_logs: 0 },
      note: 'extra',
    });
    const body = [header, memory({ comment: 'x' }), memory({}, { user: 'alice', tenant_id: 'ten_other' })].join('\n');
    const expected = [
      { path: 'line 1.note', message: 'is not a known field' },
      { path: 'line 2.comment', message: 'is not a known field' },
      { path: 'line 3.data.user', message: 'is not a known field' },
      { path: 'line 3.data.tenant_id', message: 'is not a known field' },
    ];

    const dry = await importChunk(w.tokens.owner, body, true);
    expect(dry.status, await dry.clone().text()).toBe(200);
    const report = ImportReportSchema.strict().parse(await dry.json());
    expect(report.valid).toBe(false);
    expect(report.errors).toEqual(expected);

    const real = await expectProblem(await importChunk(w.tokens.owner, body, false), 422, 'import_invalid');
    expect(real.errors).toEqual(expected);
    const stored = await env.DB.prepare(
      "SELECT count(*) AS n FROM memories WHERE tenant_id = ?1 AND content = 'imported'",
    )
      .bind(w.a.tenant.id)
      .first<{ n: number }>();
    expect(stored!.n).toBe(0);

    // The same line without the extra fields imports.
    const ok = await importChunk(w.tokens.owner, memory({}), false);
    expect(ok.status, await ok.clone().text()).toBe(200);
  });
});
