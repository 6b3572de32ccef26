// The NDJSON export format (version 1): the schemas document GET /v1/export and validate every
// line POST /v1/import receives. Import limits mirror the database's CHECK constraints and the
// memory API's limits, so a line that passes never trips a constraint.
import { z } from '@hono/zod-openapi';
import { EXPORT_FORMAT, EXPORT_VERSION } from '../../db/export';
import { idPattern } from '../../lib/ids';
import {
  IMPORT_MAX_LINES,
  MAX_BODY_BYTES,
  MEMORY_CONTENT_MAX,
  MEMORY_EMBEDDING_MAX_DIMENSIONS,
  MEMORY_LABEL_MAX,
  MEMORY_METADATA_MAX_BYTES,
  MEMORY_SOURCE_MAX,
  MEMORY_TAG_MAX_CHARS,
  MEMORY_TAGS_MAX,
  SESSION_METADATA_MAX_BYTES,
} from '../../lib/limits';
import { metadataSchema } from '../../lib/schemas';
import { fromIso } from '../../lib/time';
import { labelFilter } from '../memories/schemas';

const MAX_INT = Number.MAX_SAFE_INTEGER;
const count = z.number().int().min(0).max(MAX_INT);
const time = z
  .string()
  .max(40)
  .refine((v) => fromIso(v) !== undefined, 'must be an RFC 3339 timestamp');
const id = (prefix: Parameters<typeof idPattern>[0]) =>
  z.string().max(30).regex(idPattern(prefix), `must be an id ${prefix}_…`);
const text = (min: number, max: number) => z.string().min(min).max(max);

export const ExportHeaderSchema = z
  .strictObject({
    format: z.literal(EXPORT_FORMAT),
    version: z.literal(EXPORT_VERSION),
    tenant_id: z.string().max(30),
    exported_at: z.string().max(40),
    counts: z.strictObject({ users: count, memories: count, sessions: count, audit_logs: count }),
  })
  .openapi('ExportHeader', {
    description: 'The first line: format, version and row counts at the start of the export.',
    example: {
      format: EXPORT_FORMAT,
      version: EXPORT_VERSION,
      tenant_id: 'ten_01J9Z3Q4W5E6R7T8Y9V0A1B2C3',
      exported_at: '2026-01-05T09:30:00.000Z',
      counts: { users: 3, memories: 1200, sessions: 14, audit_logs: 2400 },
    },
  });

export const ExportTenantLineSchema = z
  .strictObject({
    type: z.literal('tenant'),
    data: z.strictObject({
      id: z.string().max(30),
      name: z.string().max(200),
      plan: z.string().max(20),
      settings: z.record(z.string(), z.unknown()),
      memory_count: count,
      created_at: z.string().max(40),
      updated_at: z.string().max(40),
      deleted_at: z.string().max(40).nullable(),
    }),
  })
  .openapi('ExportTenantLine');

export const ExportUserLineSchema = z
  .strictObject({
    type: z.literal('user'),
    data: z.strictObject({
      id: id('usr'),
      auth0_id: text(1, 255),
      email: text(3, 320).regex(/.@./, 'must be an email address'),
      name: text(0, 200).nullable(),
      role: z.enum(['owner', 'admin', 'member']),
      kind: z.enum(['person', 'service']),
      created_at: time,
      updated_at: time,
      deleted_at: time.nullable(),
    }),
  })
  .openapi('ExportUserLine');

export const ExportSessionLineSchema = z
  .strictObject({
    type: z.literal('session'),
    data: z
      .strictObject({
        id: id('ses'),
        user_id: id('usr'),
        mcp_client_id: text(1, 200),
        metadata: metadataSchema(SESSION_METADATA_MAX_BYTES),
        created_at: time,
        last_activity_at: time,
        expired_at: time.nullable(),
      })
      .refine((s) => fromIso(s.last_activity_at)! >= fromIso(s.created_at)!, {
        message: 'last_activity_at must not be before created_at',
        path: ['last_activity_at'],
      }),
  })
  .openapi('ExportSessionLine');

export const ExportMemoryLineSchema = z
  .strictObject({
    type: z.literal('memory'),
    data: z
      .strictObject({
        id: id('mem'),
        user_id: id('usr').nullable(),
        session_id: id('ses').nullable(),
        content: text(1, MEMORY_CONTENT_MAX),
        tags: z.array(text(1, MEMORY_TAG_MAX_CHARS)).max(MEMORY_TAGS_MAX),
        metadata: metadataSchema(MEMORY_METADATA_MAX_BYTES),
        importance: z.number().int().min(1).max(10),
        access_scope: z.enum(['private', 'session', 'global']),
        source: text(1, MEMORY_SOURCE_MAX).nullable(),
        // Absent in exports made before subjects, agents and expiry existed.
        subject_id: text(1, MEMORY_LABEL_MAX)
          .regex(/^[^\x00-\x1f\x7f-\x9f]+$/, 'must not contain control characters')
          .nullable()
          .default(null),
        agent_id: text(1, MEMORY_LABEL_MAX)
          .regex(/^[^\x00-\x1f\x7f-\x9f]+$/, 'must not contain control characters')
          .nullable()
          .default(null),
        expires_at: time.nullable().default(null),
        embedding: z.array(z.number()).min(1).max(MEMORY_EMBEDDING_MAX_DIMENSIONS).nullable(),
        version: z
          .number()
          .int()
          .min(1)
          .max(2 ** 31 - 1),
        created_at: time,
        updated_at: time,
        deleted_at: time.nullable(),
      })
      .superRefine((m, ctx) => {
        if (m.access_scope === 'private' && !m.user_id)
          ctx.addIssue({ code: 'custom', path: ['user_id'], message: 'is required for a private memory' });
        if (m.access_scope === 'session' && (!m.user_id || !m.session_id))
          ctx.addIssue({
            code: 'custom',
            path: ['session_id'],
            message: 'user_id and session_id are required for a session memory',
          });
      }),
  })
  .openapi('ExportMemoryLine');

export const ExportAuditLogLineSchema = z
  .strictObject({
    type: z.literal('audit_log'),
    data: z.strictObject({
      id: id('aud'),
      user_id: id('usr').nullable(),
      action: text(1, 64),
      resource_type: text(1, 64),
      resource_id: text(1, 64).nullable(), // as AuditLog serves it
      old_values: z.unknown().nullable(),
      new_values: z.unknown().nullable(),
      ip: text(0, 64).nullable(),
      user_agent: text(0, 512).nullable(),
      request_id: text(0, 128).nullable(),
      created_at: time,
    }),
  })
  .openapi('ExportAuditLogLine');

export const ImportLineSchema = z.discriminatedUnion('type', [
  ExportTenantLineSchema,
  ExportUserLineSchema,
  ExportSessionLineSchema,
  ExportMemoryLineSchema,
  ExportAuditLogLineSchema,
]);
export type ImportLine = z.infer<typeof ImportLineSchema>;

/** Documents the NDJSON body: each line is the header or one of the row lines. */
export const ExportLineSchema = z
  .union([
    ExportHeaderSchema,
    ExportTenantLineSchema,
    ExportUserLineSchema,
    ExportSessionLineSchema,
    ExportMemoryLineSchema,
    ExportAuditLogLineSchema,
  ])
  .openapi('ExportLine', {
    description: 'One line of the NDJSON export (the first is the header).',
    example: {
      type: 'session',
      data: {
        id: 'ses_01J9Z3Q4W5E6R7T8Y9V0A1B2C3',
        user_id: 'usr_01J9Z3Q4W5E6R7T8Y9V0A1B2C3',
        mcp_client_id: 'claude-desktop',
        metadata: {},
        created_at: '2026-01-05T09:30:00.000Z',
        last_activity_at: '2026-01-05T09:42:10.512Z',
        expired_at: null,
      },
    },
  });

const counts = z.object({ users: count, sessions: count, memories: count, audit_logs: count });

export const ImportReportSchema = z
  .object({
    dry_run: z.boolean(),
    valid: z
      .boolean()
      .openapi({ description: 'false when a line has an error (dry run only: a real import with errors is a 422).' }),
    lines: count.openapi({ description: 'Non-empty lines read.' }),
    created: counts.openapi({ description: 'Rows written (dry run: rows that would be written).' }),
    skipped: z.object({
      existing: count.openapi({
        description: 'Rows already imported (same mapped id): re-sending a chunk is harmless.',
      }),
      ignored: count.openapi({
        description: "Header and tenant lines (the caller's tenant keeps its own name, plan and settings).",
      }),
    }),
    users_mapped_to_importer: z.array(z.string().max(30)).max(IMPORT_MAX_LINES).openapi({
      description:
        "Exported user ids whose identity or email is already a user of this tenant (a service's: of any tenant): their sessions and memories now belong to the caller.",
    }),
    users_invited: z.record(z.string().max(30), z.string().max(30)).openapi({
      description:
        'Exported person id → the pending invitation that binds their imported user once they accept it with their own token.',
    }),
    id_map: z
      .record(z.string().max(30), z.string().max(30))
      .openapi({ description: 'Exported id → id in this tenant, for every row of the chunk.' }),
    errors: z
      .array(z.object({ path: z.string().max(200), message: z.string().max(1000) }))
      .max(100)
      .openapi({ description: 'Per-line errors (`line N…`).' }),
  })
  .openapi('ImportReport', {
    example: {
      dry_run: false,
      valid: true,
      lines: 4,
      created: { users: 0, sessions: 1, memories: 2, audit_logs: 0 },
      skipped: { existing: 0, ignored: 1 },
      users_mapped_to_importer: ['usr_01J9Z3Q4W5E6R7T8Y9V0A1B2C3'],
      users_invited: {},
      id_map: {
        usr_01J9Z3Q4W5E6R7T8Y9V0A1B2C3: 'usr_01J9Z3Q4W5E6R7T8Y9V0A1B2C4',
        ses_01J9Z3Q4W5E6R7T8Y9V0A1B2C3: 'ses_01J9Z3Q4W5QX4M0B7N2C8D1E6F',
      },
      errors: [],
    },
  });

const LINE_SCHEMAS =
  'Each line is one `ExportLine`: the `ExportHeader` first, then `ExportTenantLine`, `ExportUserLine`, ' +
  '`ExportSessionLine`, `ExportMemoryLine` and `ExportAuditLogLine` lines (the schemas of the same names).';
/** NDJSON is text, not one JSON value: a generated client sends and reads it as is (a string, Blob or stream). */
const ndjson = { format: 'binary', contentMediaType: 'application/x-ndjson' } as const;

/** Inline, not a named component: generators send a body as is only when they see `format: binary` on it directly. */
export const ImportChunkSchema = z
  .string()
  .max(MAX_BODY_BYTES)
  .openapi({
    ...ndjson,
    description: `NDJSON lines of the export format (at most ${IMPORT_MAX_LINES} lines, ${MAX_BODY_BYTES} bytes). ${LINE_SCHEMAS}`,
    example:
      '{"type":"user","data":{"id":"usr_01J9Z3Q4W5E6R7T8Y9V0A1B2C3","auth0_id":"auth0|abc","email":"ann@example.com","name":null,"role":"member","kind":"person","created_at":"2026-01-05T09:30:00.000Z","updated_at":"2026-01-05T09:30:00.000Z","deleted_at":null}}\n',
  });

/** A D1 database holds at most 10 GB, so no tenant's export is longer. */
const EXPORT_MAX_BYTES = 10 * 1024 ** 3;

export const ExportFileSchema = z
  .string()
  .max(EXPORT_MAX_BYTES)
  .openapi('ExportFile', {
    ...ndjson,
    // The schema of each line, for tools that read it (OpenAPI 3.2 calls this itemSchema).
    'x-item-schema': { $ref: '#/components/schemas/ExportLine' },
    description: `The whole export as newline-delimited JSON: read it as text or a stream and parse each line. ${LINE_SCHEMAS}`,
    example:
      `{"format":"${EXPORT_FORMAT}","version":${EXPORT_VERSION},"tenant_id":"ten_01J9Z3Q4W5E6R7T8Y9V0A1B2C3","exported_at":"2026-01-05T09:30:00.000Z","counts":{"users":1,"sessions":0,"memories":0,"audit_logs":0}}\n` +
      '{"type":"user","data":{"id":"usr_01J9Z3Q4W5E6R7T8Y9V0A1B2C3","auth0_id":"auth0|abc","email":"ann@example.com","name":null,"role":"owner","kind":"person","created_at":"2026-01-05T09:30:00.000Z","updated_at":"2026-01-05T09:30:00.000Z","deleted_at":null}}\n',
  });
export type ImportReport = z.infer<typeof ImportReportSchema>;

export const ExportQuerySchema = z.object({
  subject_id: labelFilter('Export only the memories about one of these end users (`subject_id`).', 'alice'),
  agent_id: labelFilter('Export only the memories of one of these agents (`agent_id`).', 'support-bot'),
});
