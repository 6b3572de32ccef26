// MCP tools, each defined once from the REST operation it wraps: the operation is found by its
// operationId in the OpenAPI document generated from the route definitions, the tool's input
// schema is that operation's path, query and body schemas (so, the same zod schemas), and a call
// becomes a request to that operation (src/mcp/dispatch.ts). Nothing here restates a field.

/** A JSON Schema object (2020-12). */
export type JsonSchema = Record<string, unknown>;

export interface ToolSpec {
  name: string;
  title: string;
  operationId: string;
  /** Written for a model: when to use the tool, what it returns. */
  description: string;
  /** REST inputs the tool does not offer. `session_id` never is one: the MCP layer fills it in. */
  hidden: string[];
  /**
   * List and search filter by `session_id`: the tool offers `this_session` instead, which sends the
   * MCP session's id. Elsewhere `session_id` is always the MCP session's, so the session's own
   * session-scoped memories are visible and no other session's are.
   */
  sessionFilter?: boolean;
  /** Send an Idempotency-Key derived from the MCP session and the JSON-RPC request id. */
  idempotent?: boolean;
}

// Request headers are never tool inputs: the MCP layer sends Authorization, Idempotency-Key and
// X-Request-Id itself; If-Match and If-None-Match are not offered.
export const TOOLS: readonly ToolSpec[] = [
  {
    name: 'remember',
    title: 'Remember',
    operationId: 'createMemory',
    description:
      'Store a new memory: a short, self-contained fact worth knowing later (a preference, a decision, a name, a deadline). ' +
      'Write it so it makes sense on its own, add a few lowercase tags, and set `importance` (1 trivia … 10 critical). ' +
      '`access_scope`: `private` (default; only you), `global` (everyone in the tenant) or `session` (only this MCP session, ' +
      'gone from view once it ends; find it with `recall` or `list_memories` and `this_session: true`). ' +
      'The memory records this session as its origin. Returns the stored memory with its `id`.',
    hidden: ['embedding'],
    idempotent: true,
  },
  {
    name: 'recall',
    title: 'Recall',
    operationId: 'searchMemories',
    description:
      'Search memories by keywords before answering anything that may depend on what was learned earlier. ' +
      'Returns the best matches first (`data`: memories with a relevance `score` and a `snippet` where matches are wrapped in `<mark>`), ' +
      'and `next_cursor` when more follow (pass it back as `cursor`). Use plain words (`match: "any"` to accept any of them); filter by tags or importance. ' +
      'Set `this_session: true` to search only memories remembered in this MCP session, including its session-scoped ones.',
    hidden: ['include'],
    sessionFilter: true,
  },
  {
    name: 'get_memory',
    title: 'Get a memory',
    operationId: 'getMemory',
    description:
      'Fetch one memory by its `id` (`mem_…`), e.g. to read its full content after `recall` or before `update_memory`. ' +
      'Returns the memory, including `deleted_at` if it was forgotten.',
    hidden: ['include'],
  },
  {
    name: 'list_memories',
    title: 'List memories',
    operationId: 'listMemories',
    description:
      'Browse memories newest first (or `order: "asc"`), optionally filtered by tags, importance, scope or creation time; use `recall` to search by content. ' +
      'Returns a page (`data`) and `next_cursor` when more follow (pass it back as `cursor`). ' +
      'Set `this_session: true` to list only memories remembered in this MCP session.',
    hidden: ['include'],
    sessionFilter: true,
  },
  {
    name: 'update_memory',
    title: 'Update a memory',
    operationId: 'updateMemory',
    description:
      'Correct or refine a memory by `id`: give only the fields to change (`content`, `tags` — replaces all tags, `metadata`, `importance`, `access_scope`). ' +
      'Prefer this over remembering a contradicting fact. Returns the updated memory (its `version` goes up by one).',
    hidden: ['include'],
  },
  {
    name: 'tag_memory',
    title: 'Tag a memory',
    operationId: 'addMemoryTags',
    description:
      'Add tags to a memory by `id`, keeping its existing ones (tags it already has are ignored). Returns the memory with all its tags.',
    hidden: ['include'],
    idempotent: true,
  },
  {
    name: 'forget',
    title: 'Forget a memory',
    operationId: 'deleteMemory',
    description:
      'Forget a memory by `id` when it is wrong, outdated or the user asks you to. It disappears from recall and lists at once ' +
      '(a soft delete: it can be restored through the REST API). Returns a confirmation.',
    hidden: ['permanent'],
  },
];

interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  description?: string;
  style?: string;
  schema?: JsonSchema;
}

interface OpenApiOperation {
  operationId?: string;
  summary?: string;
  security?: Record<string, string[]>[];
  parameters?: OpenApiParameter[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

/** Where each tool input goes in the REST request. */
export type Location = 'path' | 'query' | 'body';

export interface Tool {
  spec: ToolSpec;
  method: string;
  /** OpenAPI path template, e.g. `/v1/memories/{id}`. */
  path: string;
  summary: string;
  /** The scopes the operation declares (its OpenAPI `security`). */
  scopes: string[];
  inputSchema: JsonSchema;
  locations: Map<string, Location>;
  /** Query parameters sent as `name[key]=value` (OpenAPI style deepObject). */
  deepObject: Set<string>;
  /** Whether the operation takes a JSON body. */
  hasBody: boolean;
  /** Where the operation takes `session_id`: a query parameter, or a body field (maybe in a nested filter object). */
  sessionAt?: { where: Location; path: string[] };
}

const THIS_SESSION: JsonSchema = {
  type: 'boolean',
  default: false,
  description: 'Only memories remembered in this MCP session (and this session’s session-scoped ones).',
};

/** Builds every tool from the document; throws if an operation is missing (caught by the tests). */
export function buildTools(doc: OpenApiDocument): Map<string, Tool> {
  const byId = new Map<string, { method: string; path: string; op: OpenApiOperation }>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (op?.operationId) byId.set(op.operationId, { method: method.toUpperCase(), path, op });
    }
  }
  const tools = new Map<string, Tool>();
  for (const spec of TOOLS) {
    const found = byId.get(spec.operationId);
    if (!found) throw new Error(`MCP tool ${spec.name}: no operation ${spec.operationId}`);
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    const locations = new Map<string, Location>();
    let sessionAt: Tool['sessionAt'];
    const add = (name: string, where: Location, schema: JsonSchema, isRequired: boolean) => {
      if (name === 'session_id') sessionAt = { where, path: [name] };
      else {
        const nested = schema.properties as Record<string, JsonSchema> | undefined;
        if (where === 'body' && nested?.session_id) {
          // e.g. `filter.session_id`: the MCP layer's too, so it leaves the nested schema.
          const { session_id: _owned, ...rest } = nested;
          const required = (schema.required as string[] | undefined)?.filter((r) => r !== 'session_id');
          schema = { ...schema, properties: rest, ...(required ? { required } : {}) };
          sessionAt = { where, path: [name, 'session_id'] };
        }
      }
      if (name === 'session_id' || spec.hidden.includes(name)) return;
      if (locations.has(name))
        throw new Error(`MCP tool ${spec.name}: input ${name} is both ${locations.get(name)} and ${where}`);
      locations.set(name, where);
      properties[name] = schema;
      if (isRequired) required.push(name);
    };
    const deepObject = new Set<string>();
    for (const p of found.op.parameters ?? []) {
      if (p.in !== 'path' && p.in !== 'query') continue;
      if (p.style === 'deepObject') deepObject.add(p.name);
      const schema = toJsonSchema(resolve(doc, p.schema ?? {}));
      if (p.description && !schema.description) schema.description = p.description;
      add(p.name, p.in, schema, p.in === 'path' || p.required === true);
    }
    const body = found.op.requestBody?.content?.['application/json']?.schema;
    if (body) {
      const resolved = toJsonSchema(resolve(doc, body));
      const fields = (resolved.properties ?? {}) as Record<string, JsonSchema>;
      const needed = new Set((resolved.required ?? []) as string[]);
      for (const [name, schema] of Object.entries(fields)) add(name, 'body', schema, needed.has(name));
    }
    if (spec.sessionFilter) properties.this_session = THIS_SESSION;
    tools.set(spec.name, {
      spec,
      method: found.method,
      path: found.path,
      summary: found.op.summary ?? spec.title,
      scopes: found.op.security?.[0]?.bearerAuth ?? [],
      inputSchema: {
        type: 'object',
        properties,
        ...(required.length ? { required } : {}),
        additionalProperties: false,
      },
      locations,
      deepObject,
      hasBody: body !== undefined,
      sessionAt,
    });
  }
  return tools;
}

/** Inlines `#/components/schemas/…` references (the component schemas have no cycles). */
function resolve(doc: OpenApiDocument, node: unknown, depth = 0): JsonSchema {
  if (depth > 32) throw new Error('schema nesting too deep');
  if (Array.isArray(node)) return node.map((n) => resolve(doc, n, depth + 1)) as unknown as JsonSchema;
  if (!node || typeof node !== 'object') return node as JsonSchema;
  const ref = (node as { $ref?: unknown }).$ref;
  if (typeof ref === 'string') {
    const name = ref.replace('#/components/schemas/', '');
    const target = doc.components?.schemas?.[name];
    if (!target) throw new Error(`unresolved ${ref}`);
    return resolve(doc, target, depth + 1);
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolve(doc, v, depth + 1)]));
}

// OpenAPI-only integer formats: annotations a JSON Schema validator does not know.
const OPENAPI_FORMATS = new Set(['int32', 'int64', 'float', 'double']);

/**
 * An OpenAPI 3.1 schema object as plain JSON Schema 2020-12: `example` becomes `examples`, the
 * OpenAPI number formats go. Walks only schema positions, so a property named `example` stays.
 */
export function toJsonSchema(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'example') out.examples = [value];
    else if (key === 'format' && OPENAPI_FORMATS.has(value as string)) continue;
    else if (key === 'properties' || key === 'patternProperties' || key === '$defs')
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, toJsonSchema(v)]),
      );
    else if (['anyOf', 'oneOf', 'allOf', 'prefixItems'].includes(key))
      out[key] = (value as JsonSchema[]).map(toJsonSchema);
    else if (
      ['items', 'not', 'additionalProperties', 'propertyNames', 'contains'].includes(key) &&
      value &&
      typeof value === 'object'
    )
      out[key] = toJsonSchema(value as JsonSchema);
    else out[key] = value;
  }
  return out;
}
