-- MCP client sessions. memories.session_id (001) references this table.
CREATE TABLE IF NOT EXISTS sessions (
  id               TEXT PRIMARY KEY CHECK (id LIKE 'ses\_%' ESCAPE '\'),
  tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  mcp_client_id    TEXT NOT NULL CHECK (length(mcp_client_id) BETWEEN 1 AND 200),
  metadata         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata) AND json_type(metadata) = 'object'),
  created_at       INTEGER NOT NULL,
  last_activity_at INTEGER NOT NULL,
  expired_at       INTEGER,
  CHECK (last_activity_at >= created_at)
);
CREATE INDEX IF NOT EXISTS sessions_tenant_user_created ON sessions (tenant_id, user_id, created_at, id);
-- The expiry cron scans live sessions by idle time.
CREATE INDEX IF NOT EXISTS sessions_live_activity ON sessions (last_activity_at) WHERE expired_at IS NULL;
