import { applyD1Migrations, env } from 'cloudflare:test';

// The real migration files, applied the way wrangler tracks them (idempotent across files).
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
