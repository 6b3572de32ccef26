-- Recall: embeddings (vectors for semantic search) and tenant-local keyword statistics.
--
-- SQLite has no ADD COLUMN IF NOT EXISTS: re-running an ALTER below fails with "duplicate column
-- name" and changes nothing; every other statement is guarded.
--
-- A tenant chooses its vector dimensions (and, for server-side embedding, a model).
-- memories.embedding keeps the vector as sent (JSON, returned with include=embedding);
-- memories.vector is the search copy: float32 little-endian, 4 bytes per dimension.
-- embedding_status: NULL (no vector), 'current', or 'stale' (the content changed after it was
-- embedded: kept, but left out of semantic search until a new vector is sent).
-- tenants.vector_count: stored vectors (any memory row with one, deleted or not), bounded per
-- tenant for the embedded d1 engine.
ALTER TABLE tenants ADD COLUMN embedding_dimensions INTEGER CHECK (embedding_dimensions IS NULL OR embedding_dimensions BETWEEN 2 AND 4096);
ALTER TABLE tenants ADD COLUMN embedding_model TEXT CHECK (embedding_model IS NULL OR length(embedding_model) BETWEEN 1 AND 200);
ALTER TABLE tenants ADD COLUMN vector_count INTEGER NOT NULL DEFAULT 0 CHECK (vector_count >= 0);
ALTER TABLE memories ADD COLUMN vector BLOB;
ALTER TABLE memories ADD COLUMN embedding_status TEXT CHECK (embedding_status IS NULL OR embedding_status IN ('current', 'stale'));
-- Semantic search scans the tenant's searchable vectors only.
CREATE INDEX IF NOT EXISTS memories_tenant_vectors ON memories (tenant_id, seq) WHERE vector IS NOT NULL AND embedding_status = 'current' AND deleted_at IS NULL;
CREATE TRIGGER IF NOT EXISTS memories_vector_count_after_insert AFTER INSERT ON memories
WHEN NEW.vector IS NOT NULL
BEGIN
  UPDATE tenants SET vector_count = vector_count + 1 WHERE id = NEW.tenant_id;
END;
CREATE TRIGGER IF NOT EXISTS memories_vector_count_after_update AFTER UPDATE OF vector ON memories
WHEN (OLD.vector IS NULL) <> (NEW.vector IS NULL)
BEGIN
  UPDATE tenants SET vector_count = vector_count + (NEW.vector IS NOT NULL) - (OLD.vector IS NOT NULL) WHERE id = NEW.tenant_id;
END;
CREATE TRIGGER IF NOT EXISTS memories_vector_count_after_delete AFTER DELETE ON memories
WHEN OLD.vector IS NOT NULL
BEGIN
  UPDATE tenants SET vector_count = vector_count - 1 WHERE id = OLD.tenant_id;
END;

-- memories_fts_terms exposes, per indexed token, how many memories hold it (fts5vocab 'row').
-- Tokens are tenant-prefixed (see 001), so a token's row counts one tenant's memories only:
-- keyword scores use it for BM25's document frequency, and never FTS5's global statistics
-- (document count and average length over every tenant), which moved when other tenants wrote.
CREATE VIRTUAL TABLE IF NOT EXISTS memories_fts_terms USING fts5vocab ('memories_fts', 'row');
