import fc from 'fast-check';

// JSON Schema (OpenAPI 3.1) → fast-check arbitraries: valid values, boundary values and the
// invalid variants a hostile client would send. Only what the published spec uses is handled.

export type Schema = Record<string, any>;

export class SpecSchemas {
  constructor(private readonly doc: Schema) {}

  resolve(schema: Schema | undefined): Schema {
    let s = schema ?? {};
    for (let i = 0; s.$ref && i < 20; i++) {
      const path = String(s.$ref).replace(/^#\//, '').split('/');
      s = path.reduce((node: Schema, key) => node?.[key], this.doc) ?? {};
    }
    return s;
  }

  /** Values the schema accepts (bounded sizes, with the exact bounds now and then). */
  valid(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
    const s = this.resolve(schema);
    if ('const' in s) return fc.constant(s.const);
    if (s.enum) return fc.constantFrom(...s.enum);
    const alternatives = s.anyOf ?? s.oneOf;
    if (alternatives) return fc.oneof(...alternatives.map((a: Schema) => this.valid(a, depth)));
    if (s.allOf) return this.valid(Object.assign({}, ...s.allOf.map((a: Schema) => this.resolve(a))), depth);
    const types: string[] = Array.isArray(s.type)
      ? s.type
      : s.type
        ? [s.type]
        : s.properties
          ? ['object']
          : ['string', 'integer', 'boolean'];
    return fc.oneof(...types.map((t) => this.validOfType(t, s, depth)));
  }

  private validOfType(type: string, s: Schema, depth: number): fc.Arbitrary<unknown> {
    switch (type) {
      case 'null':
        return fc.constant(null);
      case 'boolean':
        return fc.boolean();
      case 'integer':
      case 'number': {
        const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -1000);
        const max =
          s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : Math.max(min + 1000, 1000));
        const int = fc.integer({ min: Math.ceil(min), max: Math.floor(max) });
        return type === 'integer'
          ? fc.oneof(int, fc.constantFrom(Math.ceil(min), Math.floor(max)))
          : fc.oneof(int, fc.double({ min, max, noNaN: true, noDefaultInfinity: true }));
      }
      case 'string':
        return this.validString(s);
      case 'array': {
        const minLength = s.minItems ?? 0;
        const maxLength = Math.min(s.maxItems ?? 5, minLength + 5);
        const items = this.valid(s.items, depth + 1);
        return s.uniqueItems
          ? fc.uniqueArray(items, { minLength, maxLength, selector: (v) => JSON.stringify(v) })
          : fc.array(items, { minLength, maxLength });
      }
      case 'object': {
        const props: Record<string, Schema> = s.properties ?? {};
        const required = new Set<string>(s.required ?? []);
        if (depth > 4) return fc.constant({});
        const shape: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [k, v] of Object.entries(props)) shape[k] = this.valid(v, depth + 1);
        const known = fc.record(shape, { requiredKeys: [...required].filter((k) => k in shape) });
        if (s.additionalProperties && typeof s.additionalProperties === 'object' && Object.keys(props).length === 0) {
          const maxKeys = Math.min(s.maxProperties ?? 4, 4);
          return fc.dictionary(
            fc.string({ minLength: 1, maxLength: 20 }).filter((k) => /^[A-Za-z0-9_.-]+$/.test(k)),
            this.valid(s.additionalProperties, depth + 1),
            { maxKeys },
          );
        }
        return known;
      }
      default:
        return fc.constant(null);
    }
  }

  private validString(s: Schema): fc.Arbitrary<string> {
    const min = s.minLength ?? 0;
    const max = s.maxLength ?? 200;
    if (s.pattern) return fc.stringMatching(new RegExp(s.pattern)).filter((v) => v.length >= min && v.length <= max);
    switch (s.format) {
      case 'date-time':
        return fc
          .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
          .map((d) => d.toISOString());
      case 'email':
        return fc.emailAddress().filter((v) => v.length <= max);
      case 'uri':
      case 'url':
        return fc.webUrl().filter((v) => v.length <= max);
      case 'uuid':
        return fc.uuid();
    }
    const short = fc.string({ minLength: min, maxLength: Math.min(max, min + 30) });
    const unicode = fc.string({ unit: 'grapheme', minLength: min, maxLength: Math.min(max, min + 10) });
    const atMax = fc.string({ unit: 'grapheme-ascii', minLength: max, maxLength: max });
    return fc
      .oneof(
        { weight: 6, arbitrary: short },
        { weight: 2, arbitrary: unicode },
        { weight: max <= 100_000 ? 1 : 0, arbitrary: atMax },
      )
      .filter((v) => v.length >= min && v.length <= max);
  }

  /** Values just outside the schema, or of the wrong kind. */
  invalid(schema: Schema | undefined): fc.Arbitrary<unknown> {
    const s = this.resolve(schema);
    const out: fc.Arbitrary<unknown>[] = [HOSTILE];
    if (s.maxLength !== undefined) out.push(fc.constant('y'.repeat(s.maxLength + 1)));
    if (s.minLength) out.push(fc.constant(''));
    if (s.maximum !== undefined) out.push(fc.constantFrom(s.maximum + 1, String(s.maximum)));
    if (s.minimum !== undefined) out.push(fc.constantFrom(s.minimum - 1, -1));
    if (s.maxItems !== undefined)
      out.push(fc.constant(Array.from({ length: s.maxItems + 1 }, (_, i) => (s.items ? `v${i}` : i))));
    if (s.enum) out.push(fc.constant(`not-${String(s.enum[0])}`));
    return fc.oneof(...out);
  }
}

/** Values no field should accept as-is, or that must survive as plain data. */
export const HOSTILE: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    true,
    0,
    -1,
    1e308,
    -0,
    '',
    ' ',
    '5',
    '-1',
    'NaN',
    '\u0000',
    'a\u0000b',
    '\uD800',
    '\uFEFF\u202E\u2028',
    'e\u0301\u0301\u0301',
    '💥'.repeat(100),
    "' OR 1=1 --",
    '"; DROP TABLE memories; --',
    '<script>alert(1)</script>',
    '../../etc/passwd',
    '%00',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, sent as text
    '${7*7}',
    '__proto__',
    [],
    {},
    { __proto__: { admin: true } },
    [null],
  ),
  fc.constant('x'.repeat(100_000)),
  fc.integer(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(50, 1000).map((d) => JSON.parse('['.repeat(d) + ']'.repeat(d))),
);

/** Fields a client must never be able to set (mass assignment). */
export const PRIVILEGED_FIELDS = [
  'tenant_id',
  'user_id',
  'role',
  'plan',
  'version',
  'id',
  'created_at',
  'deleted_at',
  'memory_count',
] as const;
