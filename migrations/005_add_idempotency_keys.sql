-- Stored responses for Idempotency-Key replays, per tenant, kept 24 h (purged by the cron).
CREATE TABLE IF NOT EXISTS idempotency_keys (
  tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  key           TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_hash  TEXT NOT NULL,
  status        INTEGER NOT NULL,
  response_body TEXT NOT NULL,
  headers       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(headers)),
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_keys_expires ON idempotency_keys (expires_at);
