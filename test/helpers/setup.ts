import { applyD1Migrations, env } from 'cloudflare:test';
import { shardDb, shardNames } from '../../src/db/directory';

// The real migration files, applied the way wrangler tracks them (idempotent across files).
// Every database: the directory (DB) and, in the sharded run, each shard.
for (const name of shardNames(env)) if (name !== 'DB') await applyD1Migrations(shardDb(env, name), env.TEST_MIGRATIONS);
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
