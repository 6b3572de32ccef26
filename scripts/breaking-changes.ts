// npm run breaking [-- --base <git ref | file.json>] [--head <file.json>]
// Compares the spec the code generates (or --head) with the published one at the previous release:
// the latest git tag matching v*, else HEAD~ (or --base: a git ref or a JSON file). Reports removed
// operations, removed response fields, new required request fields and request bodies that newly
// refuse unknown fields, and exits 1 when there are any unless the major version changed (a
// declared breaking release) or each one is listed, with its reason, in
// api/accepted-breaking-changes.json (an intended contract change, reviewed like code).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

type Json = Record<string, any>;
export const METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options'] as const;

/** Follows local `$ref`s (`#/components/...`) to the object they point at. */
export function resolve(doc: Json, node: Json | undefined): Json | undefined {
  let n = node;
  for (let i = 0; n && typeof n.$ref === 'string' && i < 20; i++) {
    n = n.$ref
      .split('/')
      .slice(1)
      .reduce((acc: any, key: string) => acc?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  }
  return n;
}

/** Walks a schema's object properties (through $ref, allOf/anyOf/oneOf and array items). */
function walk(
  doc: Json,
  schema: Json | undefined,
  prefix: string,
  visit: (path: string, required: boolean, parentRequired: boolean) => void,
  parentRequired = true,
  seen = new Set<Json>(),
) {
  const s = resolve(doc, schema);
  if (!s || seen.has(s)) return;
  const next = new Set(seen).add(s);
  for (const key of ['allOf', 'anyOf', 'oneOf'])
    for (const sub of s[key] ?? []) walk(doc, sub, prefix, visit, parentRequired, next);
  if (s.items) walk(doc, s.items, `${prefix}[].`, visit, parentRequired, next);
  const required = new Set<string>(s.required ?? []);
  for (const [name, prop] of Object.entries<Json>(s.properties ?? {})) {
    visit(prefix + name, required.has(name), parentRequired);
    walk(doc, prop, `${prefix}${name}.`, visit, parentRequired && required.has(name), next);
  }
}

function operationsOf(doc: Json): Map<string, Json> {
  const ops = new Map<string, Json>();
  for (const [path, item] of Object.entries<Json>(doc.paths ?? {})) {
    for (const m of METHODS) if (item[m]) ops.set(`${m.toUpperCase()} ${path}`, item[m]);
  }
  return ops;
}

function responseFields(doc: Json, op: Json): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [status, r] of Object.entries<Json>(op.responses ?? {})) {
    if (!/^2/.test(status)) continue;
    for (const [type, media] of Object.entries<Json>(resolve(doc, r)?.content ?? {})) {
      // NDJSON is published as text; its fields are those of each line (x-item-schema).
      const schema = resolve(doc, media.schema)?.['x-item-schema'] ?? media.schema;
      const fields = new Set<string>();
      walk(doc, schema, '', (path) => fields.add(path));
      out.set(`${status} ${type}`, fields);
    }
  }
  return out;
}

/** Request fields a client must send: required body properties (under required parents) and required parameters. */
function requiredRequestFields(doc: Json, op: Json): Set<string> {
  const out = new Set<string>();
  for (const p of op.parameters ?? []) {
    const param = resolve(doc, p)!;
    if (param.required) out.add(`${param.in} parameter ${param.name}`);
  }
  const body = resolve(doc, op.requestBody);
  if (body) {
    for (const [type, media] of Object.entries<Json>(body.content ?? {})) {
      if (body.required) out.add(`body (${type})`);
      walk(doc, media.schema, `body.`, (path, required, parentRequired) => {
        if (required && parentRequired) out.add(path);
      });
    }
  }
  return out;
}

/** Request body objects (by path: `body`, `body.filter`, `body.memories[]`) declared with additionalProperties: false. */
function strictRequestObjects(doc: Json, op: Json): Set<string> {
  const out = new Set<string>();
  const visit = (schema: Json | undefined, path: string, seen: Set<Json>) => {
    const s = resolve(doc, schema);
    if (!s || seen.has(s)) return;
    const next = new Set(seen).add(s);
    for (const key of ['allOf', 'anyOf', 'oneOf']) for (const sub of s[key] ?? []) visit(sub, path, next);
    if (s.additionalProperties === false) out.add(path);
    if (s.items) visit(s.items, `${path}[]`, next);
    for (const [name, prop] of Object.entries<Json>(s.properties ?? {})) visit(prop, `${path}.${name}`, next);
  };
  const body = resolve(doc, op.requestBody);
  for (const media of Object.values<Json>(body?.content ?? {})) visit(media.schema, 'body', new Set());
  return out;
}

/** Every object of a request body (same paths as strictRequestObjects). */
function requestObjects(doc: Json, op: Json): Set<string> {
  const out = new Set<string>();
  const visit = (schema: Json | undefined, path: string, seen: Set<Json>) => {
    const s = resolve(doc, schema);
    if (!s || seen.has(s)) return;
    const next = new Set(seen).add(s);
    for (const key of ['allOf', 'anyOf', 'oneOf']) for (const sub of s[key] ?? []) visit(sub, path, next);
    if (s.properties) out.add(path);
    if (s.items) visit(s.items, `${path}[]`, next);
    for (const [name, prop] of Object.entries<Json>(s.properties ?? {})) visit(prop, `${path}.${name}`, next);
  };
  const body = resolve(doc, op.requestBody);
  for (const media of Object.values<Json>(body?.content ?? {})) visit(media.schema, 'body', new Set());
  return out;
}

export function breakingChanges(base: Json, head: Json): string[] {
  const changes: string[] = [];
  const headOps = operationsOf(head);
  for (const [key, baseOp] of operationsOf(base)) {
    const headOp = headOps.get(key);
    if (!headOp) {
      changes.push(`removed operation ${key}${baseOp.operationId ? ` (${baseOp.operationId})` : ''}`);
      continue;
    }
    const headResponses = responseFields(head, headOp);
    for (const [response, fields] of responseFields(base, baseOp)) {
      const now = headResponses.get(response);
      if (!now) {
        changes.push(`${key}: removed response ${response}`);
        continue;
      }
      for (const f of fields) if (!now.has(f)) changes.push(`${key}: removed response field ${f} (${response})`);
    }
    const before = requiredRequestFields(base, baseOp);
    for (const f of requiredRequestFields(head, headOp))
      if (!before.has(f)) changes.push(`${key}: new required request field ${f}`);
    // An object that accepted (and ignored) unknown fields now refuses them: old clients sending extras break.
    const wasStrict = strictRequestObjects(base, baseOp);
    const existed = requestObjects(base, baseOp);
    for (const path of strictRequestObjects(head, headOp))
      if (existed.has(path) && !wasStrict.has(path)) changes.push(`${key}: ${path} now refuses unknown fields`);
  }
  return changes;
}

export interface AcceptedChange {
  change: string;
  reason: string;
}

/** Splits `changes` into those accepted (listed with a non-empty reason) and the rest. */
export function applyAccepted(changes: string[], accepted: AcceptedChange[]) {
  for (const a of accepted)
    if (typeof a.change !== 'string' || typeof a.reason !== 'string' || a.reason.trim() === '')
      throw new Error(`accepted breaking change without a reason: ${JSON.stringify(a)}`);
  const reasons = new Map(accepted.map((a) => [a.change, a.reason]));
  return {
    accepted: changes.filter((c) => reasons.has(c)).map((c) => ({ change: c, reason: reasons.get(c)! })),
    rest: changes.filter((c) => !reasons.has(c)),
  };
}

export const ACCEPTED_FILE = 'api/accepted-breaking-changes.json';

const major = (version: unknown) => Number(String(version ?? '0').split('.')[0]);

export function majorChanged(base: Json, head: Json): boolean {
  return major(head.info?.version) > major(base.info?.version);
}

const git = (args: string[], cwd: string) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** The previous release: the latest tag matching v*, else HEAD~. */
export function defaultBaseRef(cwd: string): string {
  try {
    return git(['describe', '--tags', '--abbrev=0', '--match', 'v*'], cwd);
  } catch {
    return 'HEAD~';
  }
}

/** Loads the base spec from a JSON file or from api/openapi.json at a git ref. */
export function loadBase(base: string, cwd: string): { label: string; doc: Json } {
  if (existsSync(base)) return { label: base, doc: JSON.parse(readFileSync(base, 'utf8')) };
  return { label: `${base}:api/openapi.json`, doc: JSON.parse(git(['show', `${base}:api/openapi.json`], cwd)) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { base: { type: 'string' }, head: { type: 'string' } } });
  const cwd = fileURLToPath(new URL('..', import.meta.url));
  const headDoc: Json = values.head
    ? JSON.parse(readFileSync(values.head, 'utf8'))
    : JSON.parse((await import('./spec')).generateSpec());
  let base: ReturnType<typeof loadBase>;
  try {
    base = loadBase(values.base ?? defaultBaseRef(cwd), cwd);
  } catch (err) {
    console.error(
      `breaking-changes: no base spec to compare with (${err instanceof Error ? err.message.split('\n')[0] : err})`,
    );
    process.exit(values.base ? 2 : 0);
  }
  const acceptedPath = `${cwd}${ACCEPTED_FILE}`;
  const { accepted, rest: changes } = applyAccepted(
    breakingChanges(base.doc, headDoc),
    existsSync(acceptedPath) ? (JSON.parse(readFileSync(acceptedPath, 'utf8')).accepted ?? []) : [],
  );
  const versions = `${base.doc.info?.version} → ${headDoc.info?.version}`;
  for (const a of accepted) console.log(`breaking-changes: accepted (${ACCEPTED_FILE}): ${a.change} — ${a.reason}`);
  if (changes.length === 0) {
    console.log(`breaking-changes: none against ${base.label} (${versions})`);
  } else {
    console.log(`breaking-changes against ${base.label} (${versions}):\n${changes.map((c) => `  - ${c}`).join('\n')}`);
    if (majorChanged(base.doc, headDoc)) console.log('The major version changed: allowed.');
    else {
      console.error('Breaking changes need a major version bump (API_VERSION in src/lib/openapi.ts).');
      process.exit(1);
    }
  }
}
