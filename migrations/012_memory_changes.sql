-- The change feed (GET /v1/changes): one row per change to a memory, written by triggers on
-- `memories`, so every write path (routes, bulk delete, expiry cron, user removal, import, version
-- restore, and any later one) records its changes inside its own statement: no extra round trip.
-- seq is AUTOINCREMENT (never reused) and D1 has a single writer, so seq order is commit order.
-- `memory` is the state after the change (raw column values as JSON, no embedding); NULL for the
-- purge and expiry tombstones. access_scope/user_id are the memory's scope after the change: once
-- the memory row is gone, its latest change decides who sees its entries. No foreign key to tenants: the tenant
-- erasure chunk-deletes these rows itself (src/db/retention.ts), and a cascade would race the
-- DELETE trigger's own insert.
CREATE TABLE IF NOT EXISTS memory_changes (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id    TEXT NOT NULL,
  memory_id    TEXT NOT NULL,
  type         TEXT NOT NULL,
  occurred_at  INTEGER NOT NULL,
  access_scope TEXT NOT NULL,
  user_id      TEXT,
  memory       TEXT CHECK (memory IS NULL OR json_valid(memory))
);

-- A page is a range of one tenant's seqs; the cron prunes by age.
CREATE INDEX IF NOT EXISTS memory_changes_tenant_seq ON memory_changes (tenant_id, seq);
CREATE INDEX IF NOT EXISTS memory_changes_occurred ON memory_changes (occurred_at);
-- Who may see a tombstone follows the memory's latest change (src/db/changes.ts).
CREATE INDEX IF NOT EXISTS memory_changes_memory_seq ON memory_changes (memory_id, seq);

-- Inserts: the API's creates set last_action; POST /v1/import does not (it copies exported columns).
CREATE TRIGGER IF NOT EXISTS memory_changes_insert AFTER INSERT ON memories
BEGIN
  INSERT INTO memory_changes (tenant_id, memory_id, type, occurred_at, access_scope, user_id, memory)
  VALUES (NEW.tenant_id, NEW.id, CASE WHEN NEW.last_action IS NULL THEN 'import' ELSE 'create' END,
    CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), NEW.access_scope, NEW.user_id,
    json_object('id', NEW.id, 'user_id', NEW.user_id, 'session_id', NEW.session_id, 'content', NEW.content, 'tags', NEW.tags,
      'metadata', NEW.metadata, 'importance', NEW.importance, 'access_scope', NEW.access_scope, 'source', NEW.source,
      'subject_id', NEW.subject_id, 'agent_id', NEW.agent_id, 'expires_at', NEW.expires_at, 'embedding_status', NEW.embedding_status, 'version', NEW.version,
      'created_at', NEW.created_at, 'updated_at', NEW.updated_at, 'deleted_at', NEW.deleted_at));
END;

-- Only columns the API shows. The type comes from last_action, which every writer sets with the
-- version it bumps ('memory.tags_add' -> 'tags_add', ...); an update that does not bump the version
-- (e.g. a removed user's memories losing user_id) is an 'update'.
CREATE TRIGGER IF NOT EXISTS memory_changes_update AFTER UPDATE OF user_id, session_id, content, tags, metadata, importance,
  access_scope, source, subject_id, agent_id, expires_at, version, deleted_at ON memories
BEGIN
  INSERT INTO memory_changes (tenant_id, memory_id, type, occurred_at, access_scope, user_id, memory)
  VALUES (NEW.tenant_id, NEW.id,
    CASE WHEN NEW.version IS NOT OLD.version AND NEW.last_action LIKE 'memory.%' THEN substr(NEW.last_action, 8) ELSE 'update' END,
    CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), NEW.access_scope, NEW.user_id,
    json_object('id', NEW.id, 'user_id', NEW.user_id, 'session_id', NEW.session_id, 'content', NEW.content, 'tags', NEW.tags,
      'metadata', NEW.metadata, 'importance', NEW.importance, 'access_scope', NEW.access_scope, 'source', NEW.source,
      'subject_id', NEW.subject_id, 'agent_id', NEW.agent_id, 'expires_at', NEW.expires_at, 'embedding_status', NEW.embedding_status, 'version', NEW.version,
      'created_at', NEW.created_at, 'updated_at', NEW.updated_at, 'deleted_at', NEW.deleted_at));
END;

-- A row deleted after its expiry passed is an 'expire' (the cron, or a purge of an already
-- expired memory: both leave the same tombstone); any other delete is a 'purge'.
CREATE TRIGGER IF NOT EXISTS memory_changes_delete AFTER DELETE ON memories
BEGIN
  INSERT INTO memory_changes (tenant_id, memory_id, type, occurred_at, access_scope, user_id, memory)
  VALUES (OLD.tenant_id, OLD.id,
    CASE WHEN OLD.expires_at IS NOT NULL AND OLD.expires_at <= CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) THEN 'expire' ELSE 'purge' END,
    CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), OLD.access_scope, OLD.user_id, NULL);
END;
