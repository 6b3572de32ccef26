import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CLIENT_PACKAGE_PATH,
  CLIENT_TABLES_PATH,
  CLIENT_TYPES_PATH,
  generateClientPackage,
  generateClientTables,
  generateClientTypes,
  generateSpec,
  SPEC_PATH,
} from '../../scripts/spec';

describe('generated files are committed up to date (run `npm run spec` and commit)', { timeout: 30_000 }, () => {
  it('api/openapi.json matches what the routes generate', () => {
    expect(readFileSync(SPEC_PATH, 'utf8')).toBe(generateSpec());
  });

  it('clients/src/schema.ts matches what openapi-typescript generates from the spec', async () => {
    expect(readFileSync(CLIENT_TYPES_PATH, 'utf8')).toBe(await generateClientTypes(generateSpec()));
  });

  it("clients/src/generated.ts and the client package's version match the spec", () => {
    const spec = generateSpec();
    expect(readFileSync(CLIENT_TABLES_PATH, 'utf8')).toBe(generateClientTables(spec));
    const pkg = readFileSync(CLIENT_PACKAGE_PATH, 'utf8');
    expect(pkg).toBe(generateClientPackage(spec, pkg));
    expect(JSON.parse(pkg).version).toBe(JSON.parse(spec).info.version);
  });

  it("types the client's error codes as the spec's ProblemCode enum, or string while there is none", () => {
    const spec = JSON.parse(generateSpec());
    spec.components.schemas.ProblemCode = { type: 'string', enum: ['not_found', 'rate_limited'] };
    const tables = generateClientTables(JSON.stringify(spec));
    expect(tables).toContain("export const PROBLEM_CODES = [\n  'not_found',\n  'rate_limited',\n] as const;");
    expect(tables).toContain('export type ProblemCode = (typeof PROBLEM_CODES)[number];');
    delete spec.components.schemas.ProblemCode;
    expect(generateClientTables(JSON.stringify(spec))).toContain('export type ProblemCode = string;');
  });

  it('is generated deterministically', async () => {
    const spec = generateSpec();
    expect(generateSpec()).toBe(spec);
    expect(await generateClientTypes(spec)).toBe(await generateClientTypes(spec));
  });
});
