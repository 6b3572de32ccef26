// The demo data `npm start` seeds into a local D1 (and the docs "Try it" browser test seeds the
// same): a tenant, its subscription, its owner (the dev token's subject), one memory and that
// memory's audit row. Fixed ids (src/lib/ids.ts demoId) that the spec's examples use, so every
// "Try it" with a path id finds a row on the first click. INSERT OR IGNORE: a restart keeps what
// is there, and seeds nothing twice.
import { tsImport } from 'tsx/esm/api';
import { DEMO } from './dev-auth.mjs';

const { demoId } = await tsImport('../src/lib/ids.ts', import.meta.url);
const { searchDoc } = await tsImport('../src/lib/search-text.ts', import.meta.url);
const { auditValuesOf } = await tsImport('../src/db/memories.ts', import.meta.url);

export const DEMO_IDS = {
  tenant: demoId('ten'),
  subscription: demoId('sub'),
  owner: demoId('usr'),
  memory: demoId('mem'),
  audit: demoId('aud'),
};

/** The demo memory, as `POST /v1/memories` would store it (the example tag `preferences` included). */
export const DEMO_MEMORY = {
  content: 'The user prefers dark mode and metric units.',
  tags: ['preferences', 'ui'],
  metadata: { app: 'support-bot' },
  importance: 7,
  access_scope: 'global',
};

const q = (v) => (v === null ? 'NULL' : `'${String(v).replaceAll("'", "''")}'`);

/** One SQL script for `wrangler d1 execute --command`. */
export function demoSeedSql(now = Date.now()) {
  const { tenant, subscription, owner, memory, audit } = DEMO_IDS;
  const m = DEMO_MEMORY;
  const tags = JSON.stringify(m.tags);
  const metadata = JSON.stringify(m.metadata);
  const none = { session_id: null, source: null, subject_id: null, agent_id: null, expires_at: null, embedding: null };
  const created = auditValuesOf({ ...none, ...m });
  return [
    // Earlier versions seeded the demo under 24-character ids the search index refused: drop that
    // tenant (its rows cascade) so the demo owner's token maps to the tenant below.
    `DELETE FROM tenants WHERE id = 'ten_${'0'.repeat(20)}DEM0';`,
    `INSERT OR IGNORE INTO tenants (id, name, plan, created_at, updated_at) VALUES (${q(tenant)}, ${q(DEMO.tenant)}, 'free', ${now}, ${now});`,
    `INSERT OR IGNORE INTO subscriptions (id, tenant_id, plan, status, current_period_start, current_period_end, created_at, updated_at) VALUES (${q(subscription)}, ${q(tenant)}, 'free', 'active', ${now}, ${now + 30 * 86400000}, ${now}, ${now});`,
    `INSERT OR IGNORE INTO users (id, tenant_id, auth0_id, email, name, role, kind, created_at, updated_at) VALUES (${q(owner)}, ${q(tenant)}, ${q(DEMO.sub)}, ${q(DEMO.email)}, 'Demo Owner', 'owner', 'person', ${now}, ${now});`,
    // Only when the memory's row was never there (a deleted demo memory stays deleted).
    `INSERT INTO audit_logs (id, tenant_id, user_id, action, resource_type, resource_id, new_values, request_id, created_at) SELECT ${q(audit)}, ${q(tenant)}, ${q(owner)}, 'memory.create', 'memory', ${q(memory)}, ${q(JSON.stringify(created))}, 'npm-start-seed', ${now} WHERE NOT EXISTS (SELECT 1 FROM memories WHERE id = ${q(memory)}) AND NOT EXISTS (SELECT 1 FROM audit_logs WHERE id = ${q(audit)});`,
    `INSERT OR IGNORE INTO memories (id, tenant_id, user_id, content, tags, metadata, importance, access_scope, search_doc, version, created_at, updated_at, changed_by, last_action) VALUES (${q(memory)}, ${q(tenant)}, ${q(owner)}, ${q(m.content)}, ${q(tags)}, ${q(metadata)}, ${m.importance}, ${q(m.access_scope)}, ${q(searchDoc(tenant, m.content, m.tags))}, 1, ${now}, ${now}, ${q(owner)}, 'memory.create');`,
  ].join(' ');
}
