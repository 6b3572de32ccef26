import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateSpec, SPEC_PATH } from '../../scripts/spec';

describe('published spec', () => {
  it('api/openapi.json matches what the routes generate (run `npm run spec` and commit)', () => {
    expect(readFileSync(SPEC_PATH, 'utf8')).toBe(generateSpec());
  });

  it('is generated deterministically', () => {
    expect(generateSpec()).toBe(generateSpec());
  });
});
