import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Schema } from './schema-arb';

export interface Operation {
  method: string;
  path: string;
  operationId: string;
  spec: Schema;
  /** Parameters with `$ref`s resolved. */
  params: Schema[];
  body: Schema | undefined;
  secured: boolean;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Every operation of the published document. */
export function operationsOf(doc: Schema): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries<Schema>(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p: Schema) =>
        p.$ref
          ? p.$ref
              .replace(/^#\//, '')
              .split('/')
              .reduce((n: Schema, k: string) => n[k], doc)
          : p,
      );
      out.push({
        method: method.toUpperCase(),
        path,
        operationId: op.operationId,
        spec: op,
        params,
        body: op.requestBody?.content?.['application/json']?.schema,
        secured: (op.security ?? doc.security ?? []).length > 0,
      });
    }
  }
  return out;
}

/** Follows a local `$ref` (`#/components/responses/...`) to what it names. */
export function deref(doc: Schema, node: Schema | undefined): Schema | undefined {
  if (typeof node?.$ref !== 'string') return node;
  return node.$ref
    .replace(/^#\//, '')
    .split('/')
    .reduce((n: Schema | undefined, k: string) => n?.[k], doc);
}

/**
 * Validates response bodies against the document's schemas (OpenAPI 3.1 = JSON Schema 2020-12).
 * Component refs are rewritten to point into one registered schema.
 */
export function responseValidator(doc: Schema) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const rewrite = <T>(value: T): T =>
    JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', '"spec#/$defs/'));
  ajv.addSchema({ $id: 'spec', $defs: rewrite(doc.components?.schemas ?? {}) });
  const cache = new Map<string, ReturnType<typeof ajv.compile>>();
  return (op: Operation, status: number, contentType: string | null, body: unknown): string | null => {
    const declared = deref(doc, op.spec.responses?.[String(status)]);
    if (!declared)
      return `status ${status} is not declared (declared: ${Object.keys(op.spec.responses ?? {}).join(', ')})`;
    const content = declared.content as Record<string, { schema?: Schema }> | undefined;
    if (!content) return body === undefined ? null : `status ${status} declares no body but one was sent`;
    const type = (contentType ?? '').split(';')[0]!.trim();
    const media = content[type];
    if (!media)
      return `content-type ${type} is not declared for ${status} (declared: ${Object.keys(content).join(', ')})`;
    if (!media.schema) return null;
    // NDJSON is published as text (ExportFile); each of its lines is one value of its x-item-schema.
    const schema = (type === 'application/x-ndjson' && deref(doc, media.schema)?.['x-item-schema']) || media.schema;
    const key = `${op.operationId} ${status} ${type}`;
    let validate = cache.get(key);
    if (!validate) cache.set(key, (validate = ajv.compile(rewrite(schema))));
    return validate(body)
      ? null
      : `body does not match the ${status} schema: ${ajv.errorsText(validate.errors, { dataVar: 'body' })}`;
  };
}
