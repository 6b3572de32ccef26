-- Sessions by tenant: the plan quota counts a tenant's live sessions, owners/admins list every
-- session of the tenant newest first, and the export walks them in (created_at, id) order.
CREATE INDEX IF NOT EXISTS sessions_tenant_live ON sessions (tenant_id) WHERE expired_at IS NULL;
CREATE INDEX IF NOT EXISTS sessions_tenant_created ON sessions (tenant_id, created_at, id);
