-- Tags, normalized: one row per (memory, tag), so a tag filter walks that tag's rows in list order
-- (tenant, tag, created_at, id) instead of every memory's JSON tags. memories.tags stays the
-- source of truth (returned, exported, audited); triggers keep this table in step with it on every
-- write path, import included, and the cascade removes a memory's rows with it.
CREATE TABLE IF NOT EXISTS memory_tags (
  memory_seq INTEGER NOT NULL REFERENCES memories (seq) ON DELETE CASCADE,
  tag        TEXT NOT NULL,
  tenant_id  TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  memory_id  TEXT NOT NULL,
  PRIMARY KEY (memory_seq, tag)
);
CREATE INDEX IF NOT EXISTS memory_tags_tenant_tag_created ON memory_tags (tenant_id, tag, created_at, memory_id);
CREATE TRIGGER IF NOT EXISTS memory_tags_after_insert AFTER INSERT ON memories
BEGIN
  INSERT OR IGNORE INTO memory_tags (memory_seq, tag, tenant_id, created_at, memory_id) SELECT NEW.seq, value, NEW.tenant_id, NEW.created_at, NEW.id FROM json_each(NEW.tags);
END;
CREATE TRIGGER IF NOT EXISTS memory_tags_after_tags_removed AFTER UPDATE OF tags ON memories
BEGIN
  DELETE FROM memory_tags WHERE memory_seq = NEW.seq AND tag NOT IN (SELECT value FROM json_each(NEW.tags));
END;
CREATE TRIGGER IF NOT EXISTS memory_tags_after_tags_added AFTER UPDATE OF tags ON memories
BEGIN
  INSERT OR IGNORE INTO memory_tags (memory_seq, tag, tenant_id, created_at, memory_id) SELECT NEW.seq, value, NEW.tenant_id, NEW.created_at, NEW.id FROM json_each(NEW.tags);
END;
-- Memories stored before this migration.
INSERT OR IGNORE INTO memory_tags (memory_seq, tag, tenant_id, created_at, memory_id) SELECT m.seq, t.value, m.tenant_id, m.created_at, m.id FROM memories m, json_each(m.tags) t;
