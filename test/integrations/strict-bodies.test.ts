import { describe, expect, it } from 'vitest';
import { call, expectProblem } from '../memories/helpers';
import { createWorld, describeOp, fixtureFor, invoke, loadSpec, v1Operations } from '../security/operations';

const spec = await loadSpec();
const jsonBodies = (await v1Operations(spec)).filter((op) => op.hasBody && op.contentType === 'application/json');

describe('strict JSON bodies', () => {
  it('covers every JSON write body of the spec, each declared with additionalProperties: false', () => {
    expect(jsonBodies.length).toBeGreaterThanOrEqual(11);
    const schemas = (spec as unknown as { components: { schemas: Record<string, Record<string, unknown>> } }).components
      .schemas;
    for (const op of jsonBodies) {
      const raw = (
        spec.paths[op.path]![op.method.toLowerCase()] as unknown as {
          requestBody: { content: { 'application/json': { schema: { $ref?: string } & Record<string, unknown> } } };
        }
      ).requestBody.content['application/json'].schema;
      const schema = raw.$ref ? schemas[raw.$ref.split('/').pop()!]! : raw;
      expect(schema.additionalProperties, describeOp(op)).toBe(false);
    }
  });

  for (const op of jsonBodies) {
    it(`${describeOp(op)}: an unknown field is a 422 naming it`, async () => {
      const world = await createWorld('Strict');
      const fixture = fixtureFor(op);
      const params = fixture.params ? await fixture.params(world) : undefined;
      const body = { ...((fixture.body?.(world) as Record<string, unknown>) ?? {}), unexpected_field: 1 };
      const res = await invoke(op, await world.owner.token(), { params, query: fixture.query?.(world), body });
      const problem = await expectProblem(res, 422, 'validation_failed');
      expect(problem.errors).toContainEqual({ path: 'json.unexpected_field', message: 'is not a known field' });
    });
  }

  it('nested objects are strict too: a batch item and a bulk-delete filter name the field at its path', async () => {
    const world = await createWorld('Strict nested');
    const token = await world.owner.token();
    const batch = await call('/v1/memories/batch', {
      method: 'POST',
      token,
      json: { memories: [{ content: 'ok' }, { content: 'x', user_id: 'alice' }] },
    });
    expect((await expectProblem(batch, 422, 'validation_failed')).errors).toContainEqual({
      path: 'json.memories.1.user_id',
      message: 'is not a known field',
    });
    const bulk = await call('/v1/memories/bulk-delete', {
      method: 'POST',
      token,
      json: { filter: { subject: 'alice' }, mode: 'purge' },
    });
    expect((await expectProblem(bulk, 422, 'validation_failed')).errors).toContainEqual({
      path: 'json.filter.subject',
      message: 'is not a known field',
    });
    const listed = (await (await call('/v1/memories', { token })).json()) as { data: unknown[] };
    expect(listed.data).toEqual([]);
  });
});
