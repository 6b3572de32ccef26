-- Daily usage counters per tenant. Rows are upserted (counter += n), never one per request.
CREATE TABLE IF NOT EXISTS usage_daily (
  tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  day              TEXT NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
  requests         INTEGER NOT NULL DEFAULT 0 CHECK (requests >= 0),
  memories_created INTEGER NOT NULL DEFAULT 0 CHECK (memories_created >= 0),
  memories_deleted INTEGER NOT NULL DEFAULT 0 CHECK (memories_deleted >= 0),
  searches         INTEGER NOT NULL DEFAULT 0 CHECK (searches >= 0),
  rows_read        INTEGER NOT NULL DEFAULT 0 CHECK (rows_read >= 0),
  PRIMARY KEY (tenant_id, day)
) WITHOUT ROWID;
