-- Integrations: the integrator's end user (subject_id) and agent (agent_id) on each memory, expiry
-- (expires_at, epoch ms), and earlier versions of each memory (memory_versions).
--
-- SQLite has no ADD COLUMN IF NOT EXISTS: re-running an ALTER below fails with "duplicate column
-- name" and changes nothing; every other statement is guarded.
ALTER TABLE memories ADD COLUMN subject_id TEXT CHECK (subject_id IS NULL OR length(subject_id) BETWEEN 1 AND 128);
ALTER TABLE memories ADD COLUMN agent_id TEXT CHECK (agent_id IS NULL OR length(agent_id) BETWEEN 1 AND 128);
ALTER TABLE memories ADD COLUMN expires_at INTEGER;
-- Who made the current version and how: copied into memory_versions when the next change replaces it.
ALTER TABLE memories ADD COLUMN changed_by TEXT;
ALTER TABLE memories ADD COLUMN last_action TEXT;

-- A list or search filtered by subject or agent walks only that subject's (agent's) rows, in the
-- list's keyset order.
CREATE INDEX IF NOT EXISTS memories_tenant_subject_created ON memories (tenant_id, subject_id, created_at, id) WHERE subject_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS memories_tenant_agent_created ON memories (tenant_id, agent_id, created_at, id) WHERE agent_id IS NOT NULL;
-- The expiry cron takes the oldest expired rows first; the live count subtracts a tenant's
-- expired rows the cron has not purged yet (src/db/expiry.ts).
CREATE INDEX IF NOT EXISTS memories_expires ON memories (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS memories_tenant_expires_live ON memories (tenant_id, expires_at) WHERE expires_at IS NOT NULL AND deleted_at IS NULL;

-- One row per replaced version: the memory's state before a change, written in the change's own
-- batch. Goes with its memory (purge, expiry, tenant erasure).
CREATE TABLE IF NOT EXISTS memory_versions (
  memory_id    TEXT NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
  tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  version      INTEGER NOT NULL CHECK (version >= 1),
  content      TEXT NOT NULL,
  tags         TEXT NOT NULL CHECK (json_valid(tags)),
  metadata     TEXT NOT NULL CHECK (json_valid(metadata)),
  importance   INTEGER NOT NULL,
  access_scope TEXT NOT NULL,
  subject_id   TEXT,
  agent_id     TEXT,
  expires_at   INTEGER,
  search_doc   TEXT NOT NULL DEFAULT '',
  changed_at   INTEGER NOT NULL,
  changed_by   TEXT,
  action       TEXT,
  PRIMARY KEY (memory_id, version)
);

-- Memories removed by the expiry cron, per UTC day (also counted in memories_deleted when live).
ALTER TABLE usage_daily ADD COLUMN memories_expired INTEGER NOT NULL DEFAULT 0 CHECK (memories_expired >= 0);
