// Types the `env` of `cloudflare:test`: the Worker's bindings plus the test-only ones.
type WorkerEnv = import('../src/env').Env;
type D1MigrationList = import('cloudflare:test').D1Migration[];

declare namespace Cloudflare {
  interface Env extends WorkerEnv {
    TEST_MIGRATIONS: D1MigrationList;
    TEST_PRIVATE_JWK: string;
    TEST_PUBLIC_JWK: string;
    TEST_UNTRUSTED_PRIVATE_JWK: string;
    FUZZ_SEED: string;
  }
}
