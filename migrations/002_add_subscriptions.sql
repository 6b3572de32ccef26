-- One subscription per tenant; tenants.plan mirrors subscriptions.plan and both are written in
-- one batch (src/db/subscriptions.ts).
CREATE TABLE IF NOT EXISTS subscriptions (
  id                   TEXT PRIMARY KEY CHECK (id LIKE 'sub\_%' ESCAPE '\'),
  tenant_id            TEXT NOT NULL UNIQUE REFERENCES tenants (id) ON DELETE CASCADE,
  plan                 TEXT NOT NULL CHECK (plan IN ('free', 'pro', 'team')),
  status               TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'trialing', 'past_due', 'canceled')),
  current_period_start INTEGER NOT NULL,
  current_period_end   INTEGER NOT NULL CHECK (current_period_end > current_period_start),
  created_at           INTEGER NOT NULL,
  updated_at           INTEGER NOT NULL
);
