-- An owner or admin revokes a pending invitation: it stays listed (status revoked) and can no
-- longer be accepted. SQLite has no ADD COLUMN IF NOT EXISTS; wrangler applies this file once.
ALTER TABLE invitations ADD COLUMN revoked_at INTEGER;
