import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLIENT_TYPES_PATH, generateClientTypes, generateSpec, SPEC_PATH } from '../../scripts/spec';

describe('generated files are committed up to date (run `npm run spec` and commit)', { timeout: 30_000 }, () => {
  it('api/openapi.json matches what the routes generate', () => {
    expect(readFileSync(SPEC_PATH, 'utf8')).toBe(generateSpec());
  });

  it('clients/src/schema.ts matches what openapi-typescript generates from the spec', async () => {
    expect(readFileSync(CLIENT_TYPES_PATH, 'utf8')).toBe(await generateClientTypes(generateSpec()));
  });

  it('is generated deterministically', { timeout: 30_000 }, async () => {
    const spec = generateSpec();
    expect(generateSpec()).toBe(spec);
    expect(await generateClientTypes(spec)).toBe(await generateClientTypes(spec));
  });
});
