// GET /v1/export (stream the whole tenant as NDJSON) and POST /v1/import (one chunk of it).
import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { requestMeta, requireRole, runAsCaller } from '../../auth/caller';
import { identitiesHeldElsewhere, withImportedIdentities } from '../../auth/identities';
import { auditStatement } from '../../db/audit';
import type { CallerRow } from '../../db/caller';
import {
  auditExistsStatement,
  EXPORT_FORMAT,
  EXPORT_KINDS,
  EXPORT_START,
  EXPORT_VERSION,
  type ExportLabels,
  existingIdsStatement,
  exportLine,
  exportPageStatement,
  exportPagesFor,
  exportStartStatement,
  IMPORT_AUDIT_GUARD_SQL,
  type ImportTable,
  importInsertStatements,
  importUserConflictsStatement,
  markImportedStatement,
  type TenantExportRow,
  tenantLine,
} from '../../db/export';
import type { AppEnv } from '../../env';
import { newId } from '../../lib/ids';
import { EXPORT_PAGE_BYTES, EXPORT_PAGE_ROWS, IMPORT_MAX_LINES, MAX_BODY_BYTES } from '../../lib/limits';
import { mediaTypeEssence } from '../../lib/media-type';
import { PLANS } from '../../lib/plans';
import { ApiError } from '../../lib/problem';
import { problemResponses, securedRoute } from '../../lib/route';
import { queryFlag } from '../../lib/schemas';
import { syncIndex, vectorLimit } from '../../vectors/vectorize';
import { mappedId, parseChunk, planImport, referencedIds } from './import-plan';
import {
  ExportFileSchema,
  ExportLineSchema,
  ExportQuerySchema,
  ImportChunkSchema,
  type ImportReport,
  ImportReportSchema,
} from './schemas';

export const data = new OpenAPIHono<AppEnv>();

export const NDJSON = 'application/x-ndjson';

// The line schemas are published for readers of ExportFile and ImportChunk (which name them).
data.openAPIRegistry.register('ExportLine', ExportLineSchema);

data.openapi(
  securedRoute(['manage:tenant'], {
    method: 'get',
    path: '/v1/export',
    operationId: 'exportTenant',
    tags: ['Tenants'],
    summary: 'Export the tenant (NDJSON)',
    description:
      `Owner only. Streams the whole tenant as newline-delimited JSON: first a header line \`{format: '${EXPORT_FORMAT}', version: ${EXPORT_VERSION}, tenant_id, exported_at, counts}\`, ` +
      'then the tenant, its users, sessions, memories (soft-deleted ones and embeddings included) and audit log, one `{type, data}` line per row, ' +
      'read page by page (never whole in memory). Counts are taken when the export starts; rows written while it streams may or may not appear. ' +
      'Re-import it with `POST /v1/import`. With `subject_id` and/or `agent_id`, only the memories of those subjects/agents are exported ' +
      '(after the header and tenant lines; no users, sessions or audit rows): the answer to a data-subject access request. ' +
      'Expired memories are never exported.',
    request: { query: ExportQuerySchema },
    responses: {
      200: {
        description: 'The export, one JSON value per line.',
        headers: {
          'Content-Disposition': {
            description: 'attachment; filename=…',
            schema: {
              type: 'string',
              maxLength: 200,
              example: 'attachment; filename="memoria-ten_01J9Z3Q4W5E6R7T8Y9V0A1B2C3-2026-01-05.ndjson"',
            },
          },
        },
        content: { [NDJSON]: { schema: ExportFileSchema } },
      },
      ...problemResponses('insufficient_role'),
    },
  }),
  async (c) => {
    const q = c.req.valid('query');
    const labels: ExportLabels = { subject_id: q.subject_id ?? null, agent_id: q.agent_id ?? null };
    const { caller, results } = await runAsCaller(c, [exportStartStatement(c.env.DB, c.get('auth').sub, labels)]);
    requireRole(caller, 'owner');
    const tenant = results[0]!.results[0] as unknown as TenantExportRow;
    // The streamed pages run after the headers leave: Server-Timing counts them from the counts.
    const counts = [tenant.users, tenant.sessions, tenant.memories, tenant.audit_logs];
    c.get('d1').roundTrips += counts.reduce((sum, n) => sum + exportPagesFor(n, EXPORT_PAGE_ROWS), 0);
    const now = new Date();
    const filename = `memoria-${tenant.id}-${now.toISOString().slice(0, 10)}.ndjson`;
    return new Response(exportStream(c.env.DB, tenant, now, c.get('requestId'), labels), {
      status: 200,
      headers: {
        'content-type': NDJSON,
        'content-disposition': `attachment; filename="${filename}"`,
        'cache-control': 'no-store',
      },
    }) as never;
  },
);

/** Pull-based: one keyset page per read, so at most a page or two is ever held in memory. */
function exportStream(
  db: D1Database,
  tenant: TenantExportRow,
  now: Date,
  requestId: string,
  labels: ExportLabels,
): ReadableStream<Uint8Array> {
  const kinds = labels.subject_id || labels.agent_id ? (['memory'] as const) : EXPORT_KINDS;
  const encoder = new TextEncoder();
  const started = Date.now();
  const stats = { queries: 1, rows: 0, bytes: 0 };
  let kind = 0;
  let after = EXPORT_START;
  const emit = (controller: ReadableStreamDefaultController<Uint8Array>, lines: unknown[]) => {
    const chunk = encoder.encode(`${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    stats.bytes += chunk.byteLength;
    controller.enqueue(chunk);
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const counts = {
          users: tenant.users,
          memories: tenant.memories,
          sessions: tenant.sessions,
          audit_logs: tenant.audit_logs,
        };
        emit(controller, [
          {
            format: EXPORT_FORMAT,
            version: EXPORT_VERSION,
            tenant_id: tenant.id,
            exported_at: now.toISOString(),
            counts,
          },
          tenantLine(tenant),
        ]);
      },
      async pull(controller) {
        try {
          for (;;) {
            const current = kinds[kind];
            if (!current) {
              console.log(
                JSON.stringify({
                  event: 'export_done',
                  request_id: requestId,
                  tenant_id: tenant.id,
                  ...stats,
                  ms: Date.now() - started,
                }),
              );
              controller.close();
              return;
            }
            stats.queries++;
            const rows = (
              await exportPageStatement(
                db,
                current,
                tenant.id,
                after,
                EXPORT_PAGE_ROWS,
                EXPORT_PAGE_BYTES,
                labels,
              ).all()
            ).results as Record<string, unknown>[];
            const last = rows.at(-1);
            // A short page that was not cut by size is the kind's last: the next query would be empty.
            const lastOfKind = !last || (rows.length < EXPORT_PAGE_ROWS && rows.length === last._rows);
            if (lastOfKind) {
              kind++;
              after = EXPORT_START;
            } else after = [last.created_at as number, last.id as string];
            if (!last) continue;
            stats.rows += rows.length;
            emit(
              controller,
              rows.map((r) => exportLine(current, r)),
            );
            return;
          }
        } catch (err) {
          console.error(
            JSON.stringify({
              event: 'export_failed',
              request_id: requestId,
              tenant_id: tenant.id,
              message: err instanceof Error ? err.message : String(err),
            }),
          );
          controller.error(err);
        }
      },
    },
    { highWaterMark: 0 },
  );
}

const ImportQuerySchema = z.object({
  dry_run: queryFlag(
    '`true`: validate the chunk and report what would be written, per-line errors included, writing nothing.',
    true,
  ),
});

data.openapi(
  securedRoute(['manage:tenant'], {
    method: 'post',
    path: '/v1/import',
    operationId: 'importTenant',
    tags: ['Tenants'],
    summary: 'Import a chunk of an export (NDJSON)',
    description:
      `Owner only. Takes lines of the \`GET /v1/export\` format into the CALLER's tenant. A request is one chunk: at most ${MAX_BODY_BYTES} bytes and ${IMPORT_MAX_LINES} lines; ` +
      'split a larger export at line boundaries and send the chunks in order (users and sessions before the memories that reference them, as the export writes them). ' +
      'A chunk is all-or-nothing: any bad line and nothing of it is written (422 with one error per line). ' +
      'Every row gets a new id derived from the exported id and this tenant (returned in `id_map`), so re-sending a chunk skips what already exists. ' +
      'A live person arrives as a user who has not joined yet, with a pending invitation for their identity (`users_invited`): accepting it (`POST /v1/invitations/{id}/accept`) binds them, with their sessions and memories. ' +
      'A live service arrives bound. A user whose identity or email is already a user of this tenant (a service: of any tenant) is not created: their sessions and memories go to the caller. Imported sessions arrive ended. ' +
      'Header and tenant lines are accepted and ignored. Plan quotas apply (403 `quota_exceeded`).',
    request: {
      query: ImportQuerySchema,
      body: { required: true, content: { [NDJSON]: { schema: ImportChunkSchema } } },
    },
    responses: {
      200: {
        description: 'What was (or, in a dry run, would be) written',
        content: { 'application/json': { schema: ImportReportSchema } },
      },
      ...problemResponses('insufficient_role', 'conflict', 'quota_exceeded', 'import_invalid'),
    },
  }),
  async (c) => {
    const type = c.req.header('content-type') ?? '';
    if (mediaTypeEssence(type) !== NDJSON)
      throw new ApiError('unsupported_media_type', `The request body must be ${NDJSON}.`);
    const dryRun = c.req.valid('query').dry_run;
    const chunk = parseChunk(await c.req.text(), IMPORT_MAX_LINES);
    return c.json(await importChunk(c, chunk, dryRun), 200);
  },
);

async function importChunk(
  c: Context<AppEnv>,
  chunk: ReturnType<typeof parseChunk>,
  dryRun: boolean,
): Promise<ImportReport> {
  const db = c.env.DB;
  const sub = c.get('auth').sub;
  const users = chunk.lines.flatMap(({ line }) => (line.type === 'user' ? [line.data] : []));
  // 1. caller (owner?), identity conflicts, live users
  const first = await runAsCaller(c, [
    importUserConflictsStatement(
      db,
      sub,
      users.map((u) => u.auth0_id),
      users.map((u) => u.email.toLowerCase()),
    ),
  ]);
  const caller = first.caller;
  requireRole(caller, 'owner');
  const conflicts = first.results[0]!.results as { kind: string; value: string }[];
  // Across shards the directory knows the identities of other shards' tenants (services only: people are never bound).
  const services = users.filter((u) => u.auth0_id.endsWith('@clients')).map((u) => u.auth0_id);
  for (const elsewhere of await identitiesHeldElsewhere(c, services, caller.tenant_id))
    conflicts.push({ kind: 'auth0_id', value: elsewhere });
  // 2. which mapped ids exist already
  const ids = new Map<string, string>();
  for (const id of referencedIds(chunk.lines)) ids.set(id, await mappedId(caller.tenant_id, id));
  const second = await runAsCaller(c, [existingIdsStatement(db, sub, [...ids.values()])]);
  if (second.caller.tenant_id !== caller.tenant_id)
    throw new ApiError('conflict', "The caller's tenant changed during the import; retry.");
  const existing = new Set((second.results[0]!.results as { id: string }[]).map((r) => r.id));
  const now = Date.now();
  const plan = planImport(
    chunk.lines,
    ids,
    {
      existing,
      liveAuth0: new Set(conflicts.filter((r) => r.kind.startsWith('auth0_id')).map((r) => r.value)),
      liveAuth0Here: new Set(conflicts.filter((r) => r.kind === 'auth0_id_here').map((r) => r.value)),
      liveEmails: new Set(conflicts.filter((r) => r.kind === 'email').map((r) => r.value)),
    },
    caller,
    now,
  );
  const errors = [...chunk.errors, ...plan.errors];
  errors.push(
    ...quotaErrors(
      caller,
      plan,
      Number(conflicts.find((r) => r.kind === 'live_users')?.value ?? 0),
      vectorLimit(c.env),
    ),
  );
  const report: ImportReport = {
    dry_run: dryRun,
    valid: errors.length === 0,
    lines: chunk.count,
    created: {
      users: plan.rows.users.length,
      sessions: plan.rows.sessions.length,
      memories: plan.rows.memories.length,
      audit_logs: plan.rows.audit_logs.length,
    },
    skipped: { existing: plan.existing, ignored: chunk.ignored },
    users_mapped_to_importer: plan.mappedToImporter,
    users_invited: plan.invited,
    id_map: plan.idMap,
    errors: errors.slice(0, 100),
  };
  if (dryRun) return report;
  const quota = errors.find((e) => e.path === 'quota');
  if (quota) throw new ApiError('quota_exceeded', quota.message);
  if (errors.length > 0) {
    throw new ApiError('import_invalid', `${errors.length} line(s) of the chunk are invalid; nothing was written.`, {
      errors: report.errors,
    });
  }
  // 3. the chunk, all-or-nothing, with its audit row (nothing new: nothing to write or audit)
  const tables = ['users', 'sessions', 'memories', 'audit_logs'] as const satisfies ImportTable[];
  if (tables.every((t) => plan.rows[t].length === 0)) return report;
  const auditId = newId('aud', now);
  const meta = requestMeta(c);
  const inserts = tables.map((t) => importInsertStatements(db, sub, caller.tenant_id, t, plan.rows[t], auditId));
  const audit = auditStatement(
    db,
    sub,
    {
      id: auditId,
      action: 'tenant.import',
      resourceType: 'tenant',
      resourceId: caller.tenant_id,
      newValues: {
        lines: report.lines,
        created: report.created,
        skipped: report.skipped,
        users_mapped_to_importer: report.users_mapped_to_importer,
        users_invited: report.users_invited,
        id_map: report.id_map,
      },
    },
    meta,
    now,
    { sql: IMPORT_AUDIT_GUARD_SQL, params: [caller.tenant_id, plan.newLiveMemories, plan.newLiveUsers] },
  );
  const bound = plan.rows.users.flatMap((u) =>
    u.deleted_at === null && !String(u.auth0_id).startsWith('pending:') ? [String(u.auth0_id)] : [],
  );
  const results = await withImportedIdentities(c, caller.tenant_id, bound, async () => {
    let results: D1Result[];
    try {
      // The audit row first: the quota guard sees the state before this chunk, and every insert needs the row.
      // Imported history stays distinguishable from the tenant's own (AuditLog.imported).
      const mark = markImportedStatement(
        db,
        sub,
        plan.rows.audit_logs.map((r) => r.id as string),
        meta.requestId,
        now,
        auditId,
      );
      // After every table: an invitation references its user.
      const invitations = importInsertStatements(
        db,
        sub,
        caller.tenant_id,
        'invitations',
        plan.rows.invitations,
        auditId,
      );
      ({ results } = await runAsCaller(c, [
        audit,
        ...inserts.flat(),
        ...invitations,
        mark,
        auditExistsStatement(db, auditId),
      ]));
    } catch (err) {
      // Only a concurrent change (e.g. a user created meanwhile) can trip a constraint; nothing was written.
      if (!(err instanceof ApiError) && /constraint/i.test(err instanceof Error ? err.message : '')) {
        throw new ApiError(
          'conflict',
          'The chunk conflicts with a change made meanwhile; nothing was written. Retry it.',
        );
      }
      throw err;
    }
    if (!(results.at(-1)!.results[0] as { written: number }).written) {
      throw new ApiError(
        'quota_exceeded',
        `The chunk adds ${plan.newLiveMemories} memories and ${plan.newLiveUsers} users, which the ${caller.tenant_plan} plan no longer allows: another request added some meanwhile. Nothing was written.`,
      );
    }
    return results;
  });
  // Imported live memories with a vector join the vector index (a memory skipped as existing is rewritten as it was).
  await syncIndex(c.env, {
    upsert: plan.rows.memories.flatMap((m) =>
      m.embedding !== null && m.deleted_at === null
        ? [
            {
              id: m.id as string,
              tenant_id: caller.tenant_id,
              subject_id: (m.subject_id as string | null) ?? null,
              agent_id: (m.agent_id as string | null) ?? null,
              values: JSON.parse(m.embedding as string) as number[],
            },
          ]
        : [],
    ),
  });
  // Rows another request wrote meanwhile are skipped by ON CONFLICT: report what was written.
  let i = 1;
  const created = { ...report.created };
  let skippedNow = 0;
  tables.forEach((t, k) => {
    created[t] = inserts[k]!.reduce((sum) => sum + results[i++]!.results.length, 0);
    skippedNow += report.created[t] - created[t];
  });
  return { ...report, created, skipped: { ...report.skipped, existing: report.skipped.existing + skippedNow } };
}

function quotaErrors(caller: CallerRow, plan: ReturnType<typeof planImport>, liveUsers: number, vectorMax: number) {
  const limits = PLANS[caller.tenant_plan];
  const out = [];
  if (caller.tenant_memory_count + plan.newLiveMemories > limits.memories) {
    out.push({
      path: 'quota',
      message: `The chunk adds ${plan.newLiveMemories} memories; the ${caller.tenant_plan} plan allows ${limits.memories} and the tenant has ${caller.tenant_memory_count}.`,
    });
  }
  if (plan.newVectors > 0 && caller.tenant_vector_count + plan.newVectors > vectorMax) {
    out.push({
      path: 'quota',
      message: `The chunk adds ${plan.newVectors} vectors; the vector engine holds at most ${vectorMax} per tenant and the tenant has ${caller.tenant_vector_count}.`,
    });
  }
  if (liveUsers + plan.newLiveUsers > limits.users) {
    out.push({
      path: 'quota',
      message: `The chunk adds ${plan.newLiveUsers} users; the ${caller.tenant_plan} plan allows ${limits.users} and the tenant has ${liveUsers}.`,
    });
  }
  return out;
}
