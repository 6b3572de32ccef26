// Turns an NDJSON chunk into rows for the caller's tenant (no I/O here; see index.ts).
//
// IDs: every imported row gets a NEW id, derived deterministically from the importing tenant and
// the exported id: `<prefix>_` + the exported id's 10-character time part (so order by id still
// follows creation time) + 16 characters of SHA-256(tenant id + exported id). The same line sent
// twice maps to the same id (re-sending a chunk skips what exists), later chunks find rows of
// earlier chunks without any stored mapping, and the source tenant may still exist (ids are
// globally unique).
// Users: a person joins only by accepting an invitation with their own token, so an exported live
// person arrives unbound (auth0_id = pendingAuth0Id(invitation), which no token carries) together
// with a pending invitation for their identity; accepting it binds that user, with their sessions
// and memories. Whether the identity is a user elsewhere is never looked at (no oracle, no
// pre-claim). A live service (`<client_id>@clients`) arrives bound, unless that client is already a
// live user somewhere. A live user whose identity or email is already a user of this tenant is not
// created; what referenced them (sessions, memories) is mapped to the importing owner, and audit
// rows keep user_id NULL. Deleted users are imported as deleted.

import { EXPORT_FORMAT, EXPORT_VERSION, type ImportTable } from '../../db/export';
import { isPendingAuth0Id, pendingAuth0Id } from '../../db/invitations';
import { IMPORT_MAX_JSON_DEPTH, INVITATION_TTL_MS } from '../../lib/limits';
import { type FieldError, issueErrors } from '../../lib/problem';
import { nestsDeeperThan, unstorableJson } from '../../lib/schemas';
import { searchDoc } from '../../lib/search-text';
import { fromIso } from '../../lib/time';
import { toFloat32Hex } from '../../lib/vectors';
import { SERVICE_SUB } from '../users/schemas';
import { ExportHeaderSchema, type ImportLine, ImportLineSchema } from './schemas';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export async function mappedId(tenantId: string, exportedId: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${tenantId}\n${exportedId}`)),
  );
  let tail = '';
  for (let i = 0; i < 16; i++) tail += ALPHABET[digest[i]! % 32];
  return `${exportedId.slice(0, 4)}${exportedId.slice(4, 14)}${tail}`;
}

/** Parsed, schema-checked lines with their 1-based line numbers; errors name the line. */
export function parseChunk(body: string, maxLines: number) {
  const lines: { n: number; line: ImportLine }[] = [];
  const errors: FieldError[] = [];
  let ignored = 0;
  let count = 0;
  const raw = body.split('\n');
  for (let i = 0; i < raw.length; i++) {
    const textLine = raw[i]!.trim();
    if (!textLine) continue;
    count++;
    const path = `line ${i + 1}`;
    if (count > maxLines) {
      errors.push({ path, message: `a chunk holds at most ${maxLines} lines; send the rest in another request` });
      break;
    }
    let value: unknown;
    try {
      value = JSON.parse(textLine);
    } catch {
      errors.push({ path, message: 'is not valid JSON' });
      continue;
    }
    const bad = unstorable(value);
    if (bad) {
      errors.push({ path, message: bad });
      continue;
    }
    if (value && typeof value === 'object' && 'format' in value) {
      const header = ExportHeaderSchema.safeParse(value);
      if (!header.success) {
        const unknown = header.error.issues.filter((issue) => issue.code === 'unrecognized_keys');
        errors.push(...issueErrors(path, unknown));
        if (unknown.length < header.error.issues.length)
          errors.push({ path, message: `is not a ${EXPORT_FORMAT} version ${EXPORT_VERSION} header` });
      }
      ignored++;
      continue;
    }
    const parsed = ImportLineSchema.safeParse(value);
    if (!parsed.success) {
      errors.push(...issueErrors(path, parsed.error.issues.slice(0, 5)));
      continue;
    }
    if (parsed.data.type === 'tenant') ignored++;
    else lines.push({ n: i + 1, line: parsed.data });
  }
  return { lines, errors, ignored, count };
}

/** What would not be stored as sent (the rule every JSON body follows, lib/schemas.ts), or JSON nested too deep. */
function unstorable(value: unknown): string | null {
  if (nestsDeeperThan(value, IMPORT_MAX_JSON_DEPTH)) return `nests deeper than ${IMPORT_MAX_JSON_DEPTH} levels`;
  const bad = unstorableJson(value, 'line')[0];
  return bad ? `${bad.path.slice('line'.length + 1) || 'a value'} ${bad.message}` : null;
}

export interface Lookup {
  /** Mapped ids that already exist in the tenant. */
  existing: Set<string>;
  /** auth0 ids that are live users anywhere (asked for services only). */
  liveAuth0: Set<string>;
  /** auth0 ids that are live users of this tenant. */
  liveAuth0Here: Set<string>;
  /** Lower-cased emails of the tenant's live users. */
  liveEmails: Set<string>;
}

export interface Plan {
  rows: Record<ImportTable, Record<string, unknown>[]>;
  idMap: Record<string, string>;
  existing: number;
  mappedToImporter: string[];
  /** Exported person id → the invitation that binds their imported user. */
  invited: Record<string, string>;
  newLiveUsers: number;
  newLiveMemories: number;
  /** Memories with a vector (the d1 engine's per-tenant bound). */
  newVectors: number;
  errors: FieldError[];
}

/** Every id whose mapped form must be looked up: the rows' own and those they reference. */
export function referencedIds(lines: { line: ImportLine }[]): string[] {
  const ids = new Set<string>();
  for (const { line } of lines) {
    if (line.type === 'tenant') continue;
    const d = line.data as Record<string, unknown>;
    for (const key of ['id', 'user_id', 'session_id']) if (typeof d[key] === 'string') ids.add(d[key]);
    if (line.type === 'audit_log' && line.data.resource_id && /^(usr|ses|mem|aud)_/.test(line.data.resource_id))
      ids.add(line.data.resource_id);
  }
  return [...ids];
}

/** Builds the rows to insert. `ids` maps every exported id of `referencedIds` to its mapped id. */
export function planImport(
  lines: { n: number; line: ImportLine }[],
  ids: Map<string, string>,
  look: Lookup,
  caller: { user_id: string; tenant_id: string; tenant_embedding_dimensions?: number | null },
  now: number,
): Plan {
  const plan: Plan = {
    rows: { users: [], invitations: [], sessions: [], memories: [], audit_logs: [] },
    idMap: {},
    existing: 0,
    mappedToImporter: [],
    invited: {},
    newLiveUsers: 0,
    newLiveMemories: 0,
    newVectors: 0,
    errors: [],
  };
  const ms = (v: string | null) => (v === null ? null : fromIso(v)!);
  const importedUsers = new Set<string>(); // mapped ids of users that exist after this chunk
  const sessions = new Set<string>(); // mapped ids of sessions that exist after this chunk
  const userMap = new Map<string, string>();
  const emails = new Set(look.liveEmails);
  const auth0 = new Set(look.liveAuth0);
  const auth0Here = new Set(look.liveAuth0Here);
  /** The user a row of the import belongs to: the imported user, else the importing owner. */
  const owner = (exported: string) =>
    userMap.get(exported) ?? (look.existing.has(ids.get(exported)!) ? ids.get(exported)! : caller.user_id);
  /** For audit rows: the imported user, else nobody (history is not re-attributed). */
  const actor = (exported: string | null) => {
    if (exported === null) return null;
    const mapped = ids.get(exported)!;
    return importedUsers.has(mapped) || look.existing.has(mapped) ? mapped : null;
  };

  const lineOf = new Map<string, number>(); // exported id → the line that brought it
  for (const { n, line } of lines) {
    if (line.type === 'tenant') continue;
    const first = lineOf.get(line.data.id);
    if (first !== undefined) {
      // Which of two rows with one id would win is anyone's guess: refuse the chunk instead.
      plan.errors.push({ path: `line ${n}.data.id`, message: `repeats the id of line ${first}` });
      continue;
    }
    lineOf.set(line.data.id, n);
    const newId = ids.get(line.data.id)!;
    plan.idMap[line.data.id] = newId;
    const exists = look.existing.has(newId);
    if (exists) plan.existing++;
    switch (line.type) {
      case 'user': {
        const u = line.data;
        if (exists) {
          importedUsers.add(newId);
          userMap.set(u.id, newId);
          break;
        }
        const live = u.deleted_at === null;
        const service = SERVICE_SUB.test(u.auth0_id);
        if (live && service !== (u.kind === 'service')) {
          plan.errors.push({
            path: `line ${n}.data.kind`,
            message: service
              ? 'an auth0_id "<client_id>@clients" is a machine client: kind "service"'
              : 'a service user\'s auth0_id is "<client_id>@clients"',
          });
          break;
        }
        const taken = service ? auth0.has(u.auth0_id) : auth0Here.has(u.auth0_id);
        if (live && (taken || emails.has(u.email.toLowerCase()))) {
          userMap.set(u.id, caller.user_id);
          plan.idMap[u.id] = caller.user_id;
          plan.mappedToImporter.push(u.id);
          break;
        }
        let auth0Id = u.auth0_id;
        if (live) {
          auth0.add(u.auth0_id);
          auth0Here.add(u.auth0_id);
          emails.add(u.email.toLowerCase());
          plan.newLiveUsers++;
        }
        if (live && !service) {
          const invitationId = `inv_${newId.slice(4)}`;
          auth0Id = pendingAuth0Id(invitationId);
          plan.invited[u.id] = invitationId;
          plan.rows.invitations.push({
            id: invitationId,
            email: u.email,
            // An export of a user who had not joined yet: whoever proves the email accepts.
            auth0_id: isPendingAuth0Id(u.auth0_id) ? null : u.auth0_id,
            name: u.name,
            role: u.role,
            invited_by: caller.user_id,
            created_at: now,
            expires_at: now + INVITATION_TTL_MS,
            user_id: newId,
          });
        }
        importedUsers.add(newId);
        userMap.set(u.id, newId);
        plan.rows.users.push({
          ...u,
          id: newId,
          auth0_id: auth0Id,
          created_at: ms(u.created_at),
          updated_at: ms(u.updated_at),
          deleted_at: ms(u.deleted_at),
        });
        break;
      }
      case 'session': {
        const s = line.data;
        sessions.add(newId);
        if (exists) break;
        // A connection cannot move: live sessions arrive ended (expired_at = import time).
        plan.rows.sessions.push({
          ...s,
          id: newId,
          user_id: owner(s.user_id),
          metadata: JSON.stringify(s.metadata),
          created_at: ms(s.created_at),
          last_activity_at: ms(s.last_activity_at),
          expired_at: ms(s.expired_at) ?? now,
        });
        break;
      }
      case 'memory': {
        const m = line.data;
        const sessionId = m.session_id === null ? null : ids.get(m.session_id)!;
        if (sessionId !== null && !sessions.has(sessionId) && !look.existing.has(sessionId)) {
          plan.errors.push({
            path: `line ${n}.data.session_id`,
            message: `session ${m.session_id} is neither in this chunk nor imported before`,
          });
          break;
        }
        const expected = caller.tenant_embedding_dimensions ?? null;
        if (m.embedding !== null && m.embedding.length !== expected) {
          plan.errors.push({
            path: `line ${n}.data.embedding`,
            message:
              expected === null
                ? `has ${m.embedding.length} dimensions, but the tenant has no embedding configuration: set embedding.dimensions with PATCH /v1/tenant first`
                : `has ${m.embedding.length} dimensions; the tenant's embedding configuration expects ${expected}`,
          });
          break;
        }
        if (exists) break;
        if (m.deleted_at === null) plan.newLiveMemories++;
        if (m.embedding !== null) plan.newVectors++;
        plan.rows.memories.push({
          ...m,
          id: newId,
          user_id: m.user_id === null ? null : owner(m.user_id),
          session_id: sessionId,
          tags: JSON.stringify(m.tags),
          metadata: JSON.stringify(m.metadata),
          embedding: m.embedding === null ? null : JSON.stringify(m.embedding),
          vector: m.embedding === null ? null : toFloat32Hex(m.embedding),
          embedding_status: m.embedding === null ? null : 'current',
          search_doc: searchDoc(caller.tenant_id, m.content, m.tags),
          created_at: ms(m.created_at),
          updated_at: ms(m.updated_at),
          deleted_at: ms(m.deleted_at),
          expires_at: ms(m.expires_at),
        });
        break;
      }
      case 'audit_log': {
        const a = line.data;
        if (exists) break;
        plan.rows.audit_logs.push({
          ...a,
          id: newId,
          user_id: actor(a.user_id),
          resource_id:
            a.resource_id === null
              ? null
              : (userMap.get(a.resource_id) ??
                ids.get(a.resource_id) ??
                (a.resource_id.startsWith('ten_') ? caller.tenant_id : a.resource_id)),
          old_values: a.old_values === null || a.old_values === undefined ? null : JSON.stringify(a.old_values),
          new_values: a.new_values === null || a.new_values === undefined ? null : JSON.stringify(a.new_values),
          created_at: ms(a.created_at),
        });
        break;
      }
    }
  }
  return plan;
}
