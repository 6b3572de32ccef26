-- usage_daily.memories_created / memories_deleted, kept exact by triggers on memories, so every
-- path that writes memories (API, import, cron) is counted in the same transaction as the write.
-- The day is the UTC day of the event. Requests, searches and rows read are counted by the Worker
-- (src/lib/usage-meter.ts). A restore is not an event here; a purge of an already soft-deleted
-- memory is not counted again. The EXISTS guard skips rows of a tenant being erased (its
-- usage_daily rows go with it). Single-statement triggers, IF NOT EXISTS (see 001).

CREATE TRIGGER IF NOT EXISTS usage_memories_after_insert AFTER INSERT ON memories
WHEN NEW.deleted_at IS NULL
BEGIN
  INSERT INTO usage_daily (tenant_id, day, memories_created)
  SELECT NEW.tenant_id, strftime('%Y-%m-%d', NEW.created_at / 1000, 'unixepoch'), 1
  WHERE EXISTS (SELECT 1 FROM tenants WHERE id = NEW.tenant_id)
  ON CONFLICT (tenant_id, day) DO UPDATE SET memories_created = memories_created + 1;
END;

CREATE TRIGGER IF NOT EXISTS usage_memories_after_soft_delete AFTER UPDATE OF deleted_at ON memories
WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL
BEGIN
  INSERT INTO usage_daily (tenant_id, day, memories_deleted)
  SELECT NEW.tenant_id, strftime('%Y-%m-%d', NEW.deleted_at / 1000, 'unixepoch'), 1
  WHERE EXISTS (SELECT 1 FROM tenants WHERE id = NEW.tenant_id)
  ON CONFLICT (tenant_id, day) DO UPDATE SET memories_deleted = memories_deleted + 1;
END;

CREATE TRIGGER IF NOT EXISTS usage_memories_after_delete AFTER DELETE ON memories
WHEN OLD.deleted_at IS NULL
BEGIN
  INSERT INTO usage_daily (tenant_id, day, memories_deleted)
  SELECT OLD.tenant_id, strftime('%Y-%m-%d', 'now'), 1
  WHERE EXISTS (SELECT 1 FROM tenants WHERE id = OLD.tenant_id AND deleted_at IS NULL)
  ON CONFLICT (tenant_id, day) DO UPDATE SET memories_deleted = memories_deleted + 1;
END;
