// Run by test/e2e/generated-sdk.test.ts against the running Worker, with an SDK that
// @hey-api/openapi-ts generated from api/openapi.json into ./sdk: only generated code, no
// serializer, parser or fetch written by hand. Type-checked under --strict before it runs.
import assert from 'node:assert/strict';
import {
  createMemory,
  createTenant,
  exportTenant,
  getMemory,
  importTenant,
  listMemories,
  type ProblemCode,
  searchMemories,
  updateMemory,
} from './sdk';
import { client } from './sdk/client.gen';

client.setConfig({ baseUrl: process.env.MEMORIA_URL, auth: process.env.MEMORIA_TOKEN });

const tenant = await createTenant({ body: { name: 'SDK Inc', email: 'owner@sdk.test' } });
assert.equal(tenant.response.status, 201, JSON.stringify(tenant.error));

const contents = ['Prefers dark mode in every app.', 'Lives in Lisbon.', 'Drinks green tea.'];
const ids: string[] = [];
for (const content of contents) {
  const created = await createMemory({ body: { content, tags: ['sdk'] } });
  assert.equal(created.response.status, 201, JSON.stringify(created.error));
  ids.push(created.data!.id);
}

// Get, then patch with If-Match: the current ETag applies, the same one again is stale (412).
const got = await getMemory({ path: { id: ids[0]! } });
assert.equal(got.data?.content, contents[0]);
const etag = got.response.headers.get('etag');
assert.ok(etag);
const patched = await updateMemory({ path: { id: ids[0]! }, headers: { 'If-Match': etag }, body: { importance: 9 } });
assert.equal(patched.data?.importance, 9, JSON.stringify(patched.error));
const stale = await updateMemory({ path: { id: ids[0]! }, headers: { 'If-Match': etag }, body: { importance: 2 } });
assert.equal(stale.response.status, 412);
const code: ProblemCode | undefined = stale.error?.code;
assert.equal(code, 'precondition_failed');

// A list walked with its cursor.
const seen: string[] = [];
let cursor: string | undefined;
do {
  const page = await listMemories({ query: { limit: 2, ...(cursor ? { cursor } : {}) } });
  assert.ok(page.data, JSON.stringify(page.error));
  seen.push(...page.data.data.map((m) => m.id));
  cursor = page.data.next_cursor ?? undefined;
} while (cursor);
assert.deepEqual([...seen].sort(), [...ids].sort());

const found = await searchMemories({ query: { q: 'lisbon' } });
assert.deepEqual(
  found.data?.data.map((hit) => hit.id),
  [ids[1]],
);

// Export: NDJSON, read as the generated client returns it (a Blob), one JSON value per line.
const exported = await exportTenant();
assert.equal(exported.response.status, 200, JSON.stringify(exported.error));
assert.ok(exported.data instanceof Blob);
const ndjson = await exported.data.text();
const lines = ndjson
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line) as { type?: string });
const memoryLines = lines.filter((line) => line.type === 'memory').length;

// Import: the export sent back as is (the generated client passes a Blob through untouched).
const dryRun = await importTenant({ body: new Blob([ndjson]), query: { dry_run: true } });
assert.equal(dryRun.data?.valid, true, JSON.stringify(dryRun.error ?? dryRun.data));
const imported = await importTenant({ body: new Blob([ndjson]) });
assert.equal(imported.response.status, 200, JSON.stringify(imported.error));

console.log(
  JSON.stringify({
    created: ids.length,
    listed: seen.length,
    found: found.data?.data.length,
    exportedLines: lines.length,
    memoryLines,
    importedMemories: imported.data?.created.memories,
  }),
);
