-- The directory: which shard holds each identity and each tenant. It lives in the DB binding.
-- Shards are the SHARD_0…SHARD_{N-1} bindings; without them DB is the directory and the only
-- shard (the embedded default). Every database gets the same migrations, so on a shard-only
-- database these two tables stay empty.
-- The directory is a routing hint and a uniqueness reservation: the shard's own users row stays
-- the authority, and an entry the shard does not confirm may be reclaimed (src/db/directory.ts).
CREATE TABLE IF NOT EXISTS directory_identities (
  auth0_id   TEXT PRIMARY KEY CHECK (length(auth0_id) BETWEEN 1 AND 255),
  tenant_id  TEXT NOT NULL,
  shard      TEXT NOT NULL,
  state      TEXT NOT NULL CHECK (state IN ('pending', 'active')),
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS directory_identities_tenant ON directory_identities (tenant_id);

-- `pending` holds what provisioning needs to finish the tenant (JSON) while state = 'provisioning'.
CREATE TABLE IF NOT EXISTS directory_tenants (
  tenant_id  TEXT PRIMARY KEY,
  shard      TEXT NOT NULL,
  state      TEXT NOT NULL CHECK (state IN ('provisioning', 'active')),
  pending    TEXT CHECK (pending IS NULL OR json_valid(pending)),
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS directory_tenants_state ON directory_tenants (state, updated_at);

-- A database from before shards holds every tenant: its tenants and identities live on it (DB).
INSERT OR IGNORE INTO directory_tenants (tenant_id, shard, state, updated_at)
SELECT id, 'DB', 'active', updated_at FROM tenants;

INSERT OR IGNORE INTO directory_identities (auth0_id, tenant_id, shard, state, updated_at)
SELECT auth0_id, tenant_id, 'DB', 'active', updated_at FROM users WHERE deleted_at IS NULL;
