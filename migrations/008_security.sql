-- Security and data integrity.
--
-- Imported audit rows are told apart from the tenant's own trail: POST /v1/import records, for
-- every audit row it writes, the importing request and time. Native rows have no entry here.
-- Append-only like audit_logs; rows go with their audit row (and their tenant).
CREATE TABLE IF NOT EXISTS audit_log_imports (
  audit_id    TEXT PRIMARY KEY REFERENCES audit_logs (id) ON DELETE CASCADE,
  tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  request_id  TEXT NOT NULL CHECK (length(request_id) BETWEEN 1 AND 128),
  imported_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS audit_log_imports_no_update BEFORE UPDATE ON audit_log_imports
BEGIN
  SELECT RAISE(ABORT, 'audit_log_imports are append-only');
END;

CREATE TRIGGER IF NOT EXISTS audit_log_imports_no_delete BEFORE DELETE ON audit_log_imports
WHEN EXISTS (SELECT 1 FROM tenants WHERE id = OLD.tenant_id)
BEGIN
  SELECT RAISE(ABORT, 'audit_log_imports are append-only');
END;
CREATE INDEX IF NOT EXISTS audit_log_imports_tenant ON audit_log_imports (tenant_id, audit_id);

-- Audit-log filters read only what matches: one index per filter, ending in the list's order
-- (created_at, id), so a filter that matches nothing reads nothing however long the log grows.
-- They replace the indexes of 001 that lacked the id (the list's tie-break) or led with the type.
CREATE INDEX IF NOT EXISTS audit_logs_tenant_action_order ON audit_logs (tenant_id, action, created_at, id);
CREATE INDEX IF NOT EXISTS audit_logs_tenant_resource_order ON audit_logs (tenant_id, resource_id, created_at, id);
CREATE INDEX IF NOT EXISTS audit_logs_tenant_user_order ON audit_logs (tenant_id, user_id, created_at, id);
CREATE INDEX IF NOT EXISTS audit_logs_tenant_type_order ON audit_logs (tenant_id, resource_type, created_at, id);
DROP INDEX IF EXISTS audit_logs_tenant_action;
DROP INDEX IF EXISTS audit_logs_tenant_resource;
DROP INDEX IF EXISTS audit_logs_tenant_user;

-- Invitations: a person joins a tenant only by accepting, with their own token, an invitation
-- matched on its `sub` or on the token's verified email. Until then the identity is not bound.
CREATE TABLE IF NOT EXISTS invitations (
  id          TEXT PRIMARY KEY CHECK (id LIKE 'inv\_%' ESCAPE '\'),
  tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  email       TEXT NOT NULL COLLATE NOCASE CHECK (length(email) BETWEEN 3 AND 320 AND email LIKE '%_@_%'),
  auth0_id    TEXT CHECK (auth0_id IS NULL OR length(auth0_id) BETWEEN 1 AND 255),
  name        TEXT CHECK (name IS NULL OR length(name) <= 200),
  role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  invited_by  TEXT REFERENCES users (id) ON DELETE SET NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL CHECK (expires_at > created_at),
  accepted_at INTEGER,
  user_id     TEXT REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS invitations_tenant_created ON invitations (tenant_id, created_at, id);
