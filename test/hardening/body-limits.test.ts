import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Schema, SpecSchemas } from '../fuzz/schema-arb';
import { createTenant } from '../helpers/fixtures';
import { call } from '../helpers/http';

// Every limit a JSON request body documents in the spec (maxLength, maxItems, maximum, minimum on
// each field, and maxLength of array items) is enforced: one step past it is a 422 naming the field.

interface BodyOp {
  method: string;
  path: string;
  operationId: string;
  schema: Schema;
}

let ops: BodyOp[] = [];
let schemas: SpecSchemas;
let token: string;
let memoryId: string;
let userId: string;
let webhookId: string;

const sample = <T>(arb: fc.Arbitrary<T>) => fc.sample(arb, { seed: 7, numRuns: 1 })[0]!;

/** Each documented bound of each field, as [label, field, value one step outside it]. */
function pastEveryLimit(schema: Schema): [string, string, unknown][] {
  const out: [string, string, unknown][] = [];
  for (const [field, raw] of Object.entries<Schema>(schema.properties ?? {})) {
    const s = schemas.resolve(raw);
    if (s.maxLength !== undefined) out.push([`maxLength ${s.maxLength}`, field, 'a'.repeat(s.maxLength + 1)]);
    if (s.maximum !== undefined) out.push([`maximum ${s.maximum}`, field, s.maximum + 1]);
    if (s.minimum !== undefined) out.push([`minimum ${s.minimum}`, field, s.minimum - 1]);
    if (s.maxItems !== undefined) {
      const items = schemas.resolve(s.items);
      const item = items.type === 'string' ? (i: number) => `item-${i}` : () => sample(schemas.valid(items));
      out.push([`maxItems ${s.maxItems}`, field, Array.from({ length: s.maxItems + 1 }, (_, i) => item(i))]);
      if (items.maxLength !== undefined)
        out.push([`items maxLength ${items.maxLength}`, field, ['a'.repeat(items.maxLength + 1)]]);
    }
  }
  return out;
}

beforeAll(async () => {
  const doc = await (await call('/openapi.json')).json<Schema>();
  schemas = new SpecSchemas(doc);
  ops = Object.entries<Schema>(doc.paths).flatMap(([path, item]) =>
    ['post', 'put', 'patch'].flatMap((method) => {
      const schema = item[method]?.requestBody?.content?.['application/json']?.schema;
      return schema
        ? [
            {
              method: method.toUpperCase(),
              path,
              operationId: item[method].operationId,
              schema: schemas.resolve(schema),
            },
          ]
        : [];
    }),
  );
  const t = await createTenant();
  token = await t.owner.token();
  const res = await call('/v1/memories', { method: 'POST', token, json: { content: 'limits probe' } });
  expect(res.status).toBe(201);
  memoryId = (await res.json<{ id: string }>()).id;
  userId = (await t.addUser('member')).id;
  const hook = await call('/v1/webhooks', {
    method: 'POST',
    token,
    json: { url: 'http://127.0.0.1:9/hook', enabled: false },
  });
  expect(hook.status).toBe(201);
  webhookId = (await hook.json<{ id: string }>()).id;
});

describe('documented body limits, on every write operation of the spec', () => {
  it('refuses each field one step past each documented bound with 422 naming it', async () => {
    let checked = 0;
    for (const op of ops) {
      const id = op.path.startsWith('/v1/users/') ? userId : op.path.startsWith('/v1/webhooks/') ? webhookId : memoryId;
      const path = op.path.replace(/\{[^}]+\}/g, id);
      // The smallest valid body: its required fields.
      const required = Object.fromEntries(
        (op.schema.required ?? []).map((k: string) => [k, sample(schemas.valid(op.schema.properties[k]))]),
      );
      for (const [label, field, value] of pastEveryLimit(op.schema)) {
        const res = await call(path, { method: op.method, token, json: { ...required, [field]: value } });
        const body = await res.json<{ code?: string; errors?: { path: string }[] }>();
        expect(res.status, `${op.operationId} ${field} past ${label}: ${JSON.stringify(body).slice(0, 300)}`).toBe(422);
        expect(
          body.errors?.some((e) => e.path.startsWith(`json.${field}`)),
          `${op.operationId} ${field} named`,
        ).toBe(true);
        checked++;
      }
    }
    console.log(`body limits: ${checked} bounds checked over ${ops.length} write operations`);
    expect(checked).toBeGreaterThanOrEqual(ops.length);
  });
});
