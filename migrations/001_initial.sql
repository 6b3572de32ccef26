-- Memoria core schema: tenants, users, memories (+ full-text index), audit logs.
--
-- Full-text search design (why the FTS table looks unusual):
-- A plain FTS5 index over every tenant's memories makes one tenant's search walk posting lists
-- that hold every other tenant's documents (measured on SQLite 3.40, 1M memories / 2,000 tenants,
-- common word, top 20: content-table FTS + tenant filter 149 ms; FTS5 tenant column filter
-- ~16 ms; tenant-prefixed tokens 5.4 ms). We index *tenant-prefixed tokens*: the Worker writes
-- memories.search_doc as "<tenantkey><token> <tenantkey><token> ..." (src/lib/search-text.ts), so
-- each token's posting list only ever holds that tenant's rows and a search costs what the
-- tenant's own data costs. memories_fts is an external-content table over search_doc, keyed by
-- memories.seq, an INTEGER PRIMARY KEY so the rowid FTS stores is stable (an implicit rowid may
-- be renumbered by VACUUM). Lookups join memories.seq = memories_fts.rowid (never the TEXT id).
-- Soft-deleted memories are removed from the index and re-added on restore.
--
-- Every statement is guarded (IF NOT EXISTS) so running the file twice is harmless. Triggers
-- hold a single statement each (wrangler's remote splitter has failed on complex bodies).

CREATE TABLE IF NOT EXISTS tenants (
  id           TEXT PRIMARY KEY CHECK (id LIKE 'ten\_%' ESCAPE '\'),
  name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  plan         TEXT NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'pro', 'team')),
  settings     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings) AND json_type(settings) = 'object'),
  -- live (not soft-deleted) memories; kept exact by the triggers below
  memory_count INTEGER NOT NULL DEFAULT 0 CHECK (memory_count >= 0),
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  deleted_at   INTEGER
);
CREATE INDEX IF NOT EXISTS tenants_deleted_at ON tenants (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS users (
  id         TEXT PRIMARY KEY CHECK (id LIKE 'usr\_%' ESCAPE '\'),
  tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  auth0_id   TEXT NOT NULL CHECK (length(auth0_id) BETWEEN 1 AND 255),
  email      TEXT NOT NULL COLLATE NOCASE CHECK (length(email) BETWEEN 3 AND 320 AND email LIKE '%_@_%'),
  name       TEXT CHECK (name IS NULL OR length(name) <= 200),
  role       TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'admin', 'member')),
  kind       TEXT NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'service')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deleted_at INTEGER
);
-- One live user per identity (the caller lookup on every request uses this index) and one live
-- user per email within a tenant; deleted users keep their rows for the audit trail.
CREATE UNIQUE INDEX IF NOT EXISTS users_auth0_id_live ON users (auth0_id) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS users_tenant_email_live ON users (tenant_id, email) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS users_tenant_created ON users (tenant_id, created_at, id);

CREATE TABLE IF NOT EXISTS memories (
  seq          INTEGER PRIMARY KEY,  -- stable rowid for memories_fts
  id           TEXT NOT NULL UNIQUE CHECK (id LIKE 'mem\_%' ESCAPE '\'),
  tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id      TEXT REFERENCES users (id) ON DELETE CASCADE,
  -- sessions is created in 003_add_sessions.sql; SQLite checks this reference at write time
  session_id   TEXT REFERENCES sessions (id),
  content      TEXT NOT NULL CHECK (length(content) BETWEEN 1 AND 32768),
  tags         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags) AND json_type(tags) = 'array'),
  metadata     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata) AND json_type(metadata) = 'object'),
  importance   INTEGER NOT NULL DEFAULT 5 CHECK (importance BETWEEN 1 AND 10),
  access_scope TEXT NOT NULL DEFAULT 'private' CHECK (access_scope IN ('private', 'session', 'global')),
  source       TEXT CHECK (source IS NULL OR length(source) BETWEEN 1 AND 200),
  embedding    TEXT CHECK (embedding IS NULL OR (json_valid(embedding) AND json_type(embedding) = 'array')),
  search_doc   TEXT NOT NULL DEFAULT '',
  version      INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  deleted_at   INTEGER,
  -- the seed's conditional scope check: a private memory has an author, a session one a session
  CHECK (
    (access_scope = 'private' AND user_id IS NOT NULL) OR
    (access_scope = 'session' AND session_id IS NOT NULL AND user_id IS NOT NULL) OR
    access_scope = 'global'
  )
);
-- Keyset pagination walks (tenant_id, created_at, id); live rows get their own partial index.
CREATE INDEX IF NOT EXISTS memories_tenant_created_live ON memories (tenant_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS memories_tenant_created_all ON memories (tenant_id, created_at, id);
CREATE INDEX IF NOT EXISTS memories_tenant_user_created ON memories (tenant_id, user_id, created_at, id);
CREATE INDEX IF NOT EXISTS memories_session ON memories (session_id) WHERE session_id IS NOT NULL;

CREATE VIRTUAL TABLE IF NOT EXISTS memories_fts USING fts5 (
  search_doc,
  content = 'memories',
  content_rowid = 'seq'
);

CREATE TRIGGER IF NOT EXISTS memories_fts_after_insert AFTER INSERT ON memories
WHEN NEW.deleted_at IS NULL
BEGIN
  INSERT INTO memories_fts (rowid, search_doc) VALUES (NEW.seq, NEW.search_doc);
END;

-- Content change, soft delete and restore: drop the old entry before, add the new one after.
CREATE TRIGGER IF NOT EXISTS memories_fts_before_update BEFORE UPDATE OF search_doc, deleted_at ON memories
WHEN OLD.deleted_at IS NULL
BEGIN
  INSERT INTO memories_fts (memories_fts, rowid, search_doc) VALUES ('delete', OLD.seq, OLD.search_doc);
END;

CREATE TRIGGER IF NOT EXISTS memories_fts_after_update AFTER UPDATE OF search_doc, deleted_at ON memories
WHEN NEW.deleted_at IS NULL
BEGIN
  INSERT INTO memories_fts (rowid, search_doc) VALUES (NEW.seq, NEW.search_doc);
END;

CREATE TRIGGER IF NOT EXISTS memories_fts_after_delete AFTER DELETE ON memories
WHEN OLD.deleted_at IS NULL
BEGIN
  INSERT INTO memories_fts (memories_fts, rowid, search_doc) VALUES ('delete', OLD.seq, OLD.search_doc);
END;

-- tenants.memory_count follows every insert, soft delete, restore and hard delete.
CREATE TRIGGER IF NOT EXISTS memories_count_after_insert AFTER INSERT ON memories
WHEN NEW.deleted_at IS NULL
BEGIN
  UPDATE tenants SET memory_count = memory_count + 1 WHERE id = NEW.tenant_id;
END;

CREATE TRIGGER IF NOT EXISTS memories_count_after_soft_delete AFTER UPDATE OF deleted_at ON memories
WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL
BEGIN
  UPDATE tenants SET memory_count = memory_count - 1 WHERE id = NEW.tenant_id;
END;

CREATE TRIGGER IF NOT EXISTS memories_count_after_restore AFTER UPDATE OF deleted_at ON memories
WHEN OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL
BEGIN
  UPDATE tenants SET memory_count = memory_count + 1 WHERE id = NEW.tenant_id;
END;

CREATE TRIGGER IF NOT EXISTS memories_count_after_delete AFTER DELETE ON memories
WHEN OLD.deleted_at IS NULL
BEGIN
  UPDATE tenants SET memory_count = memory_count - 1 WHERE id = OLD.tenant_id;
END;

CREATE TABLE IF NOT EXISTS audit_logs (
  id            TEXT PRIMARY KEY CHECK (id LIKE 'aud\_%' ESCAPE '\'),
  tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id       TEXT REFERENCES users (id) ON DELETE SET NULL,
  action        TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
  resource_type TEXT NOT NULL CHECK (length(resource_type) BETWEEN 1 AND 64),
  resource_id   TEXT,
  old_values    TEXT CHECK (old_values IS NULL OR json_valid(old_values)),
  new_values    TEXT CHECK (new_values IS NULL OR json_valid(new_values)),
  ip            TEXT,
  user_agent    TEXT,
  request_id    TEXT,
  created_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_logs_tenant_created ON audit_logs (tenant_id, created_at, id);
CREATE INDEX IF NOT EXISTS audit_logs_tenant_resource ON audit_logs (tenant_id, resource_type, resource_id, created_at);
CREATE INDEX IF NOT EXISTS audit_logs_tenant_user ON audit_logs (tenant_id, user_id, created_at);
CREATE INDEX IF NOT EXISTS audit_logs_tenant_action ON audit_logs (tenant_id, action, created_at);

-- The audit trail is append-only: no UPDATE ever, and rows go only with their tenant (erasure).
CREATE TRIGGER IF NOT EXISTS audit_logs_no_update BEFORE UPDATE ON audit_logs
BEGIN
  SELECT RAISE(ABORT, 'audit_logs are append-only');
END;

CREATE TRIGGER IF NOT EXISTS audit_logs_no_delete BEFORE DELETE ON audit_logs
WHEN EXISTS (SELECT 1 FROM tenants WHERE id = OLD.tenant_id)
BEGIN
  SELECT RAISE(ABORT, 'audit_logs are append-only');
END;
