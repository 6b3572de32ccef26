-- Webhooks: endpoints that receive the change feed (memory_changes, migrations/012) as signed
-- Standard Webhooks messages. Each endpoint keeps its own cursor into the feed, advanced only
-- after the receiver answered 2xx, so the feed is the outbox: nothing is lost, and a message is
-- repeated (same webhook-id) only when a delivery run dies between the send and the cursor write.
CREATE TABLE IF NOT EXISTS webhook_endpoints (
  id                         TEXT PRIMARY KEY,
  tenant_id                  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  url                        TEXT NOT NULL,
  description                TEXT,
  -- JSON array of event types; NULL = every event.
  events                     TEXT CHECK (events IS NULL OR json_valid(events)),
  enabled                    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  -- Why delivery stopped on its own ('failing'); NULL when enabled or disabled by a person.
  disabled_reason            TEXT,
  secret                     TEXT NOT NULL,
  -- The secret before the last rotation: it still signs until previous_secret_expires_at.
  previous_secret            TEXT,
  previous_secret_expires_at INTEGER,
  -- The last memory_changes.seq delivered (or skipped by the events filter).
  cursor                     INTEGER NOT NULL DEFAULT 0,
  -- Consecutive failed attempts of the message at the cursor, and when it is tried next.
  failure_count              INTEGER NOT NULL DEFAULT 0,
  next_attempt_at            INTEGER,
  created_at                 INTEGER NOT NULL,
  updated_at                 INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS webhook_endpoints_tenant ON webhook_endpoints (tenant_id, created_at, id);

-- One row per delivery attempt (GET /v1/webhooks/{id}/deliveries), listed in rowid order (the
-- order of insertion: ids made in the same millisecond do not sort by time); pruned by the cron.
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id              TEXT PRIMARY KEY,
  tenant_id       TEXT NOT NULL,
  endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  message_id      TEXT NOT NULL,
  event_type      TEXT NOT NULL,
  seq             INTEGER,
  attempt         INTEGER NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
  response_status INTEGER,
  error           TEXT,
  duration_ms     INTEGER NOT NULL,
  next_retry_at   INTEGER,
  created_at      INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id);
CREATE INDEX IF NOT EXISTS webhook_deliveries_created ON webhook_deliveries (created_at);
CREATE INDEX IF NOT EXISTS webhook_deliveries_tenant ON webhook_deliveries (tenant_id);
