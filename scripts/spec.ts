// npm run spec: writes api/openapi.json from the route definitions, without starting a server.
// Deterministic: the document depends only on the code (no timestamps), 2-space JSON + newline.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../src/app';
import { buildOpenApiDocument } from '../src/lib/openapi';

export const SPEC_PATH = join(fileURLToPath(new URL('..', import.meta.url)), 'api', 'openapi.json');

export function generateSpec(): string {
  return JSON.stringify(buildOpenApiDocument(createApp()), null, 2) + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(SPEC_PATH, generateSpec());
  console.log(`wrote ${SPEC_PATH}`);
}
